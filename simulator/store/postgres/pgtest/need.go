package pgtest

import "github.com/kgsim/kgsim/simulator/envtest"

// Need is PostgreSQL as a need of a package's tests, for its TestMain's
// envtest.Report: missing when Main finds no binaries to start a cluster
// with.
func Need() envtest.Need {
	return envtest.Need{Name: "PostgreSQL", Missing: func() string {
		if _, err := Binaries(); err != nil {
			return err.Error() + " (set KGSIM_REQUIRE_POSTGRES=1 to fail instead)"
		}
		return ""
	}}
}
