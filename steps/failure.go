package steps

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kgsim/kgsim/simulator"
)

// call is one request the scenario made the merchant answer: an attempt
// of a marketplace callback, or a call a step built (crafted).
type call struct {
	activity string
	attempt  simulator.Attempt
	crafted  bool
}

// failure is a check the merchant did not pass, written for the merchant:
// what was checked, the call it is about (the request with its signing
// inputs, never the key; the answer), the spec section and the likely fix.
type failure struct {
	check string
	call  *call // nil when the check is not about one call
	// extra are sections shown after the call: the failure notice of a
	// kit sync, the browser's way through a login and what kgsim's
	// identity provider answered.
	extra []string
	spec  string
	hint  string
	keys  []string // the access key, kit key and SK, replaced wherever they would appear
}

// shownBody is how much of a body a failure shows.
const shownBody = 2048

func (f *failure) Error() string {
	var b strings.Builder
	b.WriteString(f.check)
	if c := f.call; c != nil {
		a := c.attempt
		what := "the marketplace's " + c.activity + " callback, attempt " + fmt.Sprint(a.N)
		if kitAttempt(a) {
			what = "the marketplace's " + c.activity + " kit sync"
		}
		if c.crafted {
			what = "a " + c.activity + " call built by the check"
		}
		fmt.Fprintf(&b, "\n  call:     %s, at %s", what, a.StartedAt.UTC().Format("2006-01-02T15:04:05.000Z"))
		fmt.Fprintf(&b, "\n  request:  %s %s", a.Method, a.URL)
		writeHeader(&b, a.Header)
		if len(a.Body) > 0 {
			fmt.Fprintf(&b, "\n            body: %s", shown(a.Body))
		}
		fmt.Fprintf(&b, "\n  signing:  %s", signing(a))
		switch {
		case a.Error != "":
			fmt.Fprintf(&b, "\n  response: none: %s (after %s)", a.Error, a.FinishedAt.Sub(a.StartedAt).Round(10*time.Microsecond))
		default:
			fmt.Fprintf(&b, "\n  response: %d %s (after %s)", a.Status, http.StatusText(a.Status), a.FinishedAt.Sub(a.StartedAt).Round(10*time.Microsecond))
			writeHeader(&b, a.ResponseHeader)
			fmt.Fprintf(&b, "\n            body: %s", shown(a.ResponseBody))
		}
		if a.Verdict != "" {
			fmt.Fprintf(&b, "\n  verdict:  %s", a.Verdict)
			if a.Detail != "" {
				b.WriteString(": " + a.Detail)
			}
		}
	}
	for _, e := range f.extra {
		b.WriteString("\n  " + e)
	}
	if f.spec != "" {
		b.WriteString("\n  spec:     " + f.spec)
	}
	if f.hint != "" {
		b.WriteString("\n  hint:     " + f.hint)
	}
	out := b.String()
	for i, key := range f.keys {
		if len(key) >= 6 { // a shorter key would match innocent text
			out = strings.ReplaceAll(out, key, []string{"<accessKey>", "<kitKey>", "<sk>"}[min(i, 2)])
		}
	}
	return out
}

// signing lists a request's signing inputs: V1 timeStamp, the canonical
// string and authToken; V2 timestamp, nonce, the body's HMAC, the
// canonical request (key as <accessKey>) and signature; a kit sync's
// x-timestamp, x-nonce, canonical string (key as <kitKey>) and x-sign.
func signing(a simulator.Attempt) string {
	switch {
	case a.TimeStamp != "":
		return fmt.Sprintf("timeStamp=%s canonical=%q authToken=%s", a.TimeStamp, a.Canonical, a.Signature)
	case kitAttempt(a):
		return fmt.Sprintf("x-timestamp=%s x-nonce=%s canonical=%q x-sign=%s", a.Timestamp, a.Nonce, a.Canonical, a.Signature)
	}
	return fmt.Sprintf("timestamp=%s nonce=%s bodyHmac=%s canonical=%q signature=%s", a.Timestamp, a.Nonce, a.BodyHMAC, a.Canonical, a.Signature)
}

// kitAttempt reports whether an attempt is a kit sync's: signed without a
// body HMAC, the kit key first in its canonical string.
func kitAttempt(a simulator.Attempt) bool {
	return a.BodyHMAC == "" && strings.HasPrefix(a.Canonical, "<kitKey>")
}

func writeHeader(b *strings.Builder, h http.Header) {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range h[name] {
			fmt.Fprintf(b, "\n            %s: %s", name, v)
		}
	}
}

// shown is a body as text, cut at shownBody, or a note when it is not
// UTF-8.
func shown(body []byte) string {
	switch {
	case len(body) == 0:
		return "(empty)"
	case !utf8.Valid(body):
		return fmt.Sprintf("(%d bytes, not UTF-8)", len(body))
	case len(body) > shownBody:
		return fmt.Sprintf("%q... (%d bytes)", body[:shownBody], len(body))
	}
	return fmt.Sprintf("%q", body)
}

// fail returns the failure of a check about c (nil when none).
func (w *world) fail(c *call, spec, hint, check string, args ...any) error {
	return &failure{check: fmt.Sprintf(check, args...), call: c, spec: spec, hint: hint, keys: w.keys()}
}

// keys are the secrets a failure must never show: the access key, the kit
// key, the seller's SK.
func (w *world) keys() []string {
	keys := []string{w.target.AccessKey, w.target.KitKey}
	if w.target.OpenAPI != nil {
		keys = append(keys, w.target.OpenAPI.sk)
	}
	return keys
}
