package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// MaxBody is the largest request body the admin API reads.
const MaxBody = 1 << 20

// decode reads r's body, a single JSON object, into v. Unknown members,
// values of the wrong type, trailing data and a body over MaxBody are
// refused with the member named. An empty body is refused when required,
// and leaves v as it is otherwise.
func decode(w http.ResponseWriter, r *http.Request, v any, required bool) error {
	body := http.MaxBytesReader(w, r.Body, MaxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err := dec.Token(); err != io.EOF {
			return simulator.Errorf(simulator.EINVALID, "", "the body must hold one JSON object and nothing after it")
		}
		return nil
	}
	if errors.Is(err, io.EOF) {
		if required {
			return simulator.Errorf(simulator.EINVALID, "", "a JSON object is required in the body")
		}
		return nil
	}
	return decodeError(err)
}

// decodeError explains why a body did not decode, naming the member.
func decodeError(err error) error {
	var (
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
		tooLarge *http.MaxBytesError
	)
	switch {
	case errors.As(err, &tooLarge):
		return fmt.Errorf("%w: %w", simulator.Errorf(simulator.EINVALID, "", "the body is over %d bytes", MaxBody), err)
	case errors.As(err, &syntax):
		return simulator.Errorf(simulator.EINVALID, "", "malformed JSON at byte %d: %v", syntax.Offset, err)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return simulator.Errorf(simulator.EINVALID, "", "the body must be a JSON object, not %s", typ.Value)
		}
		return simulator.Errorf(simulator.EINVALID, typ.Field, "must be %s, not %s", jsonType(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return simulator.Errorf(simulator.EINVALID, "", "malformed JSON: the body ends inside a value")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		return simulator.Errorf(simulator.EINVALID, name, "is not a known member; check its spelling against the API's documentation")
	}
	return simulator.Errorf(simulator.EINVALID, "", "malformed JSON: %v", err)
}

// jsonType names a Go kind as JSON calls it.
func jsonType(kind string) string {
	switch {
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "true or false"
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "an integer"
	case strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "slice" || kind == "array":
		return "an array"
	}
	return "an object"
}

// Listing limits: a listing without a limit gets DefaultLimit, and none
// gets more than MaxLimit, so one request cannot read a whole history.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// query reads a listing's query parameters. The first problem is kept and
// reported by done; unknown or repeated parameters are refused, since a
// misspelt filter that matched everything would mislead.
type query struct {
	values url.Values
	err    error
}

func newQuery(r *http.Request, known ...string) *query {
	q := &query{values: r.URL.Query()}
	for name, vs := range q.values {
		switch {
		case !slices.Contains(known, name):
			q.fail(name, "is not a filter here; known: %s", strings.Join(known, ", "))
		case len(vs) > 1:
			q.fail(name, "is given %d times; give it once", len(vs))
		}
	}
	return q
}

func (q *query) fail(name, format string, args ...any) {
	if q.err == nil {
		q.err = simulator.Errorf(simulator.EINVALID, name, format, args...)
	}
}

func (q *query) str(name string) string { return q.values.Get(name) }

// oneOf reads a parameter that must be one of allowed, or absent.
func oneOf[T ~string](q *query, name string, allowed ...T) T {
	v := T(q.values.Get(name))
	if v != "" && !slices.Contains(allowed, v) {
		names := make([]string, len(allowed))
		for i, a := range allowed {
			names[i] = string(a)
		}
		q.fail(name, "%q is not one of %s", v, strings.Join(names, ", "))
	}
	return v
}

func (q *query) bool(name string) bool {
	v := q.values.Get(name)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		q.fail(name, "%q is not true or false", v)
	}
	return b
}

func (q *query) time(name string) time.Time {
	v := q.values.Get(name)
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		q.fail(name, "%q is not an RFC 3339 time such as 2025-03-01T10:00:00Z", v)
	}
	return t
}

func (q *query) limit() int {
	v := q.values.Get("limit")
	if v == "" {
		return DefaultLimit
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxLimit {
		q.fail("limit", "%q is not a whole number from 1 to %d", v, MaxLimit)
	}
	return n
}

// parseSpan reads a duration as Go writes one (90m, 3h, 1h30m), or a
// whole number of days (30d): a month of virtual time is easier to ask for
// in days.
func parseSpan(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err == nil && n >= 0 && n <= 100*366 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 90m, 3h or 30d", s)
	}
	return d, nil
}
