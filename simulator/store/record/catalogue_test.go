package record

import (
	"reflect"
	"testing"

	"github.com/kgsim/kgsim/simulator"
)

// Debug cases are copied field by field into debugCaseDoc; a field added
// to DebugCase must be added there too, or it would not be stored.
func TestDebugCaseDocHasEveryField(t *testing.T) {
	if n, m := reflect.TypeFor[simulator.DebugCase]().NumField(), reflect.TypeFor[debugCaseDoc]().NumField(); n != m {
		t.Errorf("DebugCase has %d fields, debugCaseDoc %d", n, m)
	}
}
