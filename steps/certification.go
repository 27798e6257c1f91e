package steps

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cucumber/godog"
	"github.com/kgsim/kgsim/features"
	"github.com/kgsim/kgsim/simulator"
)

// Certification is the vocabulary bound to a merchant under test, as
// certify.Run takes it (certify.Vocabulary): the scenarios of package
// features, these steps, and what the target declares, which decides the
// scenarios that run.
type Certification struct {
	t Target
}

// NewCertification binds the vocabulary to t. A target that names no
// charging mode but gives a catalogue declares the catalogue's.
func NewCertification(t Target) *Certification {
	if len(t.Modes) == 0 && len(t.Products) > 0 {
		modes, trial, license := CatalogueModes(t.Products)
		t.Modes, t.Trial, t.License = modes, t.Trial || trial, t.License || license
	}
	return &Certification{t: t}
}

// Features are the scenarios of package features.
func (c *Certification) Features() fs.FS { return features.FS }

// Matching returns the patterns of the steps text matches (Matching).
func (c *Certification) Matching(text string) []string { return Matching(text) }

// Register adds the steps to a scenario, for the target (Register).
func (c *Certification) Register(sc *godog.ScenarioContext) { Register(sc, c.t) }

// RootCause is what a failed step's error comes down to (RootCause).
func (c *Certification) RootCause(err error) (string, bool) { return RootCause(err) }

// Check says what is wrong with the target's catalogue (CheckCatalogue).
func (c *Certification) Check() error { return c.t.CheckCatalogue() }

// Merchant is the target's production interface and the marketplace's
// limit on its answers.
func (c *Certification) Merchant() (string, time.Duration) {
	t := c.t.withDefaults()
	return t.URL, t.Timeout
}

// Declares is what the target declares, as reports say it.
func (c *Certification) Declares() (protocol, modes, encryptType, joint string) {
	t := c.t.withDefaults()
	protocol, encryptType = strings.ToUpper(string(t.Protocol)), t.EncryptType
	if encryptType == "" {
		encryptType = "1"
	}
	var declared []string
	for _, m := range modeTags {
		if m.declared(t) {
			declared = append(declared, strings.TrimPrefix(m.tag, "@"))
		}
	}
	var jointly []string
	for _, tag := range JointTags() {
		if ok, _ := t.Joint(tag); ok {
			jointly = append(jointly, strings.TrimPrefix(tag, "@"))
		}
	}
	if len(jointly) == 0 {
		jointly = []string{"none"}
	}
	return protocol, strings.Join(declared, ","), encryptType, strings.Join(jointly, ",")
}

// Excluded are the tags of the scenarios that certify nothing the target
// declares: the other protocol's, the charging modes and kinds it does not
// declare, the joint-operation checks it gives no settings for (Joint),
// the open APIs' when the run serves none, the License software's
// without its entry, and the generic order notification's without a
// product on it.
func (c *Certification) Excluded() []string {
	t := c.t.withDefaults()
	out := []string{"@v1"}
	if t.Protocol == simulator.V1 {
		out = []string{"@v2"}
	}
	for _, m := range modeTags {
		if !m.declared(t) {
			out = append(out, m.tag)
		}
	}
	for _, tag := range JointTags() {
		if declared, _ := t.Joint(tag); !declared {
			out = append(out, tag)
		}
	}
	if t.OpenAPI == nil {
		out = append(out, "@open-api")
	}
	if t.LicenseURL == "" {
		out = append(out, "@license-software")
	}
	if !t.NotifiesOrders() {
		out = append(out, "@order-notify")
	}
	return out
}

// ServeOpenAPI makes the run's open APIs (NewOpenAPI), kept in a store
// the target opens, and has the scenarios use them.
func (c *Certification) ServeOpenAPI(ctx context.Context, ak, sk string) (http.Handler, func() error, error) {
	if c.t.OpenStore == nil {
		return nil, nil, errors.New("the target gives no OpenStore to keep the open APIs' seller in")
	}
	api, err := NewOpenAPI(ctx, ak, sk, c.t.OpenStore)
	if err != nil {
		return nil, nil, err
	}
	c.t.OpenAPI = api
	return api, api.Close, nil
}

// modeTags are the charging-mode and kind tags of the features and
// whether a target (with its defaults) declares each. A merchant is never
// failed for a mode it does not sell (callbacks.md §13).
var modeTags = []struct {
	tag      string
	declared func(t Target) bool
}{
	{"@period", func(t Target) bool { return slices.Contains(t.Modes, simulator.Period) }},
	// A trial is of a product sold by period.
	{"@trial", func(t Target) bool { return slices.Contains(t.Modes, simulator.Period) && t.Trial }},
	{"@on-demand", func(t Target) bool { return slices.Contains(t.Modes, simulator.OnDemand) }},
	{"@package", func(t Target) bool { return slices.Contains(t.Modes, simulator.OnDemandPkg) }},
	{"@license", func(t Target) bool { return t.License }},
	// Upgrades are optional for a merchant (callbacks.md §2.1).
	{"@upgrade", func(t Target) bool { return t.Upgrade }},
}
