package protocol

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
	raw := r.Header.Get("Authorization")
	if raw == "" {
		return "", malformed("Authorization", "header is missing; expected %s Access={AK}, SignedHeaders={names}, Signature={hex}", apigAlgorithm)
	}
	a, err := parseAPIGAuthorization(raw)
	if err != nil {
		return "", err
	}
	sk, ok := lookupSK(a.access)
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
	signed, err := time.Parse(apigDateLayout, date)
	if err != nil {
		return a.access, malformed("X-Sdk-Date", "%q is not a UTC time of the form yyyyMMddTHHmmssZ, e.g. 20191115T033655Z", date)
	}
	if err := checkFresh("X-Sdk-Date", signed, now, apigWindow); err != nil {
		return a.access, err
	}
	p := r.parts(a.signed)
	canonical := p.String()
	sts := apigStringToSign(date, canonical)
	expected := hmacHex(sk, []byte(sts))
	if equalHex(expected, a.signature) {
		return a.access, nil
	}
	return a.access, &Mismatch{
		Scheme:    "apig",
		Canonical: canonical + "\n\n" + sts,
		Expected:  expected,
		Received:  a.signature,
		Cause:     r.diagnose(sk, date, p, a),
	}
}

// diagnose recognises the usual ways an APIG signature goes wrong.
func (r *APIGRequest) diagnose(sk, date string, p apigParts, a apigAuth) string {
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
	suspects = append(suspects, suspect{"the SK used for signing ends with a newline (read from a file without trimming)", func() string {
		return hmacHex(sk+"\n", []byte(apigStringToSign(date, p.String())))
	}})
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
		return apigAuth{}, malformed("Authorization", "%q does not start with %q; expected %s", s, apigAlgorithm+" ", form)
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
