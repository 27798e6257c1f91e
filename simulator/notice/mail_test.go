package notice_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	smtpd "github.com/emersion/go-smtp"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/notice"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
)

// envelope is one message an SMTP server accepted.
type envelope struct {
	from  string
	rcpts []string
	data  []byte
}

// mailServer is a real SMTP server on loopback that keeps what it accepts.
type mailServer struct {
	addr string

	mu sync.Mutex
	// refuse lists recipients the server answers 550 to.
	refuse   []string
	received []envelope
}

func startMailServer(t *testing.T, refuse ...string) *mailServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ms := &mailServer{addr: l.Addr().String(), refuse: refuse}
	srv := smtpd.NewServer(smtpd.BackendFunc(func(*smtpd.Conn) (smtpd.Session, error) { return &session{server: ms}, nil }))
	srv.Domain = "mail.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return ms
}

// accept makes the server take mail for a recipient it refused.
func (ms *mailServer) accept(rcpt string) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.refuse = slices.DeleteFunc(ms.refuse, func(r string) bool { return r == rcpt })
}

func (ms *mailServer) refused(rcpt string) bool {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return slices.Contains(ms.refuse, rcpt)
}

func (ms *mailServer) messages() []envelope {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return slices.Clone(ms.received)
}

type session struct {
	server *mailServer
	cur    envelope
}

func (s *session) Mail(from string, _ *smtpd.MailOptions) error { s.cur.from = from; return nil }
func (s *session) Rcpt(to string, _ *smtpd.RcptOptions) error {
	if s.server.refused(to) {
		return &smtpd.SMTPError{Code: 550, EnhancedCode: smtpd.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	s.cur.rcpts = append(s.cur.rcpts, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = data
	s.server.mu.Lock()
	s.server.received = append(s.server.received, s.cur)
	s.server.mu.Unlock()
	return nil
}
func (s *session) Reset()        { s.cur = envelope{} }
func (s *session) Logout() error { return nil }

func openStore(t *testing.T) simulator.Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "kgsim.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustAddress(t *testing.T, s string) *mail.Address {
	t.Helper()
	a, err := mail.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// readEmail parses an e-mail as a mail client does and returns its text
// part and its call-record.json attachment, both decoded.
func readEmail(t *testing.T, raw []byte) (text string, record []byte) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v", err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/mixed" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return text, record
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Header.Get("Content-Type") == "text/plain; charset=UTF-8" && p.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			b, err := io.ReadAll(quotedprintable.NewReader(p))
			if err != nil {
				t.Fatal(err)
			}
			text = string(b)
			continue
		}
		if p.FileName() != "call-record.json" || p.Header.Get("Content-Type") != `application/json; name=call-record.json` || p.Header.Get("Content-Transfer-Encoding") != "base64" {
			t.Fatalf("unexpected part %v", p.Header)
		}
		record, err = io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
		if err != nil {
			t.Fatal(err)
		}
	}
}

// storedNotice adds a rendered attempt notice to the store.
func storedNotice(t *testing.T, st simulator.Store, id string, to ...string) simulator.Notice {
	t.Helper()
	m := v2NewInstance(simulator.Pending)
	m.NextAttemptAt = t0.Add(time.Hour)
	a := answered(v2Attempt(t, 1, t0, "b-1"), 500, "服务器内部错误 (internal error)")
	a.Verdict, a.Message = simulator.HTTPStatus, "调测失败,接口响应httpCode=500,请检查服务器日志,定位失败原因."
	p := product(simulator.V2)
	p.NoticeTo = to
	n := notice.ForAttempt(simulator.NoticeAttemptFailed, p, notice.Call{Message: m, Attempts: []simulator.Attempt{a}}, id, t0)
	if err := st.AddNotice(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMailerSendsPendingNoticesOverSMTP(t *testing.T) {
	ctx := context.Background()
	ms := startMailServer(t)
	st := openStore(t)
	n := storedNotice(t, st, "ntc-mail-1", "ops@merchant.example.com", "Service Desk <service@merchant.example.com>")
	wall := time.Date(2025, 3, 1, 10, 0, 3, 0, time.FixedZone("CST", 8*3600))
	var logs bytes.Buffer
	m := &notice.Mailer{Addr: ms.addr, From: "KooGallery 云商店 <noreply@kgsim.test>", Store: st, Clock: func() time.Time { return wall },
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}

	sent, err := m.SendPending(ctx)
	if err != nil || sent != 1 {
		t.Fatalf("SendPending = %d, %v; want 1, nil", sent, err)
	}
	got := ms.messages()
	if len(got) != 1 {
		t.Fatalf("the server received %d messages, want 1", len(got))
	}
	e := got[0]
	if e.from != "noreply@kgsim.test" || strings.Join(e.rcpts, ",") != "ops@merchant.example.com,service@merchant.example.com" {
		t.Errorf("envelope: MAIL FROM %q, RCPT TO %q", e.from, e.rcpts)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(e.data))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(h.Get("Subject"))
	if err != nil || subject != n.Subject {
		t.Errorf("Subject decodes to %q (%v), want %q", subject, err, n.Subject)
	}
	if date, err := h.Date(); err != nil || !date.Equal(wall) {
		t.Errorf("Date %q = %v (%v), want %v", h.Get("Date"), date, err, wall)
	}
	if from, err := h.AddressList("From"); err != nil || len(from) != 1 || from[0].Name != "KooGallery 云商店" || from[0].Address != "noreply@kgsim.test" {
		t.Errorf("From %q: %v %v", h.Get("From"), from, err)
	}
	to, err := h.AddressList("To")
	if err != nil || len(to) != 2 || to[0].Address != "ops@merchant.example.com" || to[1].Name != "Service Desk" || to[1].Address != "service@merchant.example.com" {
		t.Errorf("To %q: %v %v", h.Get("To"), to, err)
	}
	if h.Get("Message-ID") != "<ntc-mail-1@kgsim.test>" || h.Get("MIME-Version") != "1.0" || h.Get("X-Kgsim-Notice-Id") != "ntc-mail-1" {
		t.Errorf("headers: %v", h)
	}
	text, rec := readEmail(t, e.data)
	if text != strings.ReplaceAll(n.Body, "\n", "\r\n") {
		t.Errorf("text part differs from the notice's body:\n%q\nwant\n%q", text, n.Body)
	}
	if !strings.Contains(text, "服务器内部错误") || !strings.Contains(text, "Call ID: msg0195a1b2c3d4e5f60718") {
		t.Errorf("text part lacks the answer or the call ID:\n%s", text)
	}
	if !bytes.Equal(rec, n.Record) {
		t.Errorf("attachment differs from the stored record:\n%s\nwant\n%s", rec, n.Record)
	}
	if bytes.Contains(e.data, []byte(testKey)) || bytes.Contains(rec, []byte(testKey)) || strings.Contains(logs.String(), testKey) {
		t.Errorf("the access key went out in the e-mail or the logs")
	}
	if strings.Contains(logs.String(), "ops@merchant.example.com") {
		t.Errorf("the logs name the recipients: %s", logs.String())
	}

	stored, err := st.Notice(ctx, "ntc-mail-1")
	if err != nil || !stored.MailedAt.Equal(wall) {
		t.Errorf("stored MailedAt = %v (%v), want %v", stored.MailedAt, err, wall)
	}
	if sent, err := m.SendPending(ctx); sent != 0 || err != nil || len(ms.messages()) != 1 {
		t.Errorf("second SendPending = %d, %v, server has %d messages; want nothing sent", sent, err, len(ms.messages()))
	}
}

// Parse reads back the record of an e-mail exactly as the Mailer sent it.
func TestParseReadsTheRecordOfAMailedNotice(t *testing.T) {
	ms := startMailServer(t)
	st := openStore(t)
	n := storedNotice(t, st, "ntc-parse", "ops@merchant.example.com")
	if _, err := (&notice.Mailer{Addr: ms.addr, Store: st}).SendPending(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec, err := notice.Parse(bytes.NewReader(ms.messages()[0].data))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rec, n.Record) {
		t.Errorf("Parse = %s\nwant %s", rec, n.Record)
	}
	if decodeRecord(t, rec).CallID != "msg0195a1b2c3d4e5f60718" {
		t.Errorf("record: %s", rec)
	}
}

func TestMailerLeavesANoticeUnmailedWhenSendingFails(t *testing.T) {
	ctx := context.Background()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	notListening := closed.Addr().String()
	closed.Close()

	t.Run("the server refuses a recipient", func(t *testing.T) {
		ms := startMailServer(t, "gone@merchant.example.com")
		st := openStore(t)
		storedNotice(t, st, "ntc-refused", "ops@merchant.example.com", "gone@merchant.example.com")
		storedNotice(t, st, "ntc-fine", "ops@merchant.example.com")

		sent, err := (&notice.Mailer{Addr: ms.addr, Store: st}).SendPending(ctx)
		if sent != 1 || err == nil || !strings.Contains(err.Error(), "ntc-refused") || !strings.Contains(err.Error(), "gone@merchant.example.com") || !strings.Contains(err.Error(), "550") {
			t.Fatalf("SendPending = %d, %v; want 1 sent and the refusal of gone@", sent, err)
		}
		if got := ms.messages(); len(got) != 1 || !bytes.Contains(got[0].data, []byte("ntc-fine")) {
			t.Errorf("server received %d messages; want only the other notice", len(got))
		}
		unmailed, err := st.Notices(ctx, simulator.NoticeFilter{Unmailed: true})
		if err != nil || len(unmailed) != 1 || unmailed[0].ID != "ntc-refused" {
			t.Errorf("unmailed = %v, %v; want ntc-refused only", unmailed, err)
		}
	})
	t.Run("no server listens", func(t *testing.T) {
		st := openStore(t)
		storedNotice(t, st, "ntc-1", "ops@merchant.example.com")
		storedNotice(t, st, "ntc-2", "ops@merchant.example.com")

		sent, err := (&notice.Mailer{Addr: notListening, Store: st, Timeout: 5 * time.Second}).SendPending(ctx)
		var opErr *net.OpError
		if sent != 0 || !errors.As(err, &opErr) || !strings.Contains(err.Error(), notListening) {
			t.Fatalf("SendPending = %d, %v; want 0 and the dial error naming %s", sent, err, notListening)
		}
		if strings.Count(err.Error(), "mailing notice") != 1 {
			t.Errorf("an unreachable server is tried once, not for every notice: %v", err)
		}
		unmailed, _ := st.Notices(ctx, simulator.NoticeFilter{Unmailed: true})
		if len(unmailed) != 2 {
			t.Errorf("%d notices unmailed, want both", len(unmailed))
		}
	})
}

// Every SMTP step is bounded: a server that accepts the connection and
// then says nothing fails the send after the timeout.
func TestMailerGivesUpOnASilentServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, silent, until the test ends
		}
	}()
	st := openStore(t)
	storedNotice(t, st, "ntc-silent", "ops@merchant.example.com")
	sent, err := (&notice.Mailer{Addr: l.Addr().String(), Store: st, Timeout: 100 * time.Millisecond}).SendPending(context.Background())
	var netErr net.Error
	if sent != 0 || !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Fatalf("SendPending = %d, %v; want a timeout", sent, err)
	}
	if n, _ := st.Notice(context.Background(), "ntc-silent"); !n.MailedAt.IsZero() {
		t.Errorf("the notice was marked mailed")
	}
}

// A notice without recipients is stored but not sent, and is no error.
func TestMailerSkipsNoticesWithoutRecipients(t *testing.T) {
	ctx := context.Background()
	ms := startMailServer(t)
	st := openStore(t)
	storedNotice(t, st, "ntc-nobody")
	sent, err := (&notice.Mailer{Addr: ms.addr, Store: st}).SendPending(ctx)
	if sent != 0 || err != nil || len(ms.messages()) != 0 {
		t.Fatalf("SendPending = %d, %v, %d received; want nothing sent, no error", sent, err, len(ms.messages()))
	}
	n, err := st.Notice(ctx, "ntc-nobody")
	if err != nil || !n.MailedAt.IsZero() {
		t.Errorf("a notice sent to nobody is not marked mailed: %v, %v", n.MailedAt, err)
	}
}

func TestMailerConfigurationErrors(t *testing.T) {
	st := openStore(t)
	for _, tc := range []struct {
		m    notice.Mailer
		want string
	}{
		{notice.Mailer{Store: st}, "smtp: the SMTP server address is required"},
		{notice.Mailer{Addr: "127.0.0.1:25", From: "not an address", Store: st}, `from: "not an address" is not an e-mail address`},
	} {
		if _, err := tc.m.SendPending(context.Background()); err == nil || !strings.HasPrefix(err.Error(), tc.want) || simulator.ErrorCode(err) != simulator.EINVALID {
			t.Errorf("SendPending = %v, want %q", err, tc.want)
		}
	}
}

// A long non-ASCII subject is Q-encoded and folded, one encoded word of at
// most 75 characters per line (RFC 2047 §2).
func TestComposeEncodesAndFoldsTheSubject(t *testing.T) {
	n := simulator.Notice{ID: "n", To: []string{"a@b.example"}, Subject: "[KooGallery simulator] 产品 " + strings.Repeat("云商店", 30), Body: "x\n"}
	raw, _, err := notice.Compose(n, mustAddress(t, notice.DefaultFrom), t0)
	if err != nil {
		t.Fatal(err)
	}
	_, subject, _ := bytes.Cut(raw, []byte("Subject: "))
	subject, _, _ = bytes.Cut(subject, []byte("\r\nMessage-ID:"))
	lines := strings.Split(string(subject), "\r\n ")
	if len(lines) < 4 {
		t.Errorf("the subject is not folded: %q", subject)
	}
	for _, w := range lines {
		if len(w) > 75 || !strings.HasPrefix(w, "=?UTF-8?q?") || !strings.HasSuffix(w, "?=") {
			t.Errorf("subject line %q is not one encoded word of at most 75 characters", w)
		}
	}
	msg, _ := mail.ReadMessage(bytes.NewReader(raw))
	var dec mime.WordDecoder
	if got, err := dec.DecodeHeader(msg.Header.Get("Subject")); err != nil || got != n.Subject {
		t.Errorf("Subject decodes to %q, %v", got, err)
	}
	if text, rec := readEmail(t, raw); text != "x\r\n" || rec != nil {
		t.Errorf("text %q, record %q: a notice without a record has no attachment", text, rec)
	}
	if _, _, err := notice.Compose(simulator.Notice{ID: "n", To: []string{"nobody"}}, mustAddress(t, notice.DefaultFrom), t0); err == nil || !strings.Contains(err.Error(), "to[0]") {
		t.Errorf("a bad recipient: %v", err)
	}
}

// leaseTable is a store's lease table in memory: a lease is held by its
// owner until its end, judged at the now the caller passes.
type leaseTable struct {
	mu     sync.Mutex
	owners map[string]string
	until  map[string]time.Time
}

func (l *leaseTable) Lease(_ context.Context, name, owner string, now, until time.Time) (bool, time.Time, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if o, end := l.owners[name], l.until[name]; o != "" && o != owner && now.Before(end) {
		return false, end, nil
	}
	l.owners[name], l.until[name] = owner, until
	return true, until, nil
}

func (l *leaseTable) ReleaseLease(_ context.Context, name, owner string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.owners[name] == owner {
		delete(l.owners, name)
	}
	return nil
}

// Among replicas, a notice's lease is timed on the mailer's clock: a
// notice another replica leased is left to it until its lease ends by
// that clock, and the lease this mailer takes runs from the clock's now.
func TestMailerTimesItsLeaseOnItsClock(t *testing.T) {
	ctx := context.Background()
	ms := startMailServer(t)
	st := openStore(t)
	storedNotice(t, st, "ntc-leased", "ops@merchant.example.com")
	wall := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	leases := &leaseTable{owners: map[string]string{}, until: map[string]time.Time{}}
	if held, _, _ := leases.Lease(ctx, "notice:ntc-leased", "replica-b", wall, wall.Add(5*time.Minute)); !held {
		t.Fatal("replica-b could not take the lease")
	}
	now := wall.Add(time.Minute)
	m := &notice.Mailer{Addr: ms.addr, Store: st, Clock: func() time.Time { return now }, Leases: leases, Owner: "replica-a"}

	if sent, err := m.SendPending(ctx); sent != 0 || err != nil || len(ms.messages()) != 0 {
		t.Fatalf("at %v, inside replica-b's lease: SendPending = %d, %v; want the notice left to replica-b", now, sent, err)
	}
	now = wall.Add(6 * time.Minute)
	if sent, err := m.SendPending(ctx); sent != 1 || err != nil {
		t.Fatalf("at %v, after replica-b's lease: SendPending = %d, %v; want it mailed", now, sent, err)
	}
	if got, want := leases.until["notice:ntc-leased"], now.Add(10*time.Minute); leases.owners["notice:ntc-leased"] != "replica-a" || !got.Equal(want) {
		t.Errorf("the lease is %s's until %v, want replica-a's until %v", leases.owners["notice:ntc-leased"], got, want)
	}
}
