package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// replay judges the buyer's queryInstance as certify does: an answer the
// marketplace accepts without an info[] entry for the instance asked
// shows the buyer nothing, and fails (exit 1); one that lists it passes.
func TestReplayQueryInstanceWithoutInfo(t *testing.T) {
	for _, tc := range []struct {
		body string
		code int
	}{
		{`{"resultCode":"000000","resultMsg":"success"}`, exitInvalid},
		{`{"resultCode":"000000","resultMsg":"success","info":[{"instanceId":"i-2"}]}`, exitInvalid},
		{`{"resultCode":"000000","resultMsg":"success","info":[{"instanceId":"i-1","appInfo":{"frontEndUrl":"https://x.example"}}]}`, exitOK},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(tc.body))
		}))
		r := kgsim(t, "", "replay", "--url", srv.URL+"/produce", "--protocol", "v2", "--activity", "queryInstance", "--instance", "i-1", "--access-key", merchantKey)
		srv.Close()
		said := strings.Contains(r.stdout, "but: the answer has no info[] entry for instance i-1")
		if r.code != tc.code || said != (tc.code == exitInvalid) || !strings.Contains(r.stdout, "verdict: the new attempt succeeds: SUCCESS") {
			t.Errorf("%s: exit %d, want %d:\n%s", tc.body, r.code, tc.code, r.stdout)
		}
	}
}
