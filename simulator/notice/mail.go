package notice

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// RecordFile is the name of the attachment that carries a notice's record.
const RecordFile = "call-record.json"

// DefaultFrom is the sender of notices when Mailer.From is empty.
const DefaultFrom = "KooGallery simulator <kgsim@localhost>"

// DefaultTimeout bounds each step of an SMTP conversation when
// Mailer.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// DefaultInterval is how often Run looks for notices to mail when
// Mailer.Interval is zero.
const DefaultInterval = 2 * time.Second

// MailStore is the part of the store the mailer touches: the notices, and
// the records that complete them.
type MailStore interface {
	simulator.NoticesTx
	Records
}

// Mailer sends the notices not yet mailed, over SMTP, and marks them
// mailed. It authenticates to nobody and does not use STARTTLS: it is
// meant for a local or CI mail catcher or relay.
type Mailer struct {
	Addr  string // host:port of the SMTP server
	From  string // an RFC 5322 address; DefaultFrom when empty
	Store MailStore
	// Clock is the wall clock, for the Date header, MailedAt and the
	// notices' leases; time.Now when nil.
	Clock   func() time.Time
	Timeout time.Duration // per SMTP step; DefaultTimeout when zero
	// Interval is how long Run waits between its rounds; DefaultInterval
	// when zero.
	Interval time.Duration
	Logger   *slog.Logger // nil discards
	// Leases and Owner, when set, make this mailer one of several kgsim
	// processes sharing the store: each notice is mailed under a lease,
	// by one of them.
	Leases simulator.Leaser
	Owner  string
}

// mailLease is how long a notice's lease lasts: more than the SMTP
// conversation's steps may take.
const mailLease = 10 * time.Minute

// claim says whether this mailer is to mail n: always for the only
// process on its store; among replicas, if it took n's lease and n was
// not mailed meanwhile by the lease's holder before.
func (m *Mailer) claim(ctx context.Context, n simulator.Notice) (bool, error) {
	if m.Leases == nil {
		return true, nil
	}
	// On the mailer's clock, like MailedAt, so that a virtual clock
	// moves the leases too.
	now := m.now()
	held, _, err := m.Leases.Lease(ctx, "notice:"+n.ID, m.Owner, now, now.Add(mailLease))
	if err != nil || !held {
		return false, err
	}
	cur, err := m.Store.Notice(ctx, n.ID)
	if err != nil {
		return false, err
	}
	return cur.MailedAt.IsZero(), nil
}

// SendPending mails every notice not yet mailed, oldest first, one SMTP
// conversation each, and marks each one mailed once the server accepted
// it. It returns how many it sent. A notice the server refuses stays
// unmailed and the others are still tried; if the server cannot be reached
// at all the rest are left for the next call. The errors are returned
// together. A notice without recipients is skipped and stays unmailed (it
// was never sent), without error.
//
// Delivery is at least once: a notice the server accepted but that could
// not be marked mailed is sent again next time, with the same Message-ID.
func (m *Mailer) SendPending(ctx context.Context) (int, error) {
	if m.Addr == "" {
		return 0, simulator.Errorf(simulator.EINVALID, "smtp", "the SMTP server address is required, as host:port")
	}
	from, err := mail.ParseAddress(first(m.From, DefaultFrom))
	if err != nil {
		return 0, simulator.Errorf(simulator.EINVALID, "from", "%q is not an e-mail address: %v", m.From, err)
	}
	notices, err := m.Store.Notices(ctx, simulator.NoticeFilter{Unmailed: true})
	if err != nil {
		return 0, fmt.Errorf("listing unmailed notices: %w", err)
	}
	log := m.logger()
	sent := 0
	var errs []error
	for _, n := range notices {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		attrs := []any{"notice", n.ID, "kind", n.Kind, "product", n.ProductID, "recipients", len(n.To)}
		if len(n.To) == 0 {
			log.DebugContext(ctx, "notice has no recipients; not mailed", attrs...)
			continue
		}
		if mine, err := m.claim(ctx, n); err != nil || !mine {
			if err != nil {
				errs = append(errs, fmt.Errorf("mailing notice %s: %w", n.ID, err))
			}
			continue
		}
		n, err := Resolve(ctx, m.Store, n)
		var msg []byte
		var rcpts []string
		if err == nil {
			msg, rcpts, err = Compose(n, from, m.now())
		}
		if err == nil {
			err = m.send(ctx, from.Address, rcpts, msg)
		}
		if err != nil {
			log.WarnContext(ctx, "mailing notice failed", append(attrs, "error", err)...)
			errs = append(errs, fmt.Errorf("mailing notice %s: %w", n.ID, err))
			if _, ok := errors.AsType[*dialError](err); ok {
				break // the others would fail the same way
			}
			continue
		}
		if err := m.Store.MarkMailed(ctx, n.ID, m.now()); err != nil {
			log.ErrorContext(ctx, "notice mailed but not marked mailed; it will be sent again", append(attrs, "error", err)...)
			errs = append(errs, fmt.Errorf("marking notice %s mailed: %w", n.ID, err))
			continue
		}
		log.InfoContext(ctx, "notice mailed", attrs...)
		sent++
	}
	return sent, errors.Join(errs...)
}

// Run mails the stored notices not yet mailed, a round at once and one
// every Interval, until ctx is done. A notice that could not be mailed
// stays stored unmailed, so the next round tries it again; a round's
// failures are logged, since nobody waits on Run to read them.
func (m *Mailer) Run(ctx context.Context) {
	interval := m.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := m.SendPending(ctx); err != nil && ctx.Err() == nil {
			m.logger().WarnContext(ctx, "mailing notices failed", "err", err, "sent", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// dialError is a failure to reach the SMTP server at all.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// send runs one SMTP conversation, every step bounded by the timeout and
// all of it by ctx.
func (m *Mailer) send(ctx context.Context, from string, rcpts []string, msg []byte) error {
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return &dialError{fmt.Errorf("SMTP server %s: %w", m.Addr, err)}
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	step := func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return conn.SetDeadline(time.Now().Add(timeout))
	}
	host, _, _ := net.SplitHostPort(m.Addr)
	if err := step(); err != nil {
		return err
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return &dialError{fmt.Errorf("SMTP server %s greeting: %w", m.Addr, err)}
	}
	if err := step(); err != nil {
		return err
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("MAIL FROM:<%s>: %w", from, err)
	}
	for _, r := range rcpts {
		if err := step(); err != nil {
			return err
		}
		if err := c.Rcpt(r); err != nil {
			return fmt.Errorf("RCPT TO:<%s>: %w", r, err)
		}
	}
	if err := step(); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	for chunk := range slices.Chunk(msg, 64<<10) {
		if err := step(); err != nil {
			return err
		}
		if _, err := w.Write(chunk); err != nil {
			return fmt.Errorf("DATA: %w", err)
		}
	}
	if err := step(); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	// The server has taken the message; a failed QUIT does not undo that.
	if step() == nil {
		_ = c.Quit()
	}
	return nil
}

// Compose renders n as an RFC 5322 e-mail from from, dated date: a
// multipart/mixed message with the text and, if n has a record, the record
// attached as call-record.json. It returns the message and the envelope
// recipients.
func Compose(n simulator.Notice, from *mail.Address, date time.Time) ([]byte, []string, error) {
	if len(n.To) == 0 {
		return nil, nil, simulator.Errorf(simulator.EINVALID, "to", "notice %s has no recipients", n.ID)
	}
	var to []string
	var rcpts []string
	for i, s := range n.To {
		a, err := mail.ParseAddress(s)
		if err != nil {
			return nil, nil, simulator.Errorf(simulator.EINVALID, fmt.Sprintf("to[%d]", i), "%q is not an e-mail address: %v", s, err)
		}
		to = append(to, a.String())
		rcpts = append(rcpts, a.Address)
	}
	_, domain, _ := strings.Cut(from.Address, "@")

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	text, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"text/plain; charset=UTF-8"},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	if err != nil {
		return nil, nil, err
	}
	qp := quotedprintable.NewWriter(text)
	if _, err := io.WriteString(qp, n.Body); err != nil {
		return nil, nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, nil, err
	}
	if len(n.Record) > 0 {
		att, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {mime.FormatMediaType("application/json", map[string]string{"name": RecordFile})},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": RecordFile})},
			"Content-Transfer-Encoding": {"base64"},
		})
		if err != nil {
			return nil, nil, err
		}
		enc := base64.StdEncoding.EncodeToString(n.Record)
		for len(enc) > 76 {
			io.WriteString(att, enc[:76]+"\r\n")
			enc = enc[76:]
		}
		io.WriteString(att, enc+"\r\n")
	}
	if err := mw.Close(); err != nil {
		return nil, nil, err
	}

	var msg bytes.Buffer
	header := func(name, value string) { msg.WriteString(name + ": " + value + "\r\n") }
	header("Date", date.Format(time.RFC1123Z))
	header("From", from.String())
	header("To", strings.Join(to, ",\r\n "))
	header("Subject", encodeSubject(n.Subject))
	header("Message-ID", "<"+n.ID+"@"+first(domain, "kgsim.localhost")+">")
	header("MIME-Version", "1.0")
	header("Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mw.Boundary()}))
	header("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies
	header("X-Kgsim-Notice-Id", n.ID)
	header("X-Kgsim-Notice-Kind", string(n.Kind))
	msg.WriteString("\r\n")
	msg.Write(body.Bytes())
	return msg.Bytes(), rcpts, nil
}

// encodeSubject Q-encodes a subject that is not plain ASCII, one encoded
// word per folded line so no line grows long.
func encodeSubject(s string) string {
	return strings.ReplaceAll(mime.QEncoding.Encode("UTF-8", oneLine(s)), "?= =?", "?=\r\n =?")
}

func (m *Mailer) now() time.Time {
	if m.Clock != nil {
		return m.Clock()
	}
	return time.Now()
}

func (m *Mailer) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.New(slog.DiscardHandler)
}
