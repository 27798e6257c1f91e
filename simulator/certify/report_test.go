package certify

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kgsim/kgsim/fixtures/merchant"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/kgsim/kgsim/steps"
	"github.com/tidwall/gjson"
)

// A service that answers every call with 501, as python3 -m http.server
// answers a POST: the purchase fails, and every check that starts from a
// purchase is blocked by that one cause, not failed. The report shows the
// cause's request and answer once, the merchant's own URL in it, and says
// "fix this first" once; the HTML report lists the cause at the top and
// the scenarios that did not pass first, in the order they ran, each tag
// once and long lines wrapped.
func TestReportGroupsFailuresByCause(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "Unsupported method", http.StatusNotImplemented)
	}))
	defer srv.Close()
	page := filepath.Join(t.TempDir(), "r.html")
	r, out := run(t, Options{Steps: vocabulary(steps.Target{URL: srv.URL + "/produce", AccessKey: testKey}), Formats: []string{"html:" + page}})
	const cause = "the merchant answers HTTP 501, not 200 with a resultCode"
	blocked := 0
	for _, s := range r.Scenarios {
		switch {
		case s.Name == "A purchase is acknowledged with its instanceId" && (s.Status != Failed || s.Cause != cause):
			t.Errorf("%s: %s by %q; want failed by %q", s.Name, s.Status, s.Cause, cause)
		case s.Name == "A purchase signed with the wrong key is refused" && (s.Status != Blocked || s.Cause != cause):
			t.Errorf("%s: %s by %q; want blocked by %q", s.Name, s.Status, s.Cause, cause)
		case s.Status == Blocked:
			blocked++
		}
	}
	junit := filepath.Join(filepath.Dir(page), "r.xml")
	if err := writeReports([]report{{"junit", junit}}, nil, r, targetInfo{}); err != nil {
		t.Fatal(err)
	}
	if x, err := os.ReadFile(junit); err != nil || !strings.Contains(string(x), `<property name="status" value="blocked"></property>`) || !strings.Contains(string(x), `<property name="cause" value="`+cause+`"></property>`) {
		t.Errorf("the JUnit report does not say which checks were blocked and by what: %v\n%s", err, x)
	}
	if blocked < 20 {
		t.Errorf("%d scenarios blocked, want most:\n%s", blocked, out)
	}
	for what, want := range map[string]int{"response: 501 Not Implemented": 1, "fix this first": 1, "FAIL: ": 1, "\n1) " + cause + ": ": 1} {
		if got := strings.Count(out, what); got != want {
			t.Errorf("the report has %q %d times, want %d:\n%s", what, got, want, out)
		}
	}
	requests := regexp.MustCompile(`request:  [A-Z]+ (\S+)`).FindAllStringSubmatch(out, -1)
	if len(requests) == 0 {
		t.Fatalf("no request line:\n%s", out)
	}
	for _, m := range requests {
		if !strings.HasPrefix(m[1], srv.URL+"/produce") {
			t.Errorf("request line %q is not the merchant's URL %s", m[1], srv.URL)
		}
	}

	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	html := string(data)
	causes, firstDetails := strings.Index(html, "Causes, the first to fix first"), strings.Index(html, "<details")
	if causes < 0 || causes > firstDetails || !strings.Contains(html[causes:firstDetails], cause) {
		t.Errorf("the HTML report does not list the cause before the scenarios")
	}
	ids := regexp.MustCompile(`<details id="([^"]+)" class="(\w+)"`).FindAllStringSubmatch(html, -1)
	var shown []string
	for _, m := range ids {
		if m[2] == "passed" || m[2] == "skipped" {
			break
		}
		shown = append(shown, m[1])
	}
	var ran []string
	for _, s := range r.Scenarios {
		if s.Fails(false) || s.Warns(false) {
			ran = append(ran, "s-"+s.URI+"-"+strconv.Itoa(s.Line))
		}
	}
	if !slices.Equal(shown, ran) {
		t.Errorf("the HTML report's first scenarios %v, want those that did not pass in the order they ran %v", shown, ran)
	}
	for _, summary := range regexp.MustCompile(`(?s)<summary>.*?</summary>`).FindAllString(html, -1) {
		for _, tag := range []string{"@required", "@recommended"} {
			if strings.Count(summary, tag) > 1 {
				t.Errorf("a scenario shows %s twice: %s", tag, summary)
			}
		}
	}
	if !strings.Contains(html, "overflow-wrap: anywhere") {
		t.Error("long lines in the HTML report are not wrapped")
	}
}

// withoutInfo is the sample merchant with info[] taken out of every
// queryInstance answer, the Body-Sign made again over the new body.
func withoutInfo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if gjson.GetBytes(body, "info").Exists() {
			body = []byte(`{"resultCode":"000000","resultMsg":"success"}`)
		}
		for name, values := range rec.Header() {
			w.Header()[name] = values
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Header().Set(protocol.BodySignHeaderName, protocol.BodySignHeader(protocol.BodySign(testKey, body)))
		w.WriteHeader(rec.Code)
		w.Write(body)
	})
}

// A queryInstance answer without info[] is one cause, whichever checks
// it fails; the marketplace would accept the answer, and the report says
// so rather than printing a bare SUCCESS under a failed check.
func TestMissingInfoIsOneCause(t *testing.T) {
	srv := httptest.NewServer(withoutInfo(merchant.New(merchant.Config{AccessKey: testKey})))
	defer srv.Close()
	r, out := run(t, Options{Steps: vocabulary(steps.Target{URL: srv.URL + "/produce", AccessKey: testKey})})
	groups := r.causes(true)
	i := slices.IndexFunc(groups, func(g causeGroup) bool {
		return strings.Contains(g.Cause, "does not list the instance asked for in info[]")
	})
	if i < 0 {
		t.Fatalf("no cause about info[] among %+v:\n%s", groups, out)
	}
	var names []string
	for _, s := range groups[i].Scenarios {
		names = append(names, s.Name)
	}
	for _, want := range []string{"The buyer's resource details show the instance", "The buyer's account decrypts with the declared encryptType"} {
		if !slices.Contains(names, want) {
			t.Errorf("%q is not under the info[] cause (%q)", want, names)
		}
	}
	_, summary, _ := strings.Cut(out, "\nFailures (required checks):\n")
	if strings.Count(summary, "has no info entry for instance") != 1 || !strings.Contains(summary, "verdict:  SUCCESS: the marketplace accepts this answer; what fails is the check above") {
		t.Errorf("the info[] failure is not shown once, with the marketplace's verdict explained:\n%s", out)
	}
	if bytes.Contains([]byte(out), []byte("verdict:  SUCCESS\n")) {
		t.Errorf("a bare SUCCESS verdict under a failed check:\n%s", out)
	}
}
