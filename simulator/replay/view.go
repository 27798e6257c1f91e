package replay

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator/delivery"
	"github.com/kgsim/kgsim/simulator/notice"
)

// Redactor replaces the access key wherever it would be printed, an
// answer echoing it included.
type Redactor struct {
	W   io.Writer
	Key string
}

func (r *Redactor) Write(b []byte) (int, error) {
	out := b
	if r.Key != "" {
		out = []byte(strings.ReplaceAll(string(b), r.Key, "<accessKey>"))
	}
	if _, err := r.W.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// View is an attempt as printed: a title and its lines.
type View struct {
	title string
	lines []string
}

func (v *View) add(format string, args ...any) {
	v.lines = append(v.lines, fmt.Sprintf(format, args...))
}

// text adds a possibly multi-line text, indented, cut at maxShown bytes.
func (v *View) text(label, s string) {
	const maxShown = 2 << 10
	if len(s) > maxShown {
		s = s[:maxShown] + fmt.Sprintf("... (%d more bytes)", len(s)-maxShown)
	}
	for i, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if i == 0 {
			v.add("  %s%s", label, line)
		} else {
			v.add("  %s%s", strings.Repeat(" ", len(label)), line)
		}
	}
}

// headers adds h sorted by name, as on the wire.
func (v *View) headers(h http.Header) {
	var b strings.Builder
	h.Write(&b) // a strings.Builder does not fail
	for line := range strings.SplitSeq(strings.TrimSuffix(b.String(), "\r\n"), "\r\n") {
		if line != "" {
			v.add("  %s", line)
		}
	}
}

// signing shows a request's signing inputs, never the key.
func (v *View) signing(pairs ...string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			v.text(pairs[i]+": ", pairs[i+1])
		}
	}
}

func (v *View) verdict(verdict, detail, message string, warnings []string) {
	v.add("verdict: %s", verdict)
	if detail != "" {
		v.text("detail: ", detail)
	}
	if message != "" {
		v.text("debugger: ", message)
	}
	for _, w := range warnings {
		v.text("warning: ", w)
	}
}

// Original is the original attempt as its record keeps it.
func Original(method string, a *notice.AttemptRecord) *View {
	v := &View{title: fmt.Sprintf("ORIGINAL: attempt %d at %s", a.N, a.StartedAt)}
	v.add("request")
	v.text("", method+" "+a.Request.FullURL)
	v.headers(a.Request.Headers)
	if a.Request.Body != "" {
		v.text("body: ", shownBody(a.Request.Body, a.Request.BodyBase64))
	}
	s := a.Request.Signing
	v.signing("timeStamp", s.TimeStamp, "canonical", s.CanonicalString, "authToken", s.AuthToken,
		"timestamp", s.Timestamp, "nonce", s.Nonce, "bodyHmac", s.BodyHMACHex, "canonical", s.CanonicalRequest, "signature", s.Signature)
	v.add("response")
	switch {
	case a.Response != nil:
		v.add("  HTTP %d", a.Response.Status)
		v.headers(a.Response.Headers)
		v.text("body: ", shownBody(a.Response.Body, a.Response.BodyBase64))
	case a.Error != nil:
		v.text("error: ", *a.Error)
	default:
		v.add("  none")
	}
	v.verdict(a.Verdict, a.VerdictDetail, a.DebuggerMessage, a.Warnings)
	return v
}

func shownBody(body string, b64 bool) string {
	if b64 {
		return "(base64, not UTF-8) " + body
	}
	return body
}

// Fresh is the new attempt, started at started.
func Fresh(r *delivery.Request, a delivery.Answer, j delivery.Judgement, started time.Time) *View {
	v := &View{title: "NEW: now, " + started.UTC().Format("2006-01-02T15:04:05.000Z07:00")}
	v.add("request")
	v.text("", r.Method+" "+r.URL)
	v.headers(r.Header)
	if len(r.Body) > 0 {
		v.text("body: ", string(r.Body))
	}
	if r.TimeStamp != "" {
		v.signing("timeStamp", r.TimeStamp, "canonical", r.Canonical, "authToken", r.Signature)
	} else {
		v.signing("timestamp", r.Timestamp, "nonce", r.Nonce, "bodyHmac", r.BodyHMAC, "canonical", r.Canonical, "signature", r.Signature)
	}
	v.add("response")
	if a.Err != nil && a.Status == 0 {
		v.text("error: ", a.Err.Error())
	} else {
		v.add("  HTTP %d in %.1f ms", a.Status, float64(a.Elapsed.Microseconds())/1000)
		v.headers(a.Header)
		v.text("body: ", string(a.Body))
	}
	v.verdict(string(j.Verdict), j.Detail, j.Message, j.Warnings)
	return v
}

// sideBySide is the width from which two attempts are printed in columns.
const sideBySide = 120

// Print prints the original and the new attempt in two columns when the
// terminal, width columns, is wide enough, else one after the other; the
// new one alone when there is no original.
func Print(w io.Writer, width int, original, fresh *View) {
	if original == nil {
		fmt.Fprintln(w, "(the ids of an e-mail give no original attempt to compare with)")
		printView(w, fresh)
		return
	}
	if width < sideBySide {
		printView(w, original)
		fmt.Fprintln(w)
		printView(w, fresh)
		return
	}
	col := (width - 3) / 2
	left, right := wrapView(original, col), wrapView(fresh, col)
	for i := range max(len(left), len(right)) {
		var l, r string
		if i < len(left) {
			l = left[i]
		}
		if i < len(right) {
			r = right[i]
		}
		fmt.Fprintln(w, strings.TrimRight(l+strings.Repeat(" ", max(0, col-displayWidth(l)))+" │ "+r, " "))
	}
}

func printView(w io.Writer, v *View) {
	fmt.Fprintln(w, v.title)
	for _, l := range v.lines {
		fmt.Fprintln(w, l)
	}
}

// wrapView is a view's title, a rule and its lines, cut to col columns.
func wrapView(v *View, col int) []string {
	out := []string{v.title, strings.Repeat("─", min(col, displayWidth(v.title)))}
	for _, l := range v.lines {
		out = append(out, wrap(l, col)...)
	}
	return out
}

// wrap cuts a line into pieces at most col columns wide, continuing with
// the line's indentation and two more spaces.
func wrap(line string, col int) []string {
	indent := strings.Repeat(" ", min(len(line)-len(strings.TrimLeft(line, " "))+2, col/2))
	var out []string
	var cur strings.Builder
	w := 0
	for _, r := range line {
		rw := runeWidth(r)
		if w+rw > col {
			out = append(out, cur.String())
			cur.Reset()
			cur.WriteString(indent)
			w = len(indent)
		}
		cur.WriteRune(r)
		w += rw
	}
	return append(out, cur.String())
}

func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// runeWidth is a rune's width in a terminal: two for the wide East Asian
// characters of the debugger's messages, one otherwise.
func runeWidth(r rune) int {
	switch {
	case r >= 0x1100 && r <= 0x115F, r >= 0x2E80 && r <= 0xA4CF, r >= 0xAC00 && r <= 0xD7A3,
		r >= 0xF900 && r <= 0xFAFF, r >= 0xFE30 && r <= 0xFE4F, r >= 0xFF00 && r <= 0xFF60, r >= 0xFFE0 && r <= 0xFFE6:
		return 2
	}
	return 1
}
