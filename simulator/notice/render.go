// Package notice renders the failure notices the marketplace sends a
// merchant (callbacks.md §12) from the stored call record, mails them over
// SMTP, and reads a notice e-mail back into its record for kgsim replay.
package notice

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kgsim/kgsim/simulator"
)

// MaxTextBody is how much of an answer's body a notice's text shows.
const MaxTextBody = 2 << 10

const subjectPrefix = "[KooGallery simulator] "

// ForAttempt renders the notice for a failed attempt (kind
// simulator.NoticeAttemptFailed: the last attempt in c failed) or for the
// end of retries (simulator.NoticeFinal: c.Message.Outcome is
// ORDER_FAILED_UNSUBSCRIBED or STOPPED_AWAITING_MANUAL_RESTART). Should p's
// access key or order-notification key appear anywhere in c, for instance
// echoed in an answer, it is replaced by <accessKey>.
func ForAttempt(kind simulator.NoticeKind, p simulator.Product, c Call, id string, now time.Time) simulator.Notice {
	c, redacted := redactKeys(c, p)
	m := c.Message
	n := simulator.Notice{
		ID: id, Kind: kind, ProductID: first(m.ProductID, p.ID), OrderID: m.OrderID, InstanceID: m.InstanceID,
		MessageID: m.ID, To: slices.Clone(p.NoticeTo), CreatedAt: now,
	}
	var last simulator.Attempt
	if len(c.Attempts) > 0 {
		last = c.Attempts[len(c.Attempts)-1]
		n.AttemptN = last.N
	}
	n.Subject = attemptSubject(kind, m, last)

	var b strings.Builder
	if kind == simulator.NoticeFinal {
		fmt.Fprintf(&b, "The marketplace stopped calling your production interface for this %s call: %s.\n\n", m.Activity, outcomeText(m.Outcome))
	} else {
		fmt.Fprintf(&b, "The marketplace's %s call to your production interface failed.\n\n", m.Activity)
	}
	writeCallFacts(&b, p, m)
	if len(c.Attempts) == 0 {
		b.WriteString("\nNo attempt was made.\n")
	} else {
		fmt.Fprintf(&b, "\nAttempt %d at %s\n", last.N, when(last.StartedAt))
		writeAttempt(&b, last)
	}
	if kind == simulator.NoticeFinal && len(c.Attempts) > 1 {
		b.WriteString("\nEvery attempt:\n")
		for _, a := range c.Attempts {
			fmt.Fprintf(&b, "  #%d  %s  %s  %s\n", a.N, stamp(a.StartedAt), a.Verdict, statusText(a))
		}
	}
	b.WriteString("\n")
	b.WriteString(nextStep(kind, m))
	fmt.Fprintf(&b, "\nCall ID: %s\n", m.ID)
	b.WriteString(attachmentNote)
	n.Body = b.String()

	// A failed attempt's notice keeps only the attempt it is about: the
	// earlier ones are stored with the message, and Resolve brings them
	// back into the record. Copying them into every notice grew the store
	// with the square of the attempts.
	if kind == simulator.NoticeAttemptFailed && len(c.Attempts) > 1 {
		c.Attempts = c.Attempts[len(c.Attempts)-1:]
	}
	rec := NewCallRecord(c)
	rec.SKUCode = first(rec.SKUCode, p.SKUCode)
	rec.Redacted = redacted
	n.Record, _ = marshal(rec) // marshalling strings and numbers cannot fail
	return n
}

// Records is what a notice's call record is completed from: its
// message's attempts and its product, whose access key is redacted.
type Records interface {
	simulator.OutboxTx
	simulator.CatalogueTx
}

// Resolve returns n with its call record complete, as it is shown and
// mailed: every attempt of its message up to the one it is about, read
// from tx, with the product's access key replaced wherever it appears. A
// notice whose record is complete already comes back as it is.
func Resolve(ctx context.Context, tx Records, n simulator.Notice) (simulator.Notice, error) {
	if n.MessageID == "" || n.AttemptN <= 1 || len(n.Record) == 0 {
		return n, nil
	}
	var rec CallRecord
	if err := json.Unmarshal(n.Record, &rec); err != nil || len(rec.Attempts) >= n.AttemptN {
		return n, nil // not a call record of ours to complete
	}
	attempts, err := tx.Attempts(ctx, n.MessageID)
	if err != nil {
		return n, fmt.Errorf("notice %s: reading the attempts of message %s: %w", n.ID, n.MessageID, err)
	}
	attempts = slices.DeleteFunc(attempts, func(a simulator.Attempt) bool { return a.N > n.AttemptN })
	var p simulator.Product
	if stored, err := tx.Product(ctx, n.ProductID); err == nil {
		p = stored
	}
	c, redacted := redactKeys(Call{Attempts: attempts}, p)
	protocol := simulator.Protocol(strings.ToLower(rec.Protocol))
	rec.Attempts = make([]AttemptRecord, 0, len(c.Attempts))
	for _, a := range c.Attempts {
		rec.Attempts = append(rec.Attempts, newAttemptRecord(protocol, a))
	}
	rec.Redacted = rec.Redacted || redacted
	if n.Record, err = marshal(rec); err != nil {
		return n, err
	}
	return n, nil
}

// ForDialRun renders the notice of a failed dial-test run: every probe of
// the run with its verdict (callbacks.md §11).
func ForDialRun(p simulator.Product, run simulator.DialRun, probes []Call, id string, now time.Time) simulator.Notice {
	rec := DialRunRecord{RunID: run.ID, ProductID: first(run.ProductID, p.ID), At: stamp(run.At), Passed: run.Passed, Calls: []CallRecord{}}
	failed := 0
	var list strings.Builder
	for i, probe := range probes {
		probe, redacted := redactKeys(probe, p)
		cr := NewCallRecord(probe)
		cr.SKUCode = first(cr.SKUCode, p.SKUCode)
		cr.Redacted = redacted
		rec.Calls = append(rec.Calls, cr)

		fmt.Fprintf(&list, "\n%d. %s (call %s): ", i+1, probe.Message.Activity, probe.Message.ID)
		if len(probe.Attempts) == 0 {
			list.WriteString("not attempted\n")
			failed++
			continue
		}
		a := probe.Attempts[len(probe.Attempts)-1]
		if !a.Verdict.Failed() {
			fmt.Fprintf(&list, "passed, %s, %s\n", a.Verdict, statusText(a))
			continue
		}
		failed++
		fmt.Fprintf(&list, "FAILED at %s\n", when(a.StartedAt))
		writeAttempt(&list, a)
	}

	n := simulator.Notice{ID: id, Kind: simulator.NoticeDialTest, ProductID: rec.ProductID, To: slices.Clone(p.NoticeTo), CreatedAt: now}
	n.Subject = oneLine(fmt.Sprintf("%sdial test failed: %d of %d cases (product %s, run %s)", subjectPrefix, failed, len(probes), rec.ProductID, run.ID))
	var b strings.Builder
	fmt.Fprintf(&b, "The marketplace's dial test of your product failed: %d of its %d saved debug cases did not pass.\n\n", failed, len(probes))
	fmt.Fprintf(&b, "Product:   %s\n", productText(p))
	fmt.Fprintf(&b, "URL:       %s\n", p.URL)
	fmt.Fprintf(&b, "Run:       %s at %s\n", run.ID, when(run.At))
	b.WriteString("\nCases, in the order they were saved:\n")
	b.WriteString(list.String())
	b.WriteString("\nWhat you can do: fix your production interface so that every saved debug case passes again; the cases\n" +
		"carry testFlag=1 and must be repeatable and idempotent. Dial tests run twice a day; a day fails if any run\n" +
		"fails, and after 5 consecutive failing days trading is frozen and the product hidden (callbacks.md §11).\n")
	b.WriteString(attachmentNote)
	n.Body = b.String()
	n.Record, _ = marshal(rec)
	return n
}

// ForProduct renders the notice that a product was frozen and hidden, or
// delisted, and why. It carries no call record.
func ForProduct(p simulator.Product, status simulator.ProductStatus, reason string, id string, now time.Time) simulator.Notice {
	n := simulator.Notice{ID: id, Kind: simulator.NoticeProduct, ProductID: p.ID, To: slices.Clone(p.NoticeTo), CreatedAt: now}
	var what, todo string
	switch status {
	case simulator.FrozenHidden:
		what = "frozen and hidden"
		todo = "Trading is frozen and buyers no longer see the product. Fix your production interface and saved debug\n" +
			"cases until the dial tests pass; unfreezing is an operator action (console or admin API). Left unfixed,\n" +
			"the product may be delisted (callbacks.md §11)."
	case simulator.Delisted:
		what = "delisted"
		todo = "The product is off sale. Fix the failing calls (see the earlier notices); relisting is an operator action\n" +
			"(console or admin API). More than 5 failed orders in a calendar month, Beijing time, delist a product\n" +
			"(callbacks.md §9.2)."
	default:
		what = "now " + string(status)
		todo = "No action is needed."
	}
	n.Subject = oneLine(fmt.Sprintf("%sproduct %s %s: %s", subjectPrefix, p.ID, what, reason))
	var b strings.Builder
	fmt.Fprintf(&b, "Your product was %s by the marketplace.\n\n", what)
	fmt.Fprintf(&b, "Product:   %s\n", productText(p))
	fmt.Fprintf(&b, "Status:    %s\n", status)
	fmt.Fprintf(&b, "Reason:    %s\n", reason)
	fmt.Fprintf(&b, "At:        %s\n\n", when(now))
	b.WriteString(todo)
	b.WriteString("\n")
	n.Body = b.String()
	return n
}

const attachmentNote = "\nThe attached call-record.json holds every attempt with its exact request, signing inputs (never your\n" +
	"access key), answer and verdict. To reproduce the call: kgsim replay --notice <this e-mail or the attachment>\n"

func attemptSubject(kind simulator.NoticeKind, m simulator.Message, last simulator.Attempt) string {
	about := "order " + m.OrderID
	switch {
	case m.OrderID != "":
	case m.InstanceID != "":
		about = "instance " + m.InstanceID
	default:
		about = "product " + m.ProductID
	}
	what := string(last.Verdict)
	if kind == simulator.NoticeFinal {
		what = fmt.Sprintf("%s after %d attempts, last %s", m.Outcome, attemptsMade(m, last), last.Verdict)
	}
	return oneLine(fmt.Sprintf("%s%s call failed: %s (%s)", subjectPrefix, m.Activity, what, about))
}

// attemptsMade is the number of attempts made: the message's count, or the last
// attempt's number if the message was not updated yet.
func attemptsMade(m simulator.Message, last simulator.Attempt) int {
	return max(m.Attempts, last.N)
}

func writeCallFacts(b *strings.Builder, p simulator.Product, m simulator.Message) {
	fmt.Fprintf(b, "Product:   %s\n", productText(p))
	if m.OrderID != "" {
		line := ""
		if m.OrderLineID != "" {
			line = " (line " + m.OrderLineID + ")"
		}
		fmt.Fprintf(b, "Order:     %s%s\n", m.OrderID, line)
	}
	fmt.Fprintf(b, "Instance:  %s\n", first(m.InstanceID, "none yet"))
	if m.CustomerID != "" {
		fmt.Fprintf(b, "Customer:  %s\n", m.CustomerID)
	}
	fmt.Fprintf(b, "Activity:  %s (%s, %s)\n", m.Activity, strings.ToUpper(string(m.Protocol)), first(m.Kind, simulator.KindLifecycle))
	fmt.Fprintf(b, "URL:       %s\n", m.URL)
}

// writeAttempt writes what the seller center shows of one attempt: the
// verdict, the debugger's message and detail, and the start of the answer.
func writeAttempt(b *strings.Builder, a simulator.Attempt) {
	fmt.Fprintf(b, "  Verdict:     %s\n", a.Verdict)
	if a.Message != "" {
		fmt.Fprintf(b, "  Debugger:    %s\n", a.Message)
	}
	if a.Detail != "" {
		fmt.Fprintf(b, "  Detail:      %s\n", a.Detail)
	}
	fmt.Fprintf(b, "  HTTP status: %s\n", statusText(a))
	for _, w := range a.Warnings {
		fmt.Fprintf(b, "  Warning:     %s\n", w)
	}
	if a.Status != 0 {
		shown := textBody(a.ResponseBody)
		if len(a.ResponseBody) > MaxTextBody {
			fmt.Fprintf(b, "  Response body (first %d of %d bytes):\n", MaxTextBody, len(a.ResponseBody))
		} else {
			fmt.Fprintf(b, "  Response body (%d bytes):\n", len(a.ResponseBody))
		}
		for line := range strings.Lines(shown) {
			b.WriteString("    | ")
			b.WriteString(strings.TrimRight(line, "\r\n"))
			b.WriteString("\n")
		}
	}
}

// textBody is the start of an answer's body for the e-mail's text: at most
// MaxTextBody bytes, cut at a character boundary, with bytes that are not
// UTF-8 shown as U+FFFD (the attachment has them exactly).
func textBody(body []byte) string {
	if len(body) > MaxTextBody {
		// body[cut] is the first byte left out; if it continues a
		// character, leave out the whole character.
		cut := MaxTextBody
		for cut > MaxTextBody-utf8.UTFMax && !utf8.RuneStart(body[cut]) {
			cut--
		}
		body = body[:cut]
	}
	return strings.ToValidUTF8(string(body), "\uFFFD")
}

func statusText(a simulator.Attempt) string {
	switch {
	case a.Status != 0:
		return fmt.Sprint(a.Status)
	case a.Error != "":
		return "no answer (" + a.Error + ")"
	}
	return "no answer"
}

func outcomeText(o simulator.Outcome) string {
	switch o {
	case simulator.OrderFailed:
		return "the order failed and was unsubscribed automatically (" + string(o) + ")"
	case simulator.Stopped:
		return "the retries ran out and the call waits for a manual restart (" + string(o) + ")"
	}
	return string(o)
}

// nextStep says what happens next and what the merchant can do about it.
func nextStep(kind simulator.NoticeKind, m simulator.Message) string {
	restart := fmt.Sprintf("press 重新启动 (restart) for this call in the seller center's 生产接口消息, or use the admin API:\n"+
		"POST /admin/v1/messages/%s/restart", m.ID)
	switch {
	case kind == simulator.NoticeFinal && m.Outcome == simulator.OrderFailed:
		return "Outcome: " + outcomeText(m.Outcome) + ".\n" +
			"What you can do: fix your production interface; the buyer has to order again, since a restart is offered\n" +
			"only during the 3-hour retry window (callbacks.md §9.3). More than 5 failed orders in a calendar month\n" +
			"delist the product.\n"
	case kind == simulator.NoticeFinal:
		return "Outcome: " + outcomeText(m.Outcome) + ".\n" +
			"What you can do: fix your production interface, then " + restart + "\n"
	case !m.NextAttemptAt.IsZero():
		return fmt.Sprintf("Next attempt: %s\n", when(m.NextAttemptAt)) +
			"What you can do: fix your production interface before then; the marketplace retries by itself.\n"
	}
	return "Outcome: " + first(outcomeText(m.Outcome), "no further attempt is scheduled") + ".\n" +
		"What you can do: fix your production interface, then call again (or " + restart + ").\n"
}

func productText(p simulator.Product) string {
	s := p.ID
	if p.Name != "" {
		s = p.Name + " (" + p.ID + ")"
	}
	if p.SKUCode != "" {
		s += ", SKU " + p.SKUCode
	}
	return s
}

// when shows a time in UTC and in Beijing time.
func when(t time.Time) string {
	return stamp(t) + " (" + t.In(simulator.Beijing()).Format("2006-01-02 15:04:05") + " Beijing time)"
}

// oneLine keeps a header value on one line whatever the IDs or reason hold.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

func first(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// redactKeys redacts both of p's keys, the basic interfaces' access key
// and, for a generic product, the generic interface's, and the key that
// signed c if it is another (a kit sync's).
func redactKeys(c Call, p simulator.Product) (Call, bool) {
	c, own := redact(c, c.Key)
	c, basic := redact(c, p.AccessKey)
	c, generic := redact(c, p.OrderNotifyKey)
	return c, own || basic || generic
}

// redact replaces key wherever it appears in what c sent or received; the
// delivery records never hold it, but a merchant may echo it in an answer.
func redact(c Call, key string) (Call, bool) {
	if key == "" {
		return c, false
	}
	found := false
	s := func(v string) string {
		if strings.Contains(v, key) {
			found = true
			return strings.ReplaceAll(v, key, "<accessKey>")
		}
		return v
	}
	bs := func(v []byte) []byte {
		if bytes.Contains(v, []byte(key)) {
			found = true
			return bytes.ReplaceAll(v, []byte(key), []byte("<accessKey>"))
		}
		return v
	}
	hs := func(h map[string][]string) map[string][]string {
		if h == nil {
			return nil
		}
		out := make(map[string][]string, len(h))
		for k, vs := range h {
			k = s(k)
			for _, v := range vs {
				out[k] = append(out[k], s(v))
			}
		}
		return out
	}
	m := c.Message
	m.URL, m.Params = s(m.URL), bs(m.Params)
	m.ID, m.OrderID, m.OrderLineID, m.InstanceID, m.CustomerID = s(m.ID), s(m.OrderID), s(m.OrderLineID), s(m.InstanceID), s(m.CustomerID)
	out := Call{Message: m, Attempts: make([]simulator.Attempt, len(c.Attempts))}
	for i, a := range c.Attempts {
		a.URL, a.Header, a.Body = s(a.URL), hs(a.Header), bs(a.Body)
		a.TimeStamp, a.Timestamp, a.Nonce, a.BodyHMAC, a.Canonical, a.Signature = s(a.TimeStamp), s(a.Timestamp), s(a.Nonce), s(a.BodyHMAC), s(a.Canonical), s(a.Signature)
		a.ResponseHeader, a.ResponseBody = hs(a.ResponseHeader), bs(a.ResponseBody)
		a.Error, a.Detail, a.Message = s(a.Error), s(a.Detail), s(a.Message)
		a.Warnings = slices.Clone(a.Warnings)
		for j := range a.Warnings {
			a.Warnings[j] = s(a.Warnings[j])
		}
		out.Attempts[i] = a
	}
	return out, found
}
