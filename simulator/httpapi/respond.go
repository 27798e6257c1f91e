package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/kgsim/kgsim/simulator"
)

// errorBody is every error answer: {"error":{"code","message","field"}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// statusOf maps an application error code to its HTTP status: the one
// place where that mapping is made.
func statusOf(code string) int {
	switch code {
	case simulator.EINVALID:
		return http.StatusBadRequest
	case simulator.ENOTFOUND:
		return http.StatusNotFound
	case simulator.ECONFLICT:
		return http.StatusConflict
	case eUnauthorized:
		return http.StatusUnauthorized
	case eForbidden:
		return http.StatusForbidden
	case eUnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case simulator.EFULL:
		return http.StatusInsufficientStorage
	case simulator.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// writeError answers with err. Application errors show their message and
// field; anything else is a 500 whose detail goes to the log only, since it
// may say more about kgsim's internals than a client should see.
func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := simulator.ErrorCode(err)
	status := statusOf(code)
	var body errorBody
	if e, ok := errors.AsType[*simulator.Error](err); ok && status != http.StatusInternalServerError {
		body.Error = errorDetail{Code: e.Code, Message: e.Message, Field: e.Field}
	} else {
		status, code = http.StatusInternalServerError, simulator.EINTERNAL
		a.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "route", routeOf(r), "requestId", requestID(r), "err", err)
		body.Error = errorDetail{Code: code, Message: "internal error; the kgsim log has the detail under requestId " + requestID(r)}
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		status = http.StatusRequestEntityTooLarge
	}
	if code == simulator.EFULL || code == simulator.EUNAVAILABLE {
		// Only the store says these, about itself: nothing a merchant sent
		// is in them, and the scrub would read the store that just failed.
		a.writeJSON(w, r, status, secretFree{body})
		return
	}
	a.writeJSON(w, r, status, body)
}

// writeJSON answers with v as indented JSON. Should any product's access
// key appear in it (a merchant may echo it in an answer or choose it as an
// instanceId), every occurrence is replaced by <accessKey>, and likewise
// an app's kit key by <kitKey> and a client secret by <clientSecret>:
// whatever a merchant sends, the admin API never shows a key or secret.
// An answer marked secretFree is sent without that scan.
func (a *api) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	free, isFree := v.(secretFree)
	if isFree {
		v = free.v
	}
	out, err := encode(v)
	if err == nil && !isFree {
		out, err = a.scrub(r, out)
	}
	if err != nil {
		a.log.ErrorContext(r.Context(), "writing an answer failed", "route", routeOf(r), "requestId", requestID(r), "err", err)
		status = http.StatusInternalServerError
		out, _ = encode(errorBody{errorDetail{Code: simulator.EINTERNAL, Message: "internal error; the kgsim log has the detail under requestId " + requestID(r)}})
	}
	writeBody(w, status, out)
}

// secretFree marks an answer that holds no secret by how it is built:
// only IDs kgsim generates, IDs, codes and amounts the admin API
// validated (letters, digits, '.', '_', '-'), states and times; nothing a
// merchant chose or a store record of what it sent. Scrubbing one would
// read every product, app, client and seller for nothing, on the busiest
// answers (a purchase's).
type secretFree struct{ v any }

// writeBody answers with out, encoded JSON.
func writeBody(w http.ResponseWriter, status int, out []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(out)
}

// encode writes v for people to read, without escaping <, > and & (so
// "<accessKey>" reads as itself).
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// minScrubbed is the shortest key scrub looks for: a shorter one matches
// too much ordinary text to be replaced, and is no secret anyway.
const minScrubbed = 6

// scrub replaces the secrets kgsim holds in out: products' access keys,
// apps' kit keys and fixed client secrets, bindings' client secrets,
// sellers' SKs. Most
// answers hold none: they are returned as they are after one scan. One
// that does is decoded and its strings rewritten, so the answer stays
// valid JSON whatever the secret's characters.
func (a *api) scrub(r *http.Request, out []byte) ([]byte, error) {
	// Not cut short by a client gone while a long action ran: that is no
	// failure worth logging.
	all, err := a.secrets(context.WithoutCancel(r.Context()))
	if err != nil {
		return nil, err
	}
	keys := slices.DeleteFunc(all, func(k secret) bool { return !bytes.Contains(out, []byte(k.value)) })
	if len(keys) == 0 {
		return out, nil
	}
	// The longest first, so that one secret holding another is replaced
	// whole.
	slices.SortStableFunc(keys, func(a, b secret) int { return len(b.value) - len(a.value) })
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return encode(redact(v, keys))
}

// secrets returns the secrets kgsim holds, each with the label shown in
// its place.
func (a *api) secrets(ctx context.Context) ([]secret, error) {
	products, err := a.store.Products(ctx)
	if err != nil {
		return nil, err
	}
	apps, err := a.store.Apps(ctx, simulator.AppFilter{})
	if err != nil {
		return nil, err
	}
	clients, err := a.store.Clients(ctx, simulator.ClientFilter{})
	if err != nil {
		return nil, err
	}
	var keys []secret
	found := func(value, label string) {
		if len(value) >= minScrubbed {
			keys = append(keys, secret{value, label})
		}
	}
	for _, p := range products {
		found(p.AccessKey, "<accessKey>")
		found(p.OrderNotifyKey, "<orderNotifyKey>")
	}
	for _, app := range apps {
		found(app.KitKey, "<kitKey>")
		found(app.ClientSecret, "<clientSecret>")
	}
	for _, c := range clients {
		found(c.ClientSecret, "<clientSecret>")
	}
	sellers, err := a.store.Sellers(ctx)
	if err != nil {
		return nil, err
	}
	for _, sl := range sellers {
		found(sl.SK, "<sk>")
	}
	return keys, nil
}

// secret is a value an answer must not show and what it shows instead.
type secret struct{ value, label string }

// redact returns v with every secret in keys replaced by its label in
// its strings and names.
func redact(v any, keys []secret) any {
	replace := func(s string) string {
		for _, k := range keys {
			s = strings.ReplaceAll(s, k.value, k.label)
		}
		return s
	}
	switch v := v.(type) {
	case string:
		return replace(v)
	case []any:
		for i := range v {
			v[i] = redact(v[i], keys)
		}
	case map[string]any:
		out := make(map[string]any, len(v))
		for name, x := range v {
			out[replace(name)] = redact(x, keys)
		}
		return out
	}
	return v
}

// maskKey shows enough of an access key to tell two apart: its last two
// characters when it is long enough that they give nothing away.
func maskKey(key string) string {
	if len(key) < 2*minScrubbed {
		return maskPrefix
	}
	return maskPrefix + key[len(key)-2:]
}

// maskPrefix starts every masked key; no real key does.
const maskPrefix = "****"
