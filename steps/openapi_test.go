package steps_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/fixtures/merchant"
	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/steps"
)

// The seller's pair the sample merchant signs its open-API calls with in
// these runs.
const sellerAK, sellerSK = "KGSIM-CERT-AK-0001", "kgsim-cert-sk-4f1c9a"

// serveOpenAPI serves a run's open APIs on loopback and returns them, their
// address and the seller's AK/SK.
func serveOpenAPI(t testing.TB) (*steps.OpenAPI, string, string, string) {
	t.Helper()
	api, err := steps.NewOpenAPI(context.Background(), sellerAK, sellerSK, memoryStore)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(func() {
		srv.Close()
		api.Close()
	})
	return api, srv.URL, sellerAK, sellerSK
}

// openAPIScenarios are the scenarios of the open APIs.
var openAPIScenarios = []string{
	"A V2 purchase is provisioned from the order query",
	"The usage the merchant pushes is accepted (on-demand product)",
	"The usage the merchant pushes is accepted (package product)",
	"The License software activates a code and checks it",
}

// The sample merchant in its open-API mode (V2 purchases provisioned from
// the order query, usage pushed, the License software) passes every
// scenario, the open APIs' included; without the open APIs, theirs do not
// run.
func TestSampleMerchantCallsTheOpenAPIs(t *testing.T) {
	for _, p := range []simulator.Protocol{simulator.V2, simulator.V1} {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			r := runSuite(t, merchant.Config{QueryOrders: p == simulator.V2, UsageEvery: 100 * time.Millisecond}, everything(p))
			for _, o := range r.failed() {
				if !slices.Contains(knownWarnings(p), o.name) {
					t.Errorf("scenario %q failed:\n%v", o.name, o.err)
				}
			}
			ran := map[string]bool{}
			for _, o := range r.scenarios {
				ran[o.name] = !o.skipped
			}
			for _, name := range openAPIScenarios {
				if want := p == simulator.V2 || !strings.HasPrefix(name, "A V2"); ran[name] != want {
					t.Errorf("scenario %q ran: %v, want %v", name, ran[name], want)
				}
			}
			report(t, r)
		})
	}
	r := runSuite(t, merchant.Config{}, everything(simulator.V2))
	for _, o := range r.scenarios {
		if slices.Contains(openAPIScenarios, o.name) && !o.skipped {
			t.Errorf("scenario %q ran without the open APIs", o.name)
		}
	}
}

// Given another SK, the merchant's order query is refused: the scenario
// fails on it, showing the gateway's refusal with kgsim's canonical
// request, string to sign and likely cause, never the SK.
func TestWrongSKFailsOnTheOrderQuery(t *testing.T) {
	const scenario = "A V2 purchase is provisioned from the order query"
	r := runSuite(t, merchant.Config{QueryOrders: true, Defect: merchant.DefectWrongSK}, everything(simulator.V2))
	i := slices.IndexFunc(r.scenarios, func(o outcome) bool { return o.name == scenario })
	if i < 0 || r.scenarios[i].err == nil {
		t.Fatalf("scenario %q did not fail", scenario)
	}
	text := r.scenarios[i].err.Error()
	for _, want := range []string{
		"the merchant queried order", "refused every query", "the merchant's order query", "request:  GET /api/mkp-openapi-public/global/v1/order/query?",
		"response: 401 Unauthorized", "verdict:  refused (401 APIGW.0301", "cause:", "kgsim's canonical request (compare with the merchant's):",
		"| GET", "| /api/mkp-openapi-public/global/v1/order/query/", "kgsim's string to sign", "| SDK-HMAC-SHA256", "spec:     open-api.md §3",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the failure does not show %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, sellerSK) {
		t.Errorf("the failure shows the SK:\n%s", text)
	}
}
