package delivery

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/protocol"
)

var signedAt = time.Date(2025, 1, 1, 12, 0, 0, 123e6, time.UTC)

// merchant is a real HTTP merchant on loopback that verifies what it gets
// with the protocol package, as a correct merchant would, and answers
// success with a Body-Sign.
func merchant(t *testing.T, check func(r *http.Request, body []byte) error) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := check(r, body); err != nil {
			t.Errorf("merchant: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		answer := []byte(`{"resultCode":"000000","resultMsg":"success.","instanceId":"i-1","appInfo":{"frontEndUrl":"https://saas.example.com"}}`)
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.Header().Set("Body-Sign", protocol.BodySignHeader(protocol.BodySign(key, answer)))
		w.Write(answer)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestV1RequestVerifiesAtTheMerchant(t *testing.T) {
	srv := merchant(t, func(r *http.Request, _ []byte) error {
		if r.Method != http.MethodGet {
			return errors.New("method " + r.Method)
		}
		if got := r.URL.Query().Get("timeStamp"); got != "20250101120000123" {
			return errors.New("timeStamp " + got)
		}
		if !strings.HasPrefix(r.URL.RawQuery, "tenant=t%201&") || !strings.Contains(r.URL.RawQuery, "&authToken=") {
			return errors.New("query layout " + r.URL.RawQuery)
		}
		return protocol.VerifyV1(key, r.URL.RawQuery)
	})
	params := []protocol.Param{{Name: "activity", Value: "newInstance"}, {Name: "customerName", Value: "测试 客户"}, {Name: "orderId", Value: "CS1"}}
	req, err := NewV1Request(srv.URL+"/produce?tenant=t%201", key, params, signedAt)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(req.URL, "&authToken="+strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(req.Signature)) {
		t.Errorf("authToken is not last: %s", req.URL)
	}
	if req.Canonical != "activity=newInstance&customerName=测试 客户&orderId=CS1&tenant=t 1&timeStamp=20250101120000123" {
		t.Errorf("canonical %q", req.Canonical)
	}
	a := NewSender(DefaultTimeout).Send(context.Background(), req)
	if j := Judge(Call{Protocol: simulator.V1, Activity: "newInstance", AccessKey: key}, a); j.Verdict != simulator.Success {
		t.Fatalf("verdict %s: %s", j.Verdict, j.Detail)
	}
}

func TestV2RequestVerifiesAtTheMerchant(t *testing.T) {
	body := []byte(`{"testFlag":"1","activity":"newInstance","orderId":"CS1","orderLineId":"CS1-000001","businessId":"b-1","productId":null}`)
	srv := merchant(t, func(r *http.Request, got []byte) error {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json;charset=UTF-8" {
			return errors.New("method or content type")
		}
		if string(got) != `{"activity":"newInstance","businessId":"b-1","orderId":"CS1","orderLineId":"CS1-000001","testFlag":"1"}` {
			return errors.New("body " + string(got))
		}
		if r.URL.Query().Get("x") != "1" {
			return errors.New("the configured query was dropped")
		}
		sig := r.URL.Query().Get("signature")
		if sig != strings.ToUpper(sig) {
			return errors.New("signature not upper case")
		}
		return protocol.VerifyV2(key, r.URL.Query(), got, signedAt.Add(time.Second), protocol.FreshnessWindow)
	})
	req, err := NewV2Request(srv.URL+"/produce?x=1", key, body, signedAt, "RLLUammMSInlrNWb", false)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(req.Canonical, key) {
		t.Error("the recorded canonical request holds the key")
	}
	a := NewSender(DefaultTimeout).Send(context.Background(), req)
	if j := Judge(Call{Protocol: simulator.V2, Activity: "newInstance", AccessKey: key}, a); j.Verdict != simulator.Success {
		t.Fatalf("verdict %s: %s", j.Verdict, j.Detail)
	}
}

func TestRequestRefusesBadConfiguration(t *testing.T) {
	for _, u := range []string{"ftp://h/p", "/produce", "http:///p", "http://h/p#frag", "http://h/p?timeStamp=1", "http://h/p?authToken=x", "http://h/p?a=%zz"} {
		if _, err := NewV1Request(u, key, []protocol.Param{{Name: "activity", Value: "x"}}, signedAt); err == nil {
			t.Errorf("V1 accepted %q", u)
		}
	}
	if _, err := NewV2Request("http://h/p", key, []byte(`[1]`), signedAt, "n", false); err == nil {
		t.Error("V2 accepted a body that is not an object")
	}
}

func TestSenderDoesNotFollowRedirects(t *testing.T) {
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer target.Close()
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	defer redirect.Close()
	req, _ := NewV2Request(redirect.URL, key, []byte(`{"activity":"x"}`), signedAt, "n", false)
	a := NewSender(DefaultTimeout).Send(context.Background(), req)
	if a.Status != http.StatusFound || hits.Load() != 0 {
		t.Fatalf("status %d, target called %d times", a.Status, hits.Load())
	}
	if j := Judge(Call{Protocol: simulator.V2, Activity: "x"}, a); j.Verdict != simulator.HTTPStatus {
		t.Errorf("verdict %s", j.Verdict)
	}
}

func TestSenderBoundsTheAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"resultCode":"000000","resultMsg":"`))
		w.Write([]byte(strings.Repeat("x", maxAnswer)))
		w.Write([]byte(`"}`))
	}))
	defer srv.Close()
	req, _ := NewV2Request(srv.URL, key, []byte(`{"activity":"x"}`), signedAt, "n", false)
	a := NewSender(DefaultTimeout).Send(context.Background(), req)
	if len(a.Body) != maxAnswer {
		t.Errorf("read %d bytes, want the first %d", len(a.Body), maxAnswer)
	}
	if j := Judge(Call{Protocol: simulator.V2, Activity: "x"}, a); j.Verdict != simulator.BodyParse || !strings.Contains(j.Detail, "larger than") {
		t.Errorf("verdict %s: %s", j.Verdict, j.Detail)
	}
}

func TestSenderTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	req, _ := NewV2Request(srv.URL, key, []byte(`{"activity":"x"}`), signedAt, "n", false)
	a := NewSender(30*time.Millisecond).Send(context.Background(), req)
	if j := Judge(Call{Protocol: simulator.V2, Activity: "x"}, a); j.Verdict != simulator.Timeout {
		t.Errorf("verdict %s: %v", j.Verdict, a.Err)
	}
}

// What a merchant answers is kept bounded whatever it sends: 200 failed
// attempts answered with a 4 MiB header or a 1 MiB body keep at most
// 64 KiB of each, the cut marked, so the database grows by the attempts,
// not by what the merchant chose to send.
func TestStoredAnswersBounded(t *testing.T) {
	huge := strings.Repeat("h", 4<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "header") {
			w.Header().Set("X-Huge", huge)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(strings.Repeat("b", maxAnswer)))
	}))
	defer srv.Close()
	d, _, _, _ := setup(t)
	for _, path := range []string{"/header", "/body"} {
		msg := newInstanceMessage(path[1:], path[1:], srv.URL+path, t0)
		if err := d.Store.Enqueue(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	header, _ := d.Store.Attempts(context.Background(), "header")
	body, _ := d.Store.Attempts(context.Background(), "body")
	if len(header) != 1 || len(body) != 1 {
		t.Fatalf("%d and %d attempts, want 1 each", len(header), len(body))
	}
	h := header[0]
	if h.Status != 0 || !strings.Contains(h.Error, "headers exceeded") || len(h.ResponseHeader) != 0 || !h.Verdict.Failed() {
		t.Errorf("a 4 MiB header: status %d, error %q, %d headers kept, %s; want a failed attempt saying the headers were too large, none kept",
			h.Status, h.Error, len(h.ResponseHeader), h.Verdict)
	}
	b := body[0]
	if len(b.ResponseBody) != maxKept || !b.ResponseTruncated || b.Status != http.StatusInternalServerError {
		t.Errorf("a 1 MiB body: %d bytes kept, truncated %v, status %d; want %d, true, 500", len(b.ResponseBody), b.ResponseTruncated, b.Status, maxKept)
	}
}
