package notice_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/notice"
)

func composedNotice(t *testing.T) (simulator.Notice, []byte) {
	t.Helper()
	m := v2NewInstance(simulator.OrderFailed)
	c := notice.Call{Message: m, Attempts: []simulator.Attempt{timedOut(v2Attempt(t, 1, t0, "b-1"))}}
	n := notice.ForAttempt(simulator.NoticeFinal, product(simulator.V2), c, "ntc-p1", t0)
	raw, _, err := notice.Compose(n, mustAddress(t, notice.DefaultFrom), t0)
	if err != nil {
		t.Fatal(err)
	}
	return n, raw
}

// A merchant may forward the notice as an attachment, or save only the
// attachment: replay takes either.
func TestParseFindsTheRecordForwardedOrSaved(t *testing.T) {
	n, raw := composedNotice(t)

	var outer bytes.Buffer
	mw := multipart.NewWriter(&outer)
	text, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=UTF-8"}})
	text.Write([]byte("FYI, see the notice below.\r\n"))
	fwd, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"message/rfc822"}})
	fwd.Write(raw)
	mw.Close()
	forwarded := "From: dev@merchant.example.com\r\nTo: ops@merchant.example.com\r\nSubject: Fwd: notice\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=" + mw.Boundary() + "\r\n\r\n" + outer.String()

	for name, input := range map[string][]byte{
		"as mailed":         raw,
		"forwarded":         []byte(forwarded),
		"attachment saved":  n.Record,
		"attachment, CRLFs": append([]byte("\r\n"), n.Record...),
	} {
		rec, err := notice.Parse(bytes.NewReader(input))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(bytes.TrimSpace(rec), bytes.TrimSpace(n.Record)) {
			t.Errorf("%s: Parse = %s", name, rec)
		}
	}
}

func TestParseRefusesWhatIsNotANotice(t *testing.T) {
	noRecord, _, err := notice.Compose(notice.ForProduct(product(simulator.V2), simulator.Delisted, "operator", "ntc-d", t0), mustAddress(t, notice.DefaultFrom), t0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, input, want string
	}{
		{"a product notice", string(noRecord), "the e-mail has no call-record.json attachment"},
		{"plain text", "hello, this is not an e-mail", "neither a JSON call record nor an e-mail"},
		{"other JSON", `{"resultCode":"000000"}`, "neither callId nor runId"},
		{"broken JSON", `{"callId":`, "not valid JSON"},
		{"an e-mail without MIME", "From: a@b\r\nSubject: hi\r\n\r\nhello\r\n", "no call-record.json attachment"},
		{"a broken attachment", "Content-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Type: application/json; name=call-record.json\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n--X--\r\n", "cannot be decoded"},
	} {
		_, err := notice.Parse(strings.NewReader(tc.input))
		if err == nil || !strings.Contains(err.Error(), tc.want) || simulator.ErrorCode(err) != simulator.EINVALID {
			t.Errorf("%s: Parse error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	m := v2NewInstance(simulator.OrderFailed)
	n := notice.ForAttempt(simulator.NoticeFinal, product(simulator.V2), notice.Call{Message: m}, "ntc-f", time.Unix(0, 0))
	raw, _, err := notice.Compose(n, &mail.Address{Address: "kgsim@localhost"}, time.Unix(0, 0))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add(n.Record)
	f.Add([]byte("Content-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Type: message/rfc822\r\n\r\n--X--\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := notice.Parse(bytes.NewReader(data))
		if err == nil && !json.Valid(rec) {
			t.Errorf("Parse returned a record that is not JSON: %q", rec)
		}
	})
}
