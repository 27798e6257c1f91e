package protocol

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// APIG signing constants (open-api.md §2).
const (
	apigAlgorithm  = "SDK-HMAC-SHA256"
	apigDateLayout = "20060102T150405Z"
	apigWindow     = 15 * time.Minute
)

// APIGRequest is what an APIG SDK-HMAC-SHA256 signature covers. Header
// must carry Host, which a server copies from r.Host because net/http moves
// it out of r.Header, and X-Sdk-Date.
type APIGRequest struct {
	Method string     // upper-cased when canonicalised
	Path   string     // decoded, as r.URL.Path
	Query  url.Values // decoded names and values, as r.URL.Query()
	Header http.Header
	Body   []byte
}

// Canonical returns the canonical request (open-api.md §2.1) over the named
// headers, which are lower-cased and sorted here.
func (r *APIGRequest) Canonical(signedHeaders []string) string {
	return r.parts(normalizeHeaderNames(signedHeaders)).String()
}

// StringToSign returns what the HMAC covers: the algorithm, X-Sdk-Date as
// sent, and the hash of the canonical request (open-api.md §2.2).
func (r *APIGRequest) StringToSign(signedHeaders []string) string {
	return apigStringToSign(r.Header.Get("X-Sdk-Date"), r.Canonical(signedHeaders))
}

// SignAPIG returns the Authorization header value for r signed with the
// AK/SK pair over the named headers.
func SignAPIG(ak, sk string, r *APIGRequest, signedHeaders []string) string {
	names := normalizeHeaderNames(signedHeaders)
	sts := apigStringToSign(r.Header.Get("X-Sdk-Date"), r.parts(names).String())
	return apigAuth{ak, names, hmacHex(sk, []byte(sts))}.String()
}

// UnknownAKError reports an Access key the simulator never issued.
type UnknownAKError struct{ AK string }

func (e *UnknownAKError) Error() string {
	return fmt.Sprintf("Authorization: Access=%s is not a known access key; use an AK/SK pair created in the simulator", e.AK)
}

// VerifyAPIG checks the Authorization header of r against the SK that
// lookupSK returns for its AK, with X-Sdk-Date within 15 minutes of now
// (open-api.md §2.3). It returns the AK whenever the header could be parsed,
// even with an error, because the APIG error message names it.
func VerifyAPIG(lookupSK func(ak string) (sk string, ok bool), r *APIGRequest, now time.Time) (ak string, err error) {
	return APIGVerifier{SK: lookupSK}.Verify(r, now)
}

// OtherSK is an SK that is not the signing AK's own, which a signer may
// have used by mistake, and how to name it to the merchant (never by its
// value).
type OtherSK struct{ Name, SK string }

// APIGVerifier verifies APIG signatures with the SKs it looks up.
type APIGVerifier struct {
	SK func(ak string) (sk string, ok bool)
	// Others, when set, is asked only after a mismatch for the SKs of
	// other accounts: a signature made with one of them is named as such.
	Others func(ak string) []OtherSK
}

// Verify is VerifyAPIG with the verifier's keys.
func (v APIGVerifier) Verify(r *APIGRequest, now time.Time) (ak string, err error) {
	raw := r.Header.Get("Authorization")
	if raw == "" {
		return "", malformed("Authorization", "header is missing; expected %s Access={AK}, SignedHeaders={names}, Signature={hex}", apigAlgorithm)
	}
	a, err := parseAPIGAuthorization(raw)
	if err != nil {
		return "", err
	}
	sk, ok := v.SK(a.access)
	if !ok {
		return a.access, &UnknownAKError{a.access}
	}
	var missing []string
	for _, h := range []string{"host", "x-sdk-date"} {
		if !slices.Contains(a.signed, h) {
			missing = append(missing, h)
		}
	}
	if len(missing) > 0 {
		return a.access, malformed("SignedHeaders", "%q does not include %s; host and x-sdk-date must always be signed",
			strings.Join(a.signed, ";"), strings.Join(missing, " and "))
	}
	date := r.Header.Get("X-Sdk-Date")
	if date == "" {
		return a.access, malformed("X-Sdk-Date", "header is missing; send the signing time as yyyyMMddTHHmmssZ in UTC, e.g. 20191115T033655Z")
	}
	signed, err := time.Parse(apigDateLayout, date)
	if err != nil {
		return a.access, malformed("X-Sdk-Date", "%q is not a UTC time of the form yyyyMMddTHHmmssZ, e.g. 20191115T033655Z", date)
	}
	if err := checkFresh("X-Sdk-Date", signed, now, apigWindow); err != nil {
		if stale, ok := errors.AsType[*StaleError](err); ok {
			stale.Cause = skewCause(signed.Sub(now))
		}
		return a.access, err
	}
	p := r.parts(a.signed)
	canonical := p.String()
	sts := apigStringToSign(date, canonical)
	expected := hmacHex(sk, []byte(sts))
	if equalHex(expected, a.signature) {
		return a.access, nil
	}
	var others []OtherSK
	if v.Others != nil {
		others = v.Others(a.access)
	}
	return a.access, &Mismatch{
		Scheme:    "apig",
		Canonical: canonical + "\n\n" + sts,
		Expected:  expected,
		Received:  a.signature,
		Cause:     r.diagnose(sk, date, p, a, others),
	}
}

// skewCause explains a stale X-Sdk-Date. A skew of whole hours is a
// local time sent as UTC (Beijing time is 8 h ahead); anything else is a
// clock that is off.
func skewCause(ahead time.Duration) string {
	if h := ahead.Round(time.Hour); h != 0 && (ahead-h).Abs() <= apigWindow {
		return fmt.Sprintf("X-Sdk-Date is %s kgsim's clock by about %d h: it was written in local time (UTC%+d) instead of UTC; format it in UTC",
			map[bool]string{true: "ahead of", false: "behind"}[h > 0], int(h.Abs()/time.Hour), int(h/time.Hour))
	}
	return "the signer's clock differs from kgsim's: synchronise it (NTP), and sign each request when it is sent, not ahead of time"
}

// Explain returns the canonical request and string to sign over the
// headers r's Authorization names, without any key: what a refusal shows
// the merchant whatever the reason. ok is false when Authorization cannot
// be parsed.
func (r *APIGRequest) Explain() (canonical, stringToSign string, ok bool) {
	a, err := parseAPIGAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return "", "", false
	}
	canonical = r.parts(a.signed).String()
	return canonical, apigStringToSign(r.Header.Get("X-Sdk-Date"), canonical), true
}

// diagnose recognises the usual ways an APIG signature goes wrong.
func (r *APIGRequest) diagnose(sk, date string, p apigParts, a apigAuth, others []OtherSK) string {
	sign := func(p apigParts) string { return hmacHex(sk, []byte(apigStringToSign(date, p.String()))) }
	var suspects []suspect
	if noSlash := escapePath(r.Path); noSlash != p.uri {
		q := p
		q.uri = noSlash
		suspects = append(suspects, suspect{`the canonical URI must end with "/": append one to the path when signing (the request itself is sent without it)`, func() string { return sign(q) }})
	}
	if plus := strings.ReplaceAll(p.query, "%20", "+"); plus != p.query {
		q := p
		q.query = plus
		suspects = append(suspects, suspect{`spaces in the query were signed as "+"; encode them as %20`, func() string { return sign(q) }})
	}
	if empty := hexSHA256(nil); empty != p.bodyHash {
		q := p
		q.bodyHash = empty
		suspects = append(suspects, suspect{"the body hash is of an empty body: the request was signed before its body was set", func() string { return sign(q) }})
	}
	suspects = append(suspects, r.headerSuspects(a.signed, sign)...)
	suspects = append(suspects, r.bodySuspects(p, sign)...)
	suspects = append(suspects, suspect{"the SK used for signing ends with a newline (read from a file without trimming)", func() string {
		return hmacHex(sk+"\n", []byte(apigStringToSign(date, p.String())))
	}})
	for _, o := range others {
		suspects = append(suspects, suspect{fmt.Sprintf("the request was signed with the SK of %s, not with the SK of the AK it names (Access=%s)", o.Name, a.access), func() string {
			return hmacHex(o.SK, []byte(apigStringToSign(date, p.String())))
		}})
	}
	if cause := diagnose(a.signature, equalHex, suspects...); cause != "" {
		return cause
	}
	for _, h := range a.signed {
		if len(r.Header.Values(h)) == 0 {
			return fmt.Sprintf("signed header %s is not in the request, so it was signed as %q", h, h+":")
		}
	}
	return ""
}

// headerSuspects are signed headers changed after signing: a Host the
// request was signed for but not sent to (another host, or the port left
// out or added), a Content-Type the HTTP client rewrote.
func (r *APIGRequest) headerSuspects(signed []string, sign func(apigParts) string) []suspect {
	var suspects []suspect
	changed := func(name, was string) {
		now := strings.Join(r.Header.Values(name), ",")
		if was == strings.TrimSpace(now) {
			return
		}
		h := r.Header.Clone()
		h.Set(name, was)
		q := *r
		q.Header = h
		suspects = append(suspects, suspect{
			fmt.Sprintf("signed header %s was signed as %q but the request carries %q: it was changed after signing (by a proxy, the HTTP client or the code); sign the value that is sent", name, was, now),
			func() string { return sign(q.parts(signed)) },
		})
	}
	if slices.Contains(signed, "host") {
		host := r.Header.Get("Host")
		candidates := []string{host + ":80", host + ":443"}
		if h, _, err := net.SplitHostPort(host); err == nil {
			candidates = []string{h}
		}
		// The marketplace's own hosts: a merchant signs for them and sends
		// the request to kgsim.
		for _, c := range append(candidates, "mkt.myhuaweicloud.com", "mkt.myhuaweicloud.cn") {
			changed("host", c)
		}
	}
	if slices.Contains(signed, "content-type") {
		for _, c := range []string{"application/json", "application/json;charset=UTF-8", "application/json; charset=UTF-8",
			"application/json; charset=utf-8", "application/json;charset=utf-8"} {
			changed("content-type", c)
		}
	}
	return suspects
}

// bodySuspects are a JSON body hashed in another form than the bytes
// sent: the object the client serialised, hashed before the HTTP library
// serialised it again.
func (r *APIGRequest) bodySuspects(p apigParts, sign func(apigParts) string) []suspect {
	if !json.Valid(r.Body) {
		return nil
	}
	var suspects []suspect
	for _, f := range []struct {
		how       string
		transform func([]byte) ([]byte, error)
	}{
		{"compacted", compactJSON},
		{"with its members sorted", func(b []byte) ([]byte, error) { return CanonicalJSON(b, SortAllLevels) }},
		{"indented", func(b []byte) ([]byte, error) {
			var out bytes.Buffer
			err := json.Indent(&out, b, "", "  ")
			return out.Bytes(), err
		}},
		{"with a final newline", func(b []byte) ([]byte, error) { return append(slices.Clip(b), '\n'), nil }},
		{"without its final newline", func(b []byte) ([]byte, error) { return bytes.TrimRight(b, "\r\n"), nil }},
	} {
		b, err := f.transform(r.Body)
		if err != nil || bytes.Equal(b, r.Body) {
			continue
		}
		q := p
		q.bodyHash = hexSHA256(b)
		suspects = append(suspects, suspect{
			"the body hash is of the body " + f.how + ", not of the bytes sent: the body was serialised again after it was hashed; hash exactly the bytes written to the request",
			func() string { return sign(q) },
		})
	}
	return suspects
}

// apigParts are the six lines of a canonical request, kept apart so that
// diagnose can swap one for a common mistake.
type apigParts struct {
	method, uri, query, headers, signed, bodyHash string
}

func (p apigParts) String() string {
	return p.method + "\n" + p.uri + "\n" + p.query + "\n" + p.headers + "\n" + p.signed + "\n" + p.bodyHash
}

// parts builds the canonical request over names, which must already be
// lower-case and sorted.
func (r *APIGRequest) parts(names []string) apigParts {
	uri := escapePath(r.Path)
	if !strings.HasSuffix(uri, "/") {
		uri += "/"
	}
	var h strings.Builder
	for _, n := range names {
		// Several values of one header are joined with "," as HTTP folds
		// them (RFC 9110 §5.3); the Huawei SDKs never send a header twice.
		h.WriteString(n + ":")
		for i, v := range r.Header.Values(n) {
			if i > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strings.TrimSpace(v))
		}
		h.WriteByte('\n')
	}
	return apigParts{
		method:   strings.ToUpper(r.Method),
		uri:      uri,
		query:    canonicalQuery(r.Query),
		headers:  h.String(),
		signed:   strings.Join(names, ";"),
		bodyHash: hexSHA256(r.Body),
	}
}

func apigStringToSign(date, canonical string) string {
	return apigAlgorithm + "\n" + date + "\n" + hexSHA256([]byte(canonical))
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// normalizeHeaderNames returns names lower-cased, sorted and without
// repeats, leaving the caller's slice alone.
func normalizeHeaderNames(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToLower(n)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// escapePath percent-encodes each "/"-separated segment of a decoded path.
func escapePath(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = apigEscape(s)
	}
	return strings.Join(segs, "/")
}

// canonicalQuery encodes every name=value pair, sorts by encoded name then
// encoded value, and joins them with "&"; an empty value keeps its "=".
func canonicalQuery(q url.Values) string {
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range q {
		ek := apigEscape(k)
		for _, v := range vs {
			pairs = append(pairs, pair{ek, apigEscape(v)})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int { return cmp.Or(cmp.Compare(a.k, b.k), cmp.Compare(a.v, b.v)) })
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k + "=" + p.v)
	}
	return b.String()
}

// apigEscape keeps A-Z a-z 0-9 - _ . ~ and encodes every other byte as
// upper-case %XX, space included (never "+"); url.PathEscape and
// url.QueryEscape each keep or alter other characters.
func apigEscape(s string) string {
	const upper = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upper[c>>4])
		b.WriteByte(upper[c&15])
	}
	return b.String()
}

// apigAuth is a parsed Authorization header.
type apigAuth struct {
	access    string
	signed    []string // lower-case, sorted, no repeats
	signature string   // 64 hex digits, either case
}

func (a apigAuth) String() string {
	return apigAlgorithm + " Access=" + a.access + ", SignedHeaders=" + strings.Join(a.signed, ";") + ", Signature=" + a.signature
}

// parseAPIGAuthorization reads "SDK-HMAC-SHA256 Access=AK,
// SignedHeaders=a;b, Signature=hex". It accepts extra spaces around the
// parts and the parts in any order [SIM]; it refuses anything else, since a
// header the SDKs cannot produce is a hand-written signer's bug.
func parseAPIGAuthorization(s string) (apigAuth, error) {
	const form = apigAlgorithm + " Access={AK}, SignedHeaders={names}, Signature={hex}"
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), apigAlgorithm)
	if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
		// Only the scheme is shown: the rest may be a secret sent by
		// mistake (a bearer token, the SK itself).
		scheme, _, _ := strings.Cut(strings.TrimSpace(s), " ")
		if len(scheme) > len(apigAlgorithm)+8 {
			scheme = scheme[:len(apigAlgorithm)+8] + "..."
		}
		return apigAuth{}, malformed("Authorization", "the scheme %q is not %q; expected %s", scheme, apigAlgorithm, form)
	}
	var a apigAuth
	seen := map[string]bool{}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || v == "" || strings.ContainsAny(v, " \t") {
			return apigAuth{}, malformed("Authorization", "part %q is not name=value; expected %s", strings.TrimSpace(part), form)
		}
		if seen[k] {
			return apigAuth{}, malformed("Authorization", "%s is given twice", k)
		}
		seen[k] = true
		switch k {
		case "Access":
			a.access = v
		case "SignedHeaders":
			for n := range strings.SplitSeq(v, ";") {
				if n == "" || strings.ToLower(n) != n {
					return apigAuth{}, malformed("Authorization", "SignedHeaders=%s: names must be non-empty, lower-case and separated by \";\"", v)
				}
				a.signed = append(a.signed, n)
			}
			if !slices.IsSorted(a.signed) || len(slices.Compact(slices.Clone(a.signed))) != len(a.signed) {
				return apigAuth{}, malformed("Authorization", "SignedHeaders=%s must be sorted without repeats: %s", v, strings.Join(normalizeHeaderNames(a.signed), ";"))
			}
		case "Signature":
			if len(v) != 2*sha256.Size {
				return apigAuth{}, malformed("Authorization", "Signature=%s has %d characters; expected 64 hex digits", v, len(v))
			}
			if _, err := hex.DecodeString(v); err != nil {
				return apigAuth{}, malformed("Authorization", "Signature=%s is not hex; expected 64 hex digits", v)
			}
			a.signature = v
		default:
			return apigAuth{}, malformed("Authorization", "unknown part %q; expected %s", k, form)
		}
	}
	for _, k := range []string{"Access", "SignedHeaders", "Signature"} {
		if !seen[k] {
			return apigAuth{}, malformed("Authorization", "%s is missing; expected %s", k, form)
		}
	}
	return a, nil
}
