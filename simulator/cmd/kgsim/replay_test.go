package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kgsim/kgsim/fixtures/merchant"
	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/engine"
	"github.com/kgsim/kgsim/simulator/market"
	"github.com/kgsim/kgsim/simulator/market/markettest"
	"github.com/kgsim/kgsim/simulator/notice"
	"github.com/tidwall/gjson"
)

// failedNotice runs a marketplace selling one product whose production
// interface is merchantURL, buys it, makes the purchase's first attempt
// and returns the notice that attempt raised.
func failedNotice(t *testing.T, p simulator.Protocol, merchantURL string) simulator.Notice {
	t.Helper()
	ctx := context.Background()
	product := simulator.Product{
		ID: "OFFI00000000000REPLAY1", SKUCode: "replay-basic", Name: "Replay", ChargingMode: simulator.Period, PeriodType: "month",
		URL: merchantURL, Protocol: p, AccessKey: merchantKey, NoticeTo: []string{"ops@merchant.test"},
	}
	customer := simulator.Customer{ID: "68cbc86abc2018ab880d92f36422fa0e", Name: "Acme Ltd", MobilePhone: "13800000000"}
	mk, _ := markettest.New(t, time.Now(), market.Config{Products: []simulator.Product{product}, Customers: []simulator.Customer{customer}})
	if _, _, err := mk.Engine.Buy(ctx, engine.Purchase{ProductID: product.ID, CustomerID: customer.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := mk.Scheduler.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	notices, err := mk.Store.Notices(ctx, simulator.NoticeFilter{ProductID: product.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range notices {
		if n.Kind == simulator.NoticeAttemptFailed {
			return n
		}
	}
	t.Fatalf("the failed purchase raised no notice: %+v", notices)
	return simulator.Notice{}
}

// asEmail is the notice as the Mailer sends it, saved to a file.
func asEmail(t *testing.T, n simulator.Notice) string {
	t.Helper()
	msg, _, err := notice.Compose(n, &mail.Address{Name: "KooGallery simulator", Address: "kgsim@localhost"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, string(msg))
}

// recording is a merchant handler that keeps the last request it got.
type recording struct {
	h     http.Handler
	mu    sync.Mutex
	query url.Values
	body  []byte
}

func (r *recording) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.query, r.body = req.URL.Query(), body
	r.mu.Unlock()
	req.Body = io.NopCloser(strings.NewReader(string(body)))
	r.h.ServeHTTP(w, req)
}

// atFixedNow is the sample merchant checking V2 freshness against the
// tests' fixed clock, which signs the replayed calls.
func atFixedNow(d merchant.Defect) http.Handler {
	return merchant.New(merchant.Config{AccessKey: merchantKey, Defect: d, Now: func() time.Time { return fixedNow }})
}

// A V2 purchase that failed (text/plain answers) is replayed from the
// notice e-mail: against the fixed merchant it succeeds, with both
// attempts shown side by side and a new businessId; against the merchant
// still broken it fails again.
func TestReplayV2NoticeEmail(t *testing.T) {
	broken := httptest.NewServer(merchant.New(merchant.Config{AccessKey: merchantKey, Defect: merchant.DefectWrongContentType}))
	defer broken.Close()
	n := failedNotice(t, simulator.V2, broken.URL+"/produce")
	original := gjson.GetBytes(n.Record, "attempts.0.request.body").String()
	if gjson.GetBytes(n.Record, "attempts.0.verdict").String() != string(simulator.ContentType) {
		t.Fatalf("the first attempt is not a CONTENT_TYPE failure: %s", n.Record)
	}
	email := asEmail(t, n)

	fixed := &recording{h: atFixedNow("")}
	fixedSrv := httptest.NewServer(fixed)
	defer fixedSrv.Close()
	r := kgsim(t, "", "replay", "--notice", email, "--access-key", merchantKey, "--merchant-url", fixedSrv.URL+"/produce", "--width", "200")
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", r.code, r.stderr, r.stdout)
	}
	for _, want := range []string{
		"Replaying V2 newInstance, call " + n.MessageID + ", order " + n.OrderID,
		"ORIGINAL: attempt 1 at ", "NEW: now, ", " │ ",
		"verdict: CONTENT_TYPE", "verdict: SUCCESS",
		"verdict: the new attempt succeeds: SUCCESS (the original: CONTENT_TYPE)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, merchantKey) {
		t.Error("the access key is printed")
	}
	sent := gjson.ParseBytes(fixed.body)
	for _, name := range []string{"activity", "orderId", "orderLineId"} {
		if sent.Get(name).String() != gjson.Get(original, name).String() || sent.Get(name).String() == "" {
			t.Errorf("%s: replayed %q, original %q", name, sent.Get(name), gjson.Get(original, name))
		}
	}
	if b := sent.Get("businessId").String(); b == "" || b == gjson.Get(original, "businessId").String() {
		t.Errorf("businessId %q: want a fresh one (the original was %q)", b, gjson.Get(original, "businessId"))
	}

	still := httptest.NewServer(atFixedNow(merchant.DefectWrongContentType))
	defer still.Close()
	r = kgsim(t, "", "replay", "--notice", email, "--access-key", merchantKey, "--merchant-url", still.URL+"/produce", "--width", "80")
	if r.code != exitInvalid || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 1", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "verdict: still failing: CONTENT_TYPE: Content-Type is \"text/plain") || strings.Contains(r.stdout, " │ ") {
		t.Errorf("want the two attempts one after the other and a failing verdict:\n%s", r.stdout)
	}
	if i, j := strings.Index(r.stdout, "ORIGINAL: "), strings.Index(r.stdout, "NEW: "); i < 0 || j < i {
		t.Errorf("the original attempt is not shown before the new one:\n%s", r.stdout)
	}
}

// A V1 purchase answered without Body-Sign, replayed from the call-record
// JSON: the same parameters (the buyer's encrypted contact included), a
// new timeStamp and authToken.
func TestReplayV1CallRecord(t *testing.T) {
	broken := httptest.NewServer(merchant.New(merchant.Config{AccessKey: merchantKey, Defect: merchant.DefectNoBodySign}))
	defer broken.Close()
	n := failedNotice(t, simulator.V1, broken.URL+"/produce/v1")
	record := writeFile(t, string(n.Record))
	originalURL, err := url.Parse(gjson.GetBytes(n.Record, "attempts.0.request.fullUrl").String())
	if err != nil {
		t.Fatal(err)
	}
	original := originalURL.Query()

	fixed := &recording{h: atFixedNow("")}
	fixedSrv := httptest.NewServer(fixed)
	defer fixedSrv.Close()
	r := kgsim(t, "", "replay", "--notice", record, "--access-key", merchantKey, "--merchant-url", fixedSrv.URL+"/produce/v1")
	if r.code != exitOK {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", r.code, r.stderr, r.stdout)
	}
	for _, want := range []string{"verdict: BODY_SIGN_MISSING", "verdict: the new attempt succeeds: SUCCESS (the original: BODY_SIGN_MISSING)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	for name := range original {
		switch name {
		case "timeStamp", "authToken", "businessId":
			if fixed.query.Get(name) == original.Get(name) {
				t.Errorf("%s was not renewed: %q", name, original.Get(name))
			}
		default:
			if fixed.query.Get(name) != original.Get(name) {
				t.Errorf("%s: replayed %q, original %q", name, fixed.query.Get(name), original.Get(name))
			}
		}
	}
	if len(fixed.query) != len(original) {
		t.Errorf("replayed parameters %v, original %v", fixed.query, original)
	}
}

// From the ids of a real failure e-mail: there is no original attempt to
// show, only the new one.
func TestReplayFromIDs(t *testing.T) {
	srv := httptest.NewServer(atFixedNow(""))
	defer srv.Close()
	r := kgsim(t, "", "replay", "--url", srv.URL+"/produce", "--protocol", "v2", "--activity", "newInstance",
		"--order", "CS2501151003ABCDE", "--order-line", "CS2501151003ABCDE-000001", "--access-key", merchantKey)
	if r.code != exitOK || !strings.Contains(r.stdout, "(the ids of an e-mail give no original attempt to compare with)") ||
		!strings.Contains(r.stdout, "verdict: the new attempt succeeds: SUCCESS") || strings.Contains(r.stdout, "ORIGINAL") {
		t.Errorf("exit %d, stderr %q, stdout:\n%s", r.code, r.stderr, r.stdout)
	}
	// A release of an instance the merchant never had: 000003 is a
	// failed call.
	r = kgsim(t, "", "replay", "--url", srv.URL+"/produce", "--protocol", "v2", "--activity", "releaseInstance",
		"--instance", "i-never-provisioned", "--access-key", merchantKey)
	if r.code != exitInvalid || !strings.Contains(r.stdout, `verdict: still failing: RESULT_CODE: resultCode is "000003"`) {
		t.Errorf("exit %d, stderr %q, stdout:\n%s", r.code, r.stderr, r.stdout)
	}
}

// A merchant that echoes the key never gets it printed.
func TestReplayNeverPrintsTheKey(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "your key is "+merchantKey)
	}))
	defer srv.Close()
	r := kgsim(t, "", "replay", "--url", srv.URL, "--protocol", "v1", "--activity", "queryInstance", "--instance", "i-1", "--access-key", merchantKey)
	if r.code != exitInvalid || strings.Contains(r.stdout+r.stderr, merchantKey) || !strings.Contains(r.stdout, "your key is <accessKey>") {
		t.Errorf("exit %d, stdout:\n%s", r.code, r.stdout)
	}
}

func TestReplayBadInput(t *testing.T) {
	notAnotice := writeFile(t, "Subject: hello\r\n\r\nnothing attached\r\n")
	u := "http://127.0.0.1:1/produce"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--access-key", "k"}, "--notice: required; want --notice FILE, or --url URL --protocol v1|v2 --activity ACTIVITY"},
		{[]string{"--notice", notAnotice}, "--access-key: required"},
		{[]string{"--notice", "/no/such/file", "--access-key", "k"}, "--notice: cannot read /no/such/file"},
		{[]string{"--notice", notAnotice, "--access-key", "k"}, "the e-mail has no call-record.json attachment"},
		{[]string{"--notice", notAnotice, "--url", u, "--access-key", "k"}, "--url: give either --notice or --url with the call's ids, not both"},
		{[]string{"--notice", notAnotice, "--order", "CS1", "--access-key", "k"}, "--order: only with --url"},
		{[]string{"--url", u, "--access-key", "k", "--activity", "newInstance"}, "--protocol: required with --url"},
		{[]string{"--url", u, "--access-key", "k", "--protocol", "v3", "--activity", "newInstance"}, `--protocol: "v3": want v1 or v2`},
		{[]string{"--url", u, "--access-key", "k", "--protocol", "v2"}, "--activity: required with --url"},
		{[]string{"--url", u, "--access-key", "k", "--protocol", "v2", "--activity", "upgrade"}, `--activity: "upgrade" is not a V2 callback`},
		{[]string{"--url", u, "--access-key", "k", "--protocol", "v2", "--activity", "releaseInstance"}, "--instance: instanceId is required for a V2 releaseInstance; add --instance ID (callbacks.md §5.12)"},
		{[]string{"--url", u, "--access-key", "k", "--protocol", "v1", "--activity", "instanceStatus", "--instance", "i-1"}, "--param: instanceStatus is required for a V1 instanceStatus; add --param instanceStatus=VALUE (callbacks.md §5.6)"},
		{[]string{"--url", u, "--access-key", "k", "--protocol", "v1", "--activity", "queryInstance", "--instance", "i-1", "--param", "nope"}, `--param: "nope": want NAME=VALUE`},
		{[]string{"--url", "isv.example.com/produce", "--access-key", "k", "--protocol", "v1", "--activity", "queryInstance"}, `--url: "isv.example.com/produce": want the production URL`},
		{[]string{"--url", u, "--merchant-url", "localhost:8081", "--access-key", "k"}, `--merchant-url: "localhost:8081": want an absolute http(s) URL`},
		{[]string{"--url", u, "--width", "10", "--access-key", "k"}, `--width: "10": want a number of columns, 40 or more`},
		{[]string{"--url", u, "--timeout", "-1s", "--access-key", "k"}, `--timeout: "-1s": want a positive duration`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			wantCouldNotRun(t, kgsim(t, "", append([]string{"replay"}, tt.args...)...), tt.want)
		})
	}
}

// A dial-test notice replays each probe that failed.
func TestReplayDialTestRecord(t *testing.T) {
	srv := httptest.NewServer(atFixedNow(""))
	defer srv.Close()
	failed := writeFile(t, `{"runId":"run-1","productId":"P","at":"2025-01-15T02:00:00.000Z","passed":false,"calls":[
	 {"callId":"c-ok","kind":"DIAL_TEST","protocol":"V2","activity":"queryInstance","url":"`+srv.URL+`","method":"POST",
	  "attempts":[{"n":1,"request":{"fullUrl":"`+srv.URL+`","headers":{},"body":"{\"activity\":\"queryInstance\",\"instanceId\":\"i-1\",\"testFlag\":\"1\"}","signing":{}},"verdict":"SUCCESS"}]},
	 {"callId":"c-failed","kind":"DIAL_TEST","protocol":"V2","activity":"newInstance","url":"`+srv.URL+`","method":"POST",
	  "attempts":[{"n":1,"request":{"fullUrl":"`+srv.URL+`","headers":{},"body":"{\"activity\":\"newInstance\",\"businessId\":\"b-old\",\"orderId\":\"CS1\",\"orderLineId\":\"CS1-000001\",\"testFlag\":\"1\"}","signing":{}},"response":null,"error":"connection refused","verdict":"UNREACHABLE"}]}]}`)
	r := kgsim(t, "", "replay", "--notice", failed, "--access-key", merchantKey)
	if r.code != exitOK || strings.Count(r.stdout, "Replaying ") != 1 || !strings.Contains(r.stdout, "call c-failed") ||
		!strings.Contains(r.stdout, "verdict: the new attempt succeeds: SUCCESS (the original: UNREACHABLE)") {
		t.Errorf("exit %d, stderr %q, stdout:\n%s", r.code, r.stderr, r.stdout)
	}
}
