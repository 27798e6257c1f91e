package engine

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/kgsim/kgsim/simulator/activity"
)

// params builds an activity's parameters: a JSON object whose members keep
// the order of the spec's field table (callbacks.md §5). Delivery renders
// it as a V1 query or signs it as a V2 body. Empty optional members are
// left out, never sent empty (§3.1).
type params struct {
	activity activity.Name
	b        []byte
}

// newParams starts an activity's parameters with its name.
func newParams(name activity.Name) *params {
	p := newObject().str("activity", string(name))
	p.activity = name
	return p
}

// newObject starts a nested object.
func newObject() *params { return &params{b: []byte{'{'}} }

func (p *params) name(name string) {
	if len(p.b) > 1 {
		p.b = append(p.b, ',')
	}
	p.b = strconv.AppendQuote(p.b, name) // names are ASCII: JSON and Go quoting agree
	p.b = append(p.b, ':')
}

// str adds a string member unless v is empty.
func (p *params) str(name, v string) *params {
	if v == "" {
		return p
	}
	return p.raw(name, quote(v))
}

// num adds an Integer member unless n is 0.
func (p *params) num(name string, n int) *params {
	if n == 0 {
		return p
	}
	return p.raw(name, []byte(strconv.Itoa(n)))
}

// decimal adds a bigdecimal member (an amount already checked to be a
// decimal number) unless it is empty.
func (p *params) decimal(name, v string) *params {
	if v == "" {
		return p
	}
	return p.raw(name, []byte(v))
}

// raw adds a member with a JSON value.
func (p *params) raw(name string, v []byte) *params {
	p.name(name)
	p.b = append(p.b, v...)
	return p
}

func (p *params) bytes() []byte { return append(p.b[:len(p.b):len(p.b)], '}') }

// quote is v as a JSON string.
func quote(v string) []byte {
	b, _ := json.Marshal(v) // a string always marshals
	return b
}

// expireTime renders a business time as callbacks carry it: UTC
// yyyyMMddHHmmss (callbacks.md §3.1, §5.10).
func expireTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("20060102150405")
}

// licenseTime renders a getLicenseAsync time. The docs' only example is
// "2023-10-27 10:30:15 z" (callbacks.md §5.17): the pattern letter z of
// Java's "yyyy-MM-dd HH:mm:ss z" left in a sample. That pattern formats a
// UTC time zone as "UTC", and a merchant parsing with the same pattern
// accepts it, while a literal "z" would not parse.
func licenseTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}
