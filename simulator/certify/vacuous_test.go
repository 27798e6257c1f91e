package certify

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/steps"
)

// A service that implements nothing, answering every call 404 or 501 as
// python3 -m http.server does, passes no required check: a 501 is no
// refusal of an unknown renewal or freeze, a forged call refused like
// every other shows nothing, a merchant that never took an order does not
// pass for losing one. The report names the cause to fix first once and
// shows each cause's request once, not once per check.
func TestNothingImplementedPassesNothing(t *testing.T) {
	every := []simulator.ChargingMode{simulator.Period, simulator.OnDemand, simulator.OnDemandPkg}
	for _, status := range []int{http.StatusNotFound, http.StatusNotImplemented} {
		for _, p := range []simulator.Protocol{simulator.V2, simulator.V1} {
			t.Run(fmt.Sprint(status, p), func(t *testing.T) {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					http.Error(w, http.StatusText(status), status)
				}))
				defer srv.Close()
				target := steps.Target{URL: srv.URL + "/produce", AccessKey: testKey, Protocol: p, Modes: every, Trial: true, License: true, Upgrade: true}
				r, out := run(t, Options{Steps: vocabulary(target)})
				for _, s := range r.Scenarios {
					if s.Level == Required && s.Status == Passed {
						t.Errorf("%s passed against a service that implements nothing", s.Name)
					}
				}
				causes := r.causes(true)
				if len(causes) != 1 || causes[0].Cause != fmt.Sprintf("the merchant answers HTTP %d, not 200 with a resultCode", status) {
					t.Errorf("causes %+v, want the HTTP status alone", causes)
				}
				if n := strings.Count(out, "fix this first"); n != 1 {
					t.Errorf("\"fix this first\" %d times:\n%s", n, out)
				}
				if n := strings.Count(out, "  request:  "); n != 1 {
					t.Errorf("%d requests shown in full, want the cause's one:\n%s", n, out)
				}
			})
		}
	}
}
