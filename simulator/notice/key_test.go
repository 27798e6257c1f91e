package notice_test

import (
	"strings"
	"testing"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/notice"
)

// A call signed with a key that is not its product's (a kit sync's app
// key) has that key redacted too where the merchant echoed it.
func TestTheCallsOwnKeyIsRedacted(t *testing.T) {
	const kitKey = "kit-key-of-the-app"
	a := answered(v2Attempt(t, 1, t0, "b-1"), 500, `{"resultCode":"000001","resultMsg":"bad sign under `+kitKey+`"}`)
	a.Verdict = simulator.HTTPStatus
	n := notice.ForAttempt(simulator.NoticeAttemptFailed, product(simulator.V2),
		notice.Call{Message: v2NewInstance(simulator.Pending), Attempts: []simulator.Attempt{a}, Key: kitKey}, "ntc-k", t0)
	if strings.Contains(n.Body, kitKey) || strings.Contains(string(n.Record), kitKey) {
		t.Error("the notice shows the key that signed the call")
	}
	if !decodeRecord(t, n.Record).Redacted {
		t.Error("the record does not say a key was redacted")
	}
}
