package merchanttest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/tidwall/gjson"
)

const key = "merchanttest-key"

// reports is a test that records what the merchant reports instead of
// failing.
type reports struct {
	testing.TB
	got []string
}

func (e *reports) Errorf(format string, args ...any) {
	e.got = append(e.got, fmt.Sprintf(format, args...))
}

// post sends a V2 callback signed with signKey and returns the answer's
// resultCode and whether its Body-Sign verifies with the merchant's key.
// It may run beside the test's goroutine.
func post(t *testing.T, url, signKey, body string) (code string, signed bool) {
	ts, nonce := protocol.MillisTimestamp(time.Now()), strings.Repeat("a", 32)
	s := protocol.SignV2(signKey, ts, nonce, []byte(body))
	resp, err := http.Post(url+"?"+protocol.V2Query(s.Signature, ts, nonce), "application/json", strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return "", false
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Error(err)
	}
	signed = protocol.VerifyBodySign(key, resp.Header.Get(protocol.BodySignHeaderName), answer) == nil
	return gjson.GetBytes(answer, "resultCode").Str, signed
}

// Each call of a scripted activity takes the next reply, the last one
// again and again; other activities and a Reset get a correct merchant's
// answer, signed.
func TestScriptsTakeTurns(t *testing.T) {
	m := &Merchant{T: t, Key: key}
	url := m.Start()
	m.Answer("refreshInstance", Reply{Code: "000005"}, Reply{Code: "000006"})
	var got []string
	for range 3 {
		code, _ := post(t, url, key, `{"activity":"refreshInstance","instanceId":"i-1"}`)
		got = append(got, code)
	}
	if code, signed := post(t, url, key, `{"activity":"newInstance","orderId":"CS1"}`); code != CodeSuccess || !signed {
		t.Errorf("newInstance beside the script: %s, signed %v; want 000000, signed", code, signed)
	}
	m.Reset()
	code, _ := post(t, url, key, `{"activity":"refreshInstance","instanceId":"i-1"}`)
	got = append(got, code)
	if want := []string{"000005", "000006", "000006", CodeSuccess}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("refreshInstance answered %v, want %v", got, want)
	}
	calls := m.Calls()
	if len(calls) != 5 || calls[3].Activity != "newInstance" || calls[3].Protocol != simulator.V2 || calls[3].Params["orderId"] != "CS1" {
		t.Fatalf("recorded %+v", calls)
	}
}

// A call that does not verify is answered 000001 and fails the test.
func TestWrongSignatureFailsTheTest(t *testing.T) {
	e := &reports{TB: t}
	m := &Merchant{T: e, Key: key}
	url := m.Start()
	if code, _ := post(t, url, "another-key", `{"activity":"newInstance","orderId":"CS1"}`); code != CodeAuthFailed {
		t.Errorf("answered %s, want 000001", code)
	}
	if len(e.got) != 1 || !strings.Contains(e.got[0], "does not verify") {
		t.Errorf("reported %q, want one error saying the call does not verify", e.got)
	}
	if c := m.Calls(); len(c) != 1 || c[0].Err == nil || c[0].Code != CodeAuthFailed {
		t.Errorf("recorded %+v, want the refusal", c)
	}
}

// A held call is answered only once released, and knows which calls were
// held when it arrived.
func TestHold(t *testing.T) {
	m := &Merchant{T: t, Key: key}
	url := m.Start()
	m.Answer("", Reply{Hold: true})
	done := make(chan string, 2)
	for _, order := range []string{"CS1", "CS2"} {
		go func() {
			code, _ := post(t, url, key, `{"activity":"newInstance","orderId":"`+order+`"}`)
			done <- code
		}()
	}
	first, second := m.Next(), m.Next()
	if len(first.Others) != 0 || len(second.Others) != 1 || second.Others[0].Params["orderId"] != first.Call.Params["orderId"] {
		t.Errorf("held with the first %v, with the second %v", first.Others, second.Others)
	}
	select {
	case code := <-done:
		t.Fatalf("answered %s while held", code)
	default:
	}
	first.Release()
	if code := <-done; code != CodeSuccess {
		t.Errorf("released: %s", code)
	}
	if n := len(m.Holding()); n != 1 {
		t.Errorf("%d calls held after one was released, want 1", n)
	}
	second.Release()
	<-done
}
