package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kgsim/kgsim/simulator"
)

// funcs are the helpers the console's templates call. Each returns text:
// html/template escapes it where it lands.
func (c *console) funcs() template.FuncMap {
	return template.FuncMap{
		"when":    when,
		"iso":     iso,
		"took":    took,
		"pretty":  pretty,
		"short":   short,
		"tone":    tone,
		"headers": headerLines,
		"failed":  func(v string) bool { return simulator.Verdict(v).Failed() },
		// pass hands a part the page's view and its own data.
		"pass":       func(v view, d any) part { return part{V: v, D: d} },
		"recordTime": recordTime,
	}
}

// part is what a shared part of a page gets: the page's view, for its
// texts, and its own data.
type part struct {
	V view
	D any
}

// consoleTime is how a page shows a time: Beijing time to the second.
const consoleTime = "2006-01-02 15:04:05"

// when shows t in Beijing time; the zero time as "-".
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(simulator.Beijing()).Format(consoleTime)
}

// iso is t for a <time datetime> attribute and a title: RFC 3339 in UTC.
func iso(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// took is how long an attempt took, in a record's RFC 3339 times.
func took(start, end string) string {
	s, err1 := time.Parse(time.RFC3339Nano, start)
	e, err2 := time.Parse(time.RFC3339Nano, end)
	if err1 != nil || err2 != nil || e.Before(s) {
		return "-"
	}
	return e.Sub(s).Round(time.Millisecond).String()
}

// recordTime shows a record's RFC 3339 time as when does.
func recordTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return when(t)
}

// pretty indents a JSON body for reading; anything else is shown as it is.
func pretty(body any) string {
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	case json.RawMessage:
		b = v
	default:
		return ""
	}
	var out bytes.Buffer
	if json.Valid(b) && json.Indent(&out, b, "", "  ") == nil {
		return out.String()
	}
	return string(b)
}

// short cuts s to n characters, marking the cut.
func short(n int, s string) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// tone is the colour of a badge: how good a state, outcome or verdict is.
func tone(v any) string {
	switch s := fmt.Sprint(v); s {
	case string(simulator.Succeeded), string(simulator.SucceededAfterRestart), string(simulator.Success), string(simulator.OrderCompleted),
		string(simulator.Active), string(simulator.OnSale), "passed":
		return "ok"
	case string(simulator.Pending), string(simulator.Polling), string(simulator.AcceptedAsync), string(simulator.OrderProcessing),
		string(simulator.Provisioning), string(simulator.Held), "running":
		return "busy"
	case string(simulator.Refused), string(simulator.Frozen), string(simulator.Released), string(simulator.OrderStalled):
		return "warn"
	case "":
		return "plain"
	}
	return "bad"
}

// headerLines are a header's fields, one "Name: value" a line, by name.
func headerLines(h http.Header) []string {
	var out []string
	for name, vs := range h {
		for _, v := range vs {
			out = append(out, name+": "+v)
		}
	}
	slices.Sort(out)
	return out
}

// consoleTimeInput reads a time typed in a form: Beijing time as a
// datetime-local input sends it (2025-03-01T08:00), with a space, with
// seconds or as a date, or RFC 3339 with its zone.
func consoleTimeInput(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", consoleTime, "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, simulator.Beijing()); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
