package steps

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kgsim/kgsim/simulator"
)

// answered is a call answered HTTP 200 with body, judged verdict.
func answered(activity string, verdict simulator.Verdict, detail, body string) *call {
	return &call{activity: activity, attempt: simulator.Attempt{Method: "POST", URL: "http://127.0.0.1:1/produce", Status: 200, ResponseBody: []byte(body),
		ResponseHeader: http.Header{"Content-Type": {"application/json"}}, Verdict: verdict, Detail: detail}}
}

// A check and the marketplace's verdict on the call it is about never
// contradict: an answer the marketplace accepts is said to be accepted,
// and a code the check wanted is not called wrong.
func TestVerdictNeverContradictsTheCheck(t *testing.T) {
	accepted := (&failure{check: "the queryInstance answer has no info entry", call: answered("queryInstance", simulator.Success, "", `{"resultCode":"000000"}`)}).Error()
	if !strings.Contains(accepted, "verdict:  SUCCESS: the marketplace accepts this answer; what fails is the check above") {
		t.Errorf("an accepted answer under a failed check:\n%s", accepted)
	}
	wanted := (&failure{check: "the updateInstanceStatus call was not refused with resultCode 000003", wants: []string{"000003"},
		call: answered("updateInstanceStatus", simulator.ResultCode, `resultCode is "000005", want "000000"`, `{"resultCode":"000005"}`)}).Error()
	if strings.Contains(wanted, `want "000000"`) || !strings.Contains(wanted, "resultCode 000005 (the marketplace counts anything but 000000 as a failed call; this check wants 000003)") {
		t.Errorf("a check wanting 000003:\n%s", wanted)
	}
	plain := (&failure{check: "not acknowledged", call: answered("newInstance", simulator.ResultCode, `resultCode is "000005", want "000000"`, `{"resultCode":"000005"}`)}).Error()
	if !strings.Contains(plain, `verdict:  RESULT_CODE: resultCode is "000005", want "000000"`) {
		t.Errorf("a check wanting success:\n%s", plain)
	}
}

// A hint names the rule it is about and is chosen by what the merchant
// answered: the same refused call gets another hint for 000001, 000002
// and 000003.
func TestHintByAnswer(t *testing.T) {
	w := &world{product: simulator.Product{Protocol: simulator.V1}}
	hints := map[string]string{}
	for code, want := range map[string]string{
		"000001": "rule: a call the marketplace signed is accepted (§3.2)",
		"000002": "implement releaseInstance",
		"000003": "a repeated release succeeds (§5.4, §10 c)",
		"000005": "000005 (internal error)",
	} {
		got := w.hintFor(answered("releaseInstance", simulator.ResultCode, "", `{"resultCode":"`+code+`"}`))
		if !strings.HasPrefix(got, "rule: ") || !strings.Contains(got, want) {
			t.Errorf("%s: hint %q, want the rule and %q", code, got, want)
		}
		hints[got] = code
	}
	if len(hints) != 4 {
		t.Errorf("the codes share hints: %v", hints)
	}
	for v := range map[simulator.Verdict]bool{simulator.Unreachable: true, simulator.Timeout: true, simulator.HTTPStatus: true, simulator.BodySignMissing: true,
		simulator.BodySignMismatch: true, simulator.ContentType: true, simulator.BodyParse: true, simulator.MissingField: true, simulator.FieldLength: true, simulator.NotReady: true} {
		if h := hint(v); !strings.HasPrefix(h, "rule: ") || !strings.Contains(h, "§") {
			t.Errorf("%s: hint %q names no rule", v, h)
		}
	}
}

// A refusal's hint and spec are those of what the check did to the call:
// a replayed request is about nonce caching (§4.5), not timestamps.
func TestRefusalRule(t *testing.T) {
	for _, tc := range []struct {
		cr        craft
		p         simulator.Protocol
		spec, has string
	}{
		{craft{replayed: true}, simulator.V2, "callbacks.md §4.5", "nonce"},
		{craft{forged: true}, simulator.V2, "callbacks.md §4.2, §7", "signature"},
		{craft{forged: true}, simulator.V1, "callbacks.md §3.2, §7", "authToken"},
		{craft{age: 120e9}, simulator.V2, "callbacks.md §4.1, §7", "60 s"},
		{craft{missing: "orderId"}, simulator.V2, "callbacks.md §5.1, §5.8, §7", "000002"},
		{craft{missing: "nonce", drop: "nonce"}, simulator.V2, "callbacks.md §3.2, §4.2, §7", "without its nonce"},
		{craft{unknown: true}, simulator.V1, "callbacks.md §7, §15 Q3", "000003"},
	} {
		spec, fix := tc.cr.rule(tc.p)
		if spec != tc.spec || !strings.HasPrefix(fix, "rule: ") || !strings.Contains(fix, tc.has) {
			t.Errorf("%+v: %q, %q; want %q and a rule with %q", tc.cr, spec, fix, tc.spec, tc.has)
		}
	}
	if _, fix := (craft{replayed: true}).rule(simulator.V2); strings.Contains(fix, "timestamp more than") {
		t.Errorf("the replay's hint speaks of timestamps: %q", fix)
	}
}

// A failure shows the merchant's URL, not the proxy's port; the proxy is
// named only when the scenario made it inject a fault.
func TestFailureShowsTheMerchantsURL(t *testing.T) {
	target, _ := url.Parse("http://merchant.example:8081/produce")
	p, err := startProxy(target.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	c := answered("newInstance", simulator.HTTPStatus, "HTTP status 404", "")
	c.attempt.URL = p.url() + "?signature=S"
	out := (&failure{check: "not acknowledged", call: c, via: p}).Error()
	if !strings.Contains(out, "request:  POST http://merchant.example:8081/produce?signature=S") || strings.Contains(out, p.ln.Addr().String()) {
		t.Errorf("the proxy's address in a report:\n%s", out)
	}
	p.injected = append(p.injected, "answered 503 Service Unavailable in the merchant's place")
	out = (&failure{check: "not acknowledged", call: c, via: p}).Error()
	if !strings.Contains(out, "proxy:    the marketplace's requests went to kgsim's fault-injecting proxy at http://"+p.ln.Addr().String()+", which answered 503") {
		t.Errorf("the proxy's fault is not named:\n%s", out)
	}
}
