package httpapi

import (
	"os"
	"testing"

	"github.com/kgsim/kgsim/simulator/browsertest"
	"github.com/kgsim/kgsim/simulator/envtest"
)

// TestMain says, without -v, when the console's browser tests skipped.
func TestMain(m *testing.M) {
	os.Exit(envtest.Report(m.Run(), "simulator/httpapi", browsertest.Need()))
}
