package protocol

import (
	"fmt"
	"time"
)

// MalformedError reports input that cannot be parsed: a header without its
// quotes, a timestamp that is not a number, ciphertext that is not Base64.
type MalformedError struct {
	Field  string // what was being parsed, as the merchant knows it: "Body-Sign", "timestamp", "iv"
	Reason string // what is wrong and the expected form
}

func (e *MalformedError) Error() string { return e.Field + ": " + e.Reason }

func malformed(field, format string, args ...any) *MalformedError {
	return &MalformedError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// StaleError reports a signed timestamp outside the freshness window.
type StaleError struct {
	Field  string // "timestamp", "x-timestamp", "X-Sdk-Date"
	Signed time.Time
	Now    time.Time
	Window time.Duration
	Cause  string // the likely cause, when known
}

func (e *StaleError) Error() string {
	age := e.Now.Sub(e.Signed)
	when := "old"
	if age < 0 {
		age, when = -age, "in the future"
	}
	s := fmt.Sprintf("%s is %s %s, outside the %s window", e.Field, seconds(age), when, seconds(e.Window))
	if e.Cause != "" {
		s += " (likely cause: " + e.Cause + ")"
	}
	return s
}

// seconds renders d as "12.5 s" (or "60 s"), the unit merchants think in for
// freshness windows.
func seconds(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%d s", d/time.Second)
	}
	return fmt.Sprintf("%.3g s", d.Seconds())
}

// Mismatch reports a well-formed signature that does not verify. It carries
// everything a merchant needs to find the bug: the exact string kgsim signed
// (with the secret key shown as <accessKey>), the expected and received
// values, and the likely cause when kgsim can recognise one.
type Mismatch struct {
	Scheme    string // v1, v2, bodysign, kit, apig, usage
	Canonical string
	Expected  string
	Received  string
	Cause     string
}

func (m *Mismatch) Error() string {
	s := fmt.Sprintf("%s signature mismatch: expected %s, received %s", m.Scheme, m.Expected, m.Received)
	if m.Cause != "" {
		s += " (likely cause: " + m.Cause + ")"
	}
	return s
}

// checkFresh returns a *StaleError when signed is more than window away from
// now in either direction; exactly window is still fresh.
func checkFresh(field string, signed, now time.Time, window time.Duration) error {
	d := now.Sub(signed)
	if d > window || d < -window {
		return &StaleError{Field: field, Signed: signed, Now: now, Window: window}
	}
	return nil
}
