package certify

import (
	"context"
	"io/fs"
	"net/http"
	"time"

	"github.com/cucumber/godog"
)

// Vocabulary is the scenarios and step definitions a run uses, bound to
// the merchant under test: package steps makes it
// (steps.NewCertification), kgsim certify gives it. Run knows no step and
// no feature of its own, so that the simulator's packages do not depend
// on the vocabulary, which depends on them.
type Vocabulary interface {
	// Features are the scenarios: one .feature file per concern.
	Features() fs.FS
	// Matching returns the patterns of the step definitions a step's
	// text (without its keyword) matches: none is an undefined step, two
	// an ambiguous one.
	Matching(text string) []string
	// Register adds the step definitions to a scenario.
	Register(sc *godog.ScenarioContext)
	// RootCause is what a failed step's error comes down to, for the
	// reports to group failures by; blocked when the check could not be
	// made because of it. An error that is no check's failure has none.
	RootCause(err error) (cause string, blocked bool)

	// Check says what is wrong with what the merchant declares, before
	// anything runs; nil when nothing is.
	Check() error
	// Merchant is the merchant's production interface and how long the
	// marketplace waits for its answers.
	Merchant() (url string, timeout time.Duration)
	// Declares is what the merchant declares, as reports say it: its
	// protocol ("V1", "V2"), charging modes and kinds ("period,trial"),
	// AES variant ("1", "2") and joint operation ("kit,login"; "none").
	Declares() (protocol, modes, encryptType, joint string)
	// Excluded are the tags of the scenarios that certify nothing the
	// merchant declares, which the run leaves out.
	Excluded() []string
	// ServeOpenAPI makes the marketplace's open APIs for a merchant that
	// signs its calls with ak/sk, and has the scenarios that need them
	// use them; api answers the merchant's calls, and close releases
	// them once the run is over.
	ServeOpenAPI(ctx context.Context, ak, sk string) (api http.Handler, close func() error, err error)
}
