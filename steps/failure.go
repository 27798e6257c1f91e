package steps

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kgsim/kgsim/simulator"
	"github.com/tidwall/gjson"
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
	// cause is the root cause reports group failures under, when neither
	// the call's verdict nor the check's text would do (it names one
	// scenario's order or instance).
	cause string
	// blocked: the check could not be made, because of cause.
	blocked bool
	// wants are the result codes the check wanted of the call, when they
	// are not the marketplace's 000000.
	wants []string
	// via is the proxy the marketplace's requests went through: reports
	// show the merchant's own URL, and the proxy only where it injected a
	// fault.
	via  *proxy
	keys []string // the access key, kit key and SK, replaced wherever they would appear
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
			fmt.Fprintf(&b, "\n  verdict:  %s", f.verdict(a))
		}
	}
	// The merchant's URL where the proxy's was: the proxy is named only
	// where it made the merchant look down.
	out := f.via.unproxied(b.String())
	b.Reset()
	b.WriteString(out)
	if note := f.via.faults(); note != "" {
		b.WriteString("\n  proxy:    " + note)
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
	return f.redact(b.String())
}

// redact replaces the keys wherever they appear in text.
func (f *failure) redact(out string) string {
	for i, key := range f.keys {
		if len(key) >= 6 { // a shorter key would match innocent text
			out = strings.ReplaceAll(out, key, []string{"<accessKey>", "<kitKey>", "<orderNotifyKey>", "<sk>"}[min(i, 3)])
		}
	}
	return out
}

// verdict is what the marketplace makes of an answer, said so that it
// never contradicts the check: an answer it accepts is said to be
// accepted, and a result code the check wanted is not called wrong.
func (f *failure) verdict(a simulator.Attempt) string {
	switch {
	case !a.Verdict.Failed():
		return string(a.Verdict) + ": the marketplace accepts this answer; what fails is the check above"
	case a.Verdict == simulator.ResultCode && len(f.wants) > 0:
		return fmt.Sprintf("%s: resultCode %s (the marketplace counts anything but 000000 as a failed call; this check wants %s)", a.Verdict, resultCodeOf(a), strings.Join(f.wants, " or "))
	case a.Detail != "":
		return string(a.Verdict) + ": " + a.Detail
	}
	return string(a.Verdict)
}

// rootCause is what reports group the failure under: given, or the
// call's verdict, or the check's first line.
func (f *failure) rootCause() string {
	switch {
	case f.cause != "":
		return f.cause
	case f.call != nil && f.call.attempt.Verdict.Failed():
		return causeOf(f.call)
	}
	line, _, _ := strings.Cut(f.check, "\n")
	return line
}

// RootCause returns what a step's error comes down to, for reports that
// group the failures of a run: one cause, such as a purchase answered
// HTTP 501, fails or blocks many checks. blocked is true when the check
// could not be made because of it. An error that is no check's failure
// has no cause ("").
func RootCause(err error) (cause string, blocked bool) {
	f, ok := errors.AsType[*failure](err)
	if !ok {
		return "", false
	}
	return f.redact(f.via.unproxied(f.rootCause())), f.blocked
}

// causeOf is the root cause of a failed call, worded without the ids of
// one scenario so that the failures it causes group. An answer wrong in
// every call (unreachable, HTTP status, content type, Body-Sign) is one
// cause whatever the activity.
func causeOf(c *call) string {
	a := c.attempt
	switch a.Verdict {
	case simulator.Unreachable:
		return "the merchant cannot be reached at its production interface"
	case simulator.Timeout:
		return "the merchant does not answer within the marketplace's time limit"
	case simulator.HTTPStatus:
		return fmt.Sprintf("the merchant answers HTTP %d, not 200 with a resultCode", a.Status)
	case simulator.ContentType, simulator.BodyParse, simulator.BodySignMissing:
		return fmt.Sprintf("the merchant's answers fail %s: %s", a.Verdict, a.Detail)
	case simulator.BodySignMismatch:
		return "the merchant's Body-Sign does not cover the exact bytes of its answers"
	case simulator.ResultCode:
		return fmt.Sprintf("the merchant answers %s with resultCode %s", c.activity, resultCodeOf(a))
	}
	return fmt.Sprintf("the merchant's %s answer fails %s: %s", c.activity, a.Verdict, a.Detail)
}

// resultCodeOf is an answer's resultCode as received, "none" without one.
func resultCodeOf(a simulator.Attempt) string {
	code := gjson.GetBytes(a.ResponseBody, "resultCode")
	if code.Type != gjson.String {
		return "none"
	}
	return code.Str
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
	return &failure{check: fmt.Sprintf(check, args...), call: c, spec: spec, hint: hint, keys: w.keys(), via: w.proxy}
}

// keys are the secrets a failure must never show: the access key, the kit
// key, the generic order notification's key, the seller's SK.
func (w *world) keys() []string {
	keys := []string{w.target.AccessKey, w.target.KitKey, w.product.OrderNotifyKey}
	if w.target.OpenAPI != nil {
		keys = append(keys, w.target.OpenAPI.sk)
	}
	return keys
}
