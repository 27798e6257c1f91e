package notice_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/notice"
	"github.com/kgsim/kgsim/simulator/protocol"
)

const testKey = "AK-s3cr3t-7f3a9c01d2e4"

// t0 is a first attempt, 10:00 Beijing time.
var t0 = time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)

func product(protocolVersion simulator.Protocol) simulator.Product {
	return simulator.Product{
		ID: "prod-cloud-notes", SKUCode: "sku-notes-pro", Name: "Cloud Notes", ChargingMode: simulator.Period, PeriodType: "month",
		URL: "https://merchant.example.com/produce", Protocol: protocolVersion, AccessKey: testKey,
		NoticeTo: []string{"ops@merchant.example.com", "Service Desk <service@merchant.example.com>"},
	}
}

func v2NewInstance(outcome simulator.Outcome) simulator.Message {
	return simulator.Message{
		ID: "msg0195a1b2c3d4e5f60718", Kind: simulator.KindLifecycle, Protocol: simulator.V2, Activity: "newInstance",
		ProductID: "prod-cloud-notes", OrderID: "CS2503011000ABCDE", OrderLineID: "CS2503011000ABCDE-000001", CustomerID: "cust-1",
		URL:     "https://merchant.example.com/produce",
		Params:  []byte(`{"activity":"newInstance","orderId":"CS2503011000ABCDE","orderLineId":"CS2503011000ABCDE-000001","businessId":"x"}`),
		Outcome: outcome,
	}
}

// v2Attempt signs a V2 newInstance attempt at the given wall time with a
// fresh nonce and businessId, as delivery does.
func v2Attempt(t *testing.T, n int, at time.Time, businessID string) simulator.Attempt {
	t.Helper()
	body, err := protocol.CanonicalJSON([]byte(`{"activity":"newInstance","orderId":"CS2503011000ABCDE","orderLineId":"CS2503011000ABCDE-000001","businessId":"`+businessID+`"}`), protocol.SortTopLevel)
	if err != nil {
		t.Fatal(err)
	}
	ts := protocol.MillisTimestamp(at)
	nonce := strings.Repeat(string(rune('A'+n)), 64)
	s := protocol.SignV2(testKey, ts, nonce, body)
	return simulator.Attempt{
		MessageID: "msg0195a1b2c3d4e5f60718", N: n, StartedAt: at, FinishedAt: at.Add(20 * time.Second),
		Method: http.MethodPost, URL: "https://merchant.example.com/produce?" + protocol.V2Query(s.Signature, ts, nonce),
		Header: http.Header{"Content-Type": {"application/json;charset=UTF-8"}}, Body: body,
		Timestamp: ts, Nonce: nonce, BodyHMAC: s.BodyHMAC, Canonical: s.Canonical, Signature: s.Signature,
	}
}

func timedOut(a simulator.Attempt) simulator.Attempt {
	a.Error = `Post "https://merchant.example.com/produce": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`
	a.Verdict, a.Message, a.Detail = simulator.Timeout, "调测失败,调用接口超时20s.", a.Error
	return a
}

func answered(a simulator.Attempt, status int, body string) simulator.Attempt {
	a.Status, a.ResponseHeader, a.ResponseBody = status, http.Header{"Content-Type": {"text/html"}}, []byte(body)
	a.FinishedAt = a.StartedAt.Add(120 * time.Millisecond)
	return a
}

func decodeRecord(t *testing.T, raw []byte) notice.CallRecord {
	t.Helper()
	var r notice.CallRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("record is not JSON: %v\n%s", err, raw)
	}
	return r
}

// A new purchase whose merchant times out at T0, +1h, +2h and +3h fails
// the order (callbacks.md §9.2); the final notice says so and shows every
// attempt.
func TestFinalNoticeOfANewInstanceThatTimedOutFourTimes(t *testing.T) {
	m := v2NewInstance(simulator.OrderFailed)
	m.Attempts = 4
	c := notice.Call{Message: m}
	for i, id := range []string{"b-1", "b-2", "b-3", "b-4"} {
		c.Attempts = append(c.Attempts, timedOut(v2Attempt(t, i+1, t0.Add(time.Duration(i)*time.Hour), id)))
	}
	created := t0.Add(3*time.Hour + 21*time.Second)

	n := notice.ForAttempt(simulator.NoticeFinal, product(simulator.V2), c, "ntc-1", created)

	if n.ID != "ntc-1" || n.Kind != simulator.NoticeFinal || n.ProductID != "prod-cloud-notes" || n.OrderID != "CS2503011000ABCDE" ||
		n.MessageID != m.ID || n.AttemptN != 4 || !n.CreatedAt.Equal(created) || !n.MailedAt.IsZero() {
		t.Errorf("notice fields: %+v", n)
	}
	if want := []string{"ops@merchant.example.com", "Service Desk <service@merchant.example.com>"}; strings.Join(n.To, "|") != strings.Join(want, "|") {
		t.Errorf("To = %q, want the product's mailboxes %q", n.To, want)
	}
	if want := "[KooGallery simulator] newInstance call failed: ORDER_FAILED_UNSUBSCRIBED after 4 attempts, last TIMEOUT (order CS2503011000ABCDE)"; n.Subject != want {
		t.Errorf("Subject = %q\nwant      %q", n.Subject, want)
	}
	bodyHas(t, n.Body,
		"Product:   Cloud Notes (prod-cloud-notes), SKU sku-notes-pro",
		"Order:     CS2503011000ABCDE (line CS2503011000ABCDE-000001)",
		"Instance:  none yet",
		"Attempt 4 at 2025-03-01T05:00:00.000Z (2025-03-01 13:00:00 Beijing time)",
		"Verdict:     TIMEOUT",
		"Debugger:    调测失败,调用接口超时20s.",
		"HTTP status: no answer (Post ",
		"#1  2025-03-01T02:00:00.000Z  TIMEOUT",
		"#2  2025-03-01T03:00:00.000Z  TIMEOUT",
		"#3  2025-03-01T04:00:00.000Z  TIMEOUT",
		"#4  2025-03-01T05:00:00.000Z  TIMEOUT",
		"the order failed and was unsubscribed automatically (ORDER_FAILED_UNSUBSCRIBED)",
		"the buyer has to order again",
		"Call ID: msg0195a1b2c3d4e5f60718",
	)
	if strings.Contains(n.Body, "Next attempt") || strings.Contains(n.Body, "Response body") {
		t.Errorf("a final notice after timeouts shows no next attempt and no answer:\n%s", n.Body)
	}

	r := decodeRecord(t, n.Record)
	if r.CallID != m.ID || r.Kind != "LIFECYCLE" || r.Protocol != "V2" || r.Activity != "newInstance" || r.Method != "POST" ||
		r.ProductID != "prod-cloud-notes" || r.SKUCode != "sku-notes-pro" || r.OrderID != m.OrderID || r.OrderLineID != m.OrderLineID ||
		r.CustomerID != "cust-1" || r.URL != m.URL || r.Outcome != "ORDER_FAILED_UNSUBSCRIBED" || r.NextAttemptAt != nil || r.Redacted {
		t.Errorf("record header: %+v", r)
	}
	if len(r.Attempts) != 4 {
		t.Fatalf("record has %d attempts, want 4", len(r.Attempts))
	}
	for i, a := range r.Attempts {
		at := t0.Add(time.Duration(i) * time.Hour)
		if a.N != i+1 || a.StartedAt != at.Format("2006-01-02T15:04:05")+".000Z" || a.FinishedAt != at.Add(20*time.Second).Format("2006-01-02T15:04:05")+".000Z" {
			t.Errorf("attempt %d: n %d, %s - %s", i+1, a.N, a.StartedAt, a.FinishedAt)
		}
		if a.Response != nil || a.Error == nil || !strings.Contains(*a.Error, "deadline exceeded") || a.Verdict != "TIMEOUT" || a.DebuggerMessage != "调测失败,调用接口超时20s." {
			t.Errorf("attempt %d: response %v, error %v, verdict %s %q", i+1, a.Response, a.Error, a.Verdict, a.DebuggerMessage)
		}
		if want := []string{"b-1", "b-2", "b-3", "b-4"}[i]; a.Request.BusinessID != want {
			t.Errorf("attempt %d businessId %q, want %q", i+1, a.Request.BusinessID, want)
		}
		// The record is enough to check the signature as the merchant does.
		u, _ := url.Parse(a.Request.FullURL)
		body, _ := a.Request.BodyBytes()
		if err := protocol.VerifyV2(testKey, u.Query(), body, at, time.Minute); err != nil {
			t.Errorf("attempt %d: the recorded request does not verify: %v", i+1, err)
		}
		if a.Request.Signing.Nonce == "" || a.Request.Signing.CanonicalRequest == "" || !strings.HasPrefix(a.Request.Signing.CanonicalRequest, "<accessKey>") ||
			a.Request.Signing.AuthToken != "" {
			t.Errorf("attempt %d V2 signing: %+v", i+1, a.Request.Signing)
		}
	}
	if !bytes.Contains(n.Record, []byte(`"response": null`)) || !bytes.Contains(n.Record, []byte(`"nextAttemptAt": null`)) {
		t.Errorf("no answer and no next attempt are null in the record:\n%s", n.Record)
	}
}

// Each failed attempt raises a notice that names the next retry
// (callbacks.md §9.1 "每次失败发送通知").
func TestAttemptFailedNoticeShowsTheAnswerAndTheNextRetry(t *testing.T) {
	m := v2NewInstance(simulator.Pending)
	m.Attempts, m.NextAttemptAt = 2, t0.Add(2*time.Hour)
	a := answered(v2Attempt(t, 2, t0.Add(time.Hour), "b-2"), 502, "<html>Bad Gateway</html>\n")
	a.Verdict, a.Message, a.Detail = simulator.HTTPStatus, "调测失败,接口响应httpCode=502,请检查服务器日志,定位失败原因.", "HTTP status 502, want 200 (redirects are not followed)"
	c := notice.Call{Message: m, Attempts: []simulator.Attempt{timedOut(v2Attempt(t, 1, t0, "b-1")), a}}

	n := notice.ForAttempt(simulator.NoticeAttemptFailed, product(simulator.V2), c, "ntc-2", t0.Add(time.Hour+time.Second))

	if want := "[KooGallery simulator] newInstance call failed: HTTP_STATUS (order CS2503011000ABCDE)"; n.Subject != want {
		t.Errorf("Subject = %q, want %q", n.Subject, want)
	}
	if n.AttemptN != 2 || n.Kind != simulator.NoticeAttemptFailed {
		t.Errorf("attempt %d kind %s, want 2 ATTEMPT_FAILED", n.AttemptN, n.Kind)
	}
	bodyHas(t, n.Body,
		"Attempt 2 at 2025-03-01T03:00:00.000Z",
		"Debugger:    调测失败,接口响应httpCode=502,请检查服务器日志,定位失败原因.",
		"Detail:      HTTP status 502, want 200",
		"HTTP status: 502",
		"Response body (25 bytes):\n    | <html>Bad Gateway</html>\n",
		"Next attempt: 2025-03-01T04:00:00.000Z (2025-03-01 12:00:00 Beijing time)",
		"Call ID: msg0195a1b2c3d4e5f60718",
	)
	if strings.Contains(n.Body, "#1 ") {
		t.Errorf("a notice of one failed attempt lists only that attempt:\n%s", n.Body)
	}
	// The stored record holds the attempt the notice is about, not the
	// earlier one: Resolve brings that back from the store.
	r := decodeRecord(t, n.Record)
	if r.NextAttemptAt == nil || *r.NextAttemptAt != "2025-03-01T04:00:00.000Z" || r.Outcome != "PENDING" || len(r.Attempts) != 1 || r.Attempts[0].N != 2 {
		t.Fatalf("record: next %v, outcome %s, %d attempts; want the 2nd alone", r.NextAttemptAt, r.Outcome, len(r.Attempts))
	}
	resp := r.Attempts[0].Response
	if resp == nil || resp.Status != 502 || resp.Body != "<html>Bad Gateway</html>\n" || resp.BodyBase64 || resp.BodyTruncated || resp.Headers.Get("Content-Type") != "text/html" {
		t.Errorf("recorded answer: %+v", resp)
	}
	if r.Attempts[0].Error != nil {
		t.Errorf("an answered attempt has a null error, got %q", *r.Attempts[0].Error)
	}
}

// A V1 record carries timeStamp, the canonical string and the authToken,
// so that anyone holding the key can recompute authToken =
// Base64(HMAC-SHA256(accessKey + timeStamp, canonical)) (callbacks.md §3).
func TestV1RecordHoldsTheSigningInputs(t *testing.T) {
	params := []protocol.Param{
		{Name: "activity", Value: "refreshInstance"}, {Name: "businessId", Value: "biz-77"}, {Name: "instanceId", Value: "inst-9"},
		{Name: "orderId", Value: "CS2503011000RENEW"}, {Name: "expireTime", Value: "20260301000000"},
		{Name: protocol.V1TimeStamp, Value: protocol.V1Timestamp(t0)},
	}
	token, err := protocol.SignV1(testKey, params)
	if err != nil {
		t.Fatal(err)
	}
	a := simulator.Attempt{
		N: 1, StartedAt: t0, FinishedAt: t0.Add(80 * time.Millisecond), Method: http.MethodGet,
		URL:       "https://merchant.example.com/produce?" + protocol.EncodeV1Query(params, token),
		TimeStamp: protocol.V1Timestamp(t0), Canonical: protocol.V1Canonical(params), Signature: token,
		Verdict: simulator.ResultCode, Message: "调测失败,resultCode=000001", Detail: "resultCode 000001",
		Status: 200, ResponseHeader: http.Header{"Content-Type": {"application/json"}}, ResponseBody: []byte(`{"resultCode":"000001","resultMsg":"bad sign"}`),
	}
	m := simulator.Message{ID: "msg-v1", Kind: simulator.KindLifecycle, Protocol: simulator.V1, Activity: "refreshInstance",
		ProductID: "prod-cloud-notes", OrderID: "CS2503011000RENEW", InstanceID: "inst-9", URL: "https://merchant.example.com/produce",
		Outcome: simulator.Pending, NextAttemptAt: t0.Add(15 * time.Minute), Attempts: 1}

	raw, err := notice.Record(notice.Call{Message: m, Attempts: []simulator.Attempt{a}})
	if err != nil {
		t.Fatal(err)
	}
	r := decodeRecord(t, raw)
	if r.Protocol != "V1" || r.Method != "GET" || len(r.Attempts) != 1 {
		t.Fatalf("record: %+v", r)
	}
	s := r.Attempts[0].Request.Signing
	if s.TimeStamp != "20250301020000000" || s.AuthToken != token || s.CanonicalString != protocol.V1Canonical(params) {
		t.Errorf("V1 signing = %+v", s)
	}
	mac := hmac.New(sha256.New, []byte(testKey+s.TimeStamp))
	mac.Write([]byte(s.CanonicalString))
	if got := base64.StdEncoding.EncodeToString(mac.Sum(nil)); got != s.AuthToken {
		t.Errorf("authToken recomputed from the record = %s, recorded %s", got, s.AuthToken)
	}
	u, _ := url.Parse(r.Attempts[0].Request.FullURL)
	if err := protocol.VerifyV1(testKey, u.RawQuery); err != nil {
		t.Errorf("the recorded fullUrl does not verify: %v", err)
	}
	if r.Attempts[0].Request.BusinessID != "biz-77" {
		t.Errorf("businessId from the V1 query = %q, want biz-77", r.Attempts[0].Request.BusinessID)
	}
	for _, v2only := range []string{`"nonce"`, `"bodyHmacHex"`, `"canonicalRequest"`} {
		if bytes.Contains(raw, []byte(v2only)) {
			t.Errorf("a V1 record has %s:\n%s", v2only, raw)
		}
	}
	if bytes.Contains(raw, []byte(testKey)) {
		t.Errorf("the record holds the access key")
	}
}

// Bodies are kept as exact bytes: text when they are UTF-8, base64 with a
// flag when not (callbacks.md §12).
func TestBodiesThatAreNotUTF8AreRecordedInBase64(t *testing.T) {
	gbk := []byte{0x7b, 0x22, 0x72, 0x65, 0x73, 0x75, 0x6c, 0x74, 0x4d, 0x73, 0x67, 0x22, 0x3a, 0x22, 0xb3, 0xc9, 0xb9, 0xa6, 0x22, 0x7d} // {"resultMsg":"成功"} in GBK
	a := answered(v2Attempt(t, 1, t0, "b-1"), 200, string(gbk))
	a.Verdict = simulator.BodyParse
	raw, err := notice.Record(notice.Call{Message: v2NewInstance(simulator.Pending), Attempts: []simulator.Attempt{a}})
	if err != nil {
		t.Fatal(err)
	}
	r := decodeRecord(t, raw)
	resp := r.Attempts[0].Response
	if !resp.BodyBase64 || resp.Body != base64.StdEncoding.EncodeToString(gbk) {
		t.Errorf("GBK answer recorded as %q (base64 %v)", resp.Body, resp.BodyBase64)
	}
	if got, err := resp.BodyBytes(); err != nil || !bytes.Equal(got, gbk) {
		t.Errorf("BodyBytes = %x, %v; want %x", got, err, gbk)
	}
	req := r.Attempts[0].Request
	if req.BodyBase64 || !strings.HasPrefix(req.Body, `{"activity":"newInstance"`) {
		t.Errorf("a UTF-8 request body is recorded as text, got %q (base64 %v)", req.Body, req.BodyBase64)
	}
	if bytes.Contains(raw, []byte(`"bodyBase64": false`)) {
		t.Errorf("the flag is present only when set:\n%s", raw)
	}
}

// An answer of 100 KiB is kept to 64 KiB in the record and 2 KiB in the
// e-mail's text.
func TestLargeAnswersAreCut(t *testing.T) {
	body := strings.Repeat("a", 2048) + "AFTER-2KIB" + strings.Repeat("b", 64<<10-2048-10) + "AFTER-64KIB"
	body += strings.Repeat("c", 100<<10-len(body))
	a := answered(v2Attempt(t, 1, t0, "b-1"), 500, body)
	a.Verdict = simulator.HTTPStatus
	m := v2NewInstance(simulator.Pending)
	m.NextAttemptAt = t0.Add(time.Hour)

	n := notice.ForAttempt(simulator.NoticeAttemptFailed, product(simulator.V2), notice.Call{Message: m, Attempts: []simulator.Attempt{a}}, "ntc-3", t0)

	resp := decodeRecord(t, n.Record).Attempts[0].Response
	if !resp.BodyTruncated || resp.Body != body[:64<<10] {
		t.Errorf("record body: %d bytes, truncated %v; want the first 65536 bytes, truncated", len(resp.Body), resp.BodyTruncated)
	}
	if !strings.Contains(n.Body, "Response body (first 2048 of 102400 bytes):\n    | "+strings.Repeat("a", 2048)+"\n") || strings.Contains(n.Body, "AFTER-2KIB") {
		t.Errorf("the text shows other than the first 2 KiB of the answer:\n%.400s", n.Body)
	}
}

// The 2 KiB cut falls inside a Chinese character: the text stops before it
// rather than showing a broken character.
func TestTheTextCutKeepsCharactersWhole(t *testing.T) {
	body := "x" + strings.Repeat("中", 1000) // 3001 bytes; byte 2048 is inside the 683rd 中
	a := answered(v2Attempt(t, 1, t0, "b-1"), 500, body)
	a.Verdict = simulator.HTTPStatus
	n := notice.ForAttempt(simulator.NoticeAttemptFailed, product(simulator.V2), notice.Call{Message: v2NewInstance(simulator.Pending), Attempts: []simulator.Attempt{a}}, "ntc-4", t0)
	if want := "    | x" + strings.Repeat("中", 682) + "\n"; !strings.Contains(n.Body, want) || strings.Contains(n.Body, "\uFFFD") {
		t.Errorf("text of the answer:\n%s", n.Body)
	}
}

// A call about an instance rather than an order names the instance.
func TestSubjectNamesTheInstanceWithoutAnOrder(t *testing.T) {
	m := simulator.Message{ID: "msg-rel", Protocol: simulator.V2, Activity: "releaseInstance", ProductID: "p", InstanceID: "inst-4", Outcome: simulator.Stopped, Attempts: 5}
	a := timedOut(v2Attempt(t, 5, t0, "b"))
	n := notice.ForAttempt(simulator.NoticeFinal, product(simulator.V2), notice.Call{Message: m, Attempts: []simulator.Attempt{a}}, "ntc-5", t0)
	if want := "[KooGallery simulator] releaseInstance call failed: STOPPED_AWAITING_MANUAL_RESTART after 5 attempts, last TIMEOUT (instance inst-4)"; n.Subject != want {
		t.Errorf("Subject = %q, want %q", n.Subject, want)
	}
	if !strings.Contains(n.Body, "press 重新启动 (restart)") || !strings.Contains(n.Body, "POST /admin/v1/messages/msg-rel/restart") {
		t.Errorf("a stopped call's notice says how to restart it:\n%s", n.Body)
	}
}

// A dial-test notice lists every probe of the run with its verdict
// (callbacks.md §11).
func TestDialRunNoticeListsEveryProbe(t *testing.T) {
	probe := func(id, activity string, attempts ...simulator.Attempt) notice.Call {
		return notice.Call{Message: simulator.Message{ID: id, Kind: simulator.KindDialTest, Protocol: simulator.V2, Activity: activity,
			ProductID: "prod-cloud-notes", URL: "https://merchant.example.com/produce", Outcome: simulator.Stopped}, Attempts: attempts}
	}
	ok := answered(v2Attempt(t, 1, t0, "b-1"), 200, `{"resultCode":"000000"}`)
	ok.Verdict = simulator.Success
	bad := answered(v2Attempt(t, 1, t0.Add(time.Second), "b-2"), 200, `{"resultCode":"000000"}`)
	bad.Verdict, bad.Message, bad.Detail = simulator.BodySignMismatch, "调测失败,生产接口响应头缺少Body-Sign,或Body-Sign格式错误.", "expected 3f2a..., received 00ff..."
	run := simulator.DialRun{ID: "run-7", ProductID: "prod-cloud-notes", At: t0, Done: true}

	n := notice.ForDialRun(product(simulator.V2), run, []notice.Call{
		probe("probe-1", "newInstance", ok), probe("probe-2", "refreshInstance", bad), probe("probe-3", "releaseInstance"),
	}, "ntc-6", t0.Add(time.Minute))

	if n.Kind != simulator.NoticeDialTest || n.ProductID != "prod-cloud-notes" || len(n.To) != 2 || n.OrderID != "" {
		t.Errorf("notice: %+v", n)
	}
	if want := "[KooGallery simulator] dial test failed: 2 of 3 cases (product prod-cloud-notes, run run-7)"; n.Subject != want {
		t.Errorf("Subject = %q, want %q", n.Subject, want)
	}
	bodyHas(t, n.Body,
		"1. newInstance (call probe-1): passed, SUCCESS, 200",
		"2. refreshInstance (call probe-2): FAILED at 2025-03-01T02:00:01.000Z",
		"Verdict:     BODY_SIGN_MISMATCH",
		"Detail:      expected 3f2a..., received 00ff...",
		"3. releaseInstance (call probe-3): not attempted",
		"5 consecutive failing days",
	)
	var rec notice.DialRunRecord
	if err := json.Unmarshal(n.Record, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.RunID != "run-7" || rec.At != "2025-03-01T02:00:00.000Z" || rec.Passed || len(rec.Calls) != 3 ||
		rec.Calls[1].CallID != "probe-2" || rec.Calls[1].Attempts[0].Verdict != "BODY_SIGN_MISMATCH" || len(rec.Calls[2].Attempts) != 0 {
		t.Errorf("dial run record: %+v", rec)
	}
}

func TestProductNotices(t *testing.T) {
	p := product(simulator.V1)
	for _, tc := range []struct {
		status        simulator.ProductStatus
		reason, want  string
		bodyMentioned string
	}{
		{simulator.FrozenHidden, "5 consecutive days of failed dial tests", "[KooGallery simulator] product prod-cloud-notes frozen and hidden: 5 consecutive days of failed dial tests", "unfreezing is an operator action"},
		{simulator.Delisted, "6 failed orders in 2025-03\r\nBcc: x@y", "[KooGallery simulator] product prod-cloud-notes delisted: 6 failed orders in 2025-03  Bcc: x@y", "relisting is an operator action"},
	} {
		n := notice.ForProduct(p, tc.status, tc.reason, "ntc-p", t0)
		if n.Subject != tc.want {
			t.Errorf("Subject = %q, want %q", n.Subject, tc.want)
		}
		if n.Kind != simulator.NoticeProduct || n.ProductID != p.ID || n.Record != nil || len(n.To) != 2 {
			t.Errorf("%s notice: %+v", tc.status, n)
		}
		if !strings.Contains(n.Body, "Status:    "+string(tc.status)) || !strings.Contains(n.Body, tc.bodyMentioned) {
			t.Errorf("%s body:\n%s", tc.status, n.Body)
		}
	}
}

// The access key never appears in a notice, even when the merchant echoes
// it back in its answer.
func TestTheAccessKeyNeverAppearsInANotice(t *testing.T) {
	a := answered(v2Attempt(t, 1, t0, "b-1"), 401, `{"resultCode":"000001","resultMsg":"wrong key, expected `+testKey+`"}`)
	a.ResponseHeader.Set("X-Debug-Key", testKey)
	a.Verdict, a.Detail = simulator.HTTPStatus, "HTTP status 401"
	m := v2NewInstance(simulator.Stopped)
	c := notice.Call{Message: m, Attempts: []simulator.Attempt{a}}
	p := product(simulator.V2)
	run := simulator.DialRun{ID: "run-1", ProductID: p.ID, At: t0}
	for _, n := range []simulator.Notice{
		notice.ForAttempt(simulator.NoticeAttemptFailed, p, c, "n1", t0),
		notice.ForAttempt(simulator.NoticeFinal, p, c, "n2", t0),
		notice.ForDialRun(p, run, []notice.Call{c}, "n3", t0),
		notice.ForProduct(p, simulator.FrozenHidden, "dial tests", "n4", t0),
	} {
		assertNoKey(t, n)
	}
	if a.ResponseHeader.Get("X-Debug-Key") != testKey || !bytes.Contains(a.ResponseBody, []byte(testKey)) {
		t.Errorf("rendering changed the caller's attempt")
	}
	r := decodeRecord(t, notice.ForAttempt(simulator.NoticeFinal, p, c, "n2", t0).Record)
	if !r.Redacted || !strings.Contains(r.Attempts[0].Response.Body, "expected <accessKey>") {
		t.Errorf("a record with the key replaced says so: redacted %v, body %q", r.Redacted, r.Attempts[0].Response.Body)
	}
}

// A generic product's order-notification key is kept out of its notices
// like the access key (callbacks.md §5.15: a key of its own).
func TestTheOrderNotifyKeyNeverAppearsInANotice(t *testing.T) {
	a := answered(v2Attempt(t, 1, t0, "b-1"), 401, `{"resultCode":"000001","resultMsg":"wrong key, expected `+testKey+`"}`)
	a.Verdict, a.Detail = simulator.HTTPStatus, "HTTP status 401"
	m := v2NewInstance(simulator.OrderFailed)
	m.Activity, m.Params = "orderNotify", []byte(`{"activity":"orderNotify","orderId":"`+m.OrderID+`","orderLineId":"`+m.OrderLineID+`"}`)
	c := notice.Call{Message: m, Attempts: []simulator.Attempt{a}}
	p := product(simulator.V2)
	p.AccessKey, p.InterfaceType, p.OrderNotifyKey = "AK-basic-0b1c2d3e4f", simulator.GenericInterface, testKey
	run := simulator.DialRun{ID: "run-1", ProductID: p.ID, At: t0}
	for _, n := range []simulator.Notice{
		notice.ForAttempt(simulator.NoticeAttemptFailed, p, c, "n1", t0),
		notice.ForAttempt(simulator.NoticeFinal, p, c, "n2", t0),
		notice.ForDialRun(p, run, []notice.Call{c}, "n3", t0),
	} {
		assertNoKey(t, n)
	}
}

// assertNoKey checks a notice, its record and its e-mail, decoded, for the
// test key.
func assertNoKey(t *testing.T, n simulator.Notice) {
	t.Helper()
	mail, _, err := notice.Compose(n, mustAddress(t, notice.DefaultFrom), t0)
	if err != nil {
		t.Fatal(err)
	}
	text, rec := readEmail(t, mail)
	for what, s := range map[string]string{"subject": n.Subject, "body": n.Body, "record": string(n.Record), "e-mail": string(mail), "e-mail text": text, "attachment": string(rec)} {
		if strings.Contains(s, testKey) {
			t.Errorf("notice %s (%s): the %s holds the access key", n.ID, n.Kind, what)
		}
	}
}

// bodyHas checks that a notice's text has each of want.
func bodyHas(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("body lacks %q:\n%s", w, body)
		}
	}
}
