package delivery

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator/protocol"
)

// Request is one attempt's request exactly as sent, with the inputs of its
// signature (never the key itself), so that the attempt record, the console
// and replay all show the same thing.
type Request struct {
	Method string
	URL    string // full, query included
	Header http.Header
	Body   []byte
	// Signing inputs and intermediates. V1: TimeStamp, Canonical,
	// Signature (the authToken). V2: Timestamp, Nonce, BodyHMAC, Canonical
	// (key shown as <accessKey>), Signature.
	TimeStamp, Timestamp, Nonce, BodyHMAC, Canonical, Signature string
}

// NewV1Request signs a V1 GET callback to productURL. params are the
// activity's parameters without timeStamp and authToken; timeStamp is set
// from now, the wall clock the merchant checks against. Parameters already
// in productURL's query stay in front, unchanged, and are signed too, as a
// merchant verifying over all request parameters would include them
// (callbacks.md §3.1).
func NewV1Request(productURL, accessKey string, params []protocol.Param, now time.Time) (*Request, error) {
	base, existing, err := splitURL(productURL)
	if err != nil {
		return nil, err
	}
	fixed, err := protocol.ParseV1Query(existing)
	if err != nil {
		return nil, err
	}
	ts := protocol.V1Timestamp(now)
	own := append(append([]protocol.Param(nil), params...), protocol.Param{Name: protocol.V1TimeStamp, Value: ts})
	for _, f := range fixed {
		if f.Name == protocol.V1AuthToken || slices.ContainsFunc(own, func(p protocol.Param) bool { return p.Name == f.Name }) {
			return nil, &protocol.MalformedError{Field: "production URL", Reason: "its query parameter " + f.Name + " collides with a callback parameter"}
		}
	}
	all := append(append([]protocol.Param(nil), fixed...), own...)
	token, err := protocol.SignV1(accessKey, all)
	if err != nil {
		return nil, err
	}
	query := protocol.EncodeV1Query(own, token)
	if existing != "" {
		query = existing + "&" + query
	}
	return &Request{
		Method:    http.MethodGet,
		URL:       base + "?" + query,
		Header:    http.Header{"Accept": {"application/json"}},
		TimeStamp: ts,
		Canonical: protocol.V1Canonical(all),
		Signature: token,
	}, nil
}

// v2ContentType is what V2 callbacks declare; the docs' examples show both
// "charset=utf8" and "charset=utf-8", and every JSON stack reads this one.
const v2ContentType = "application/json;charset=UTF-8"

// NewV2Request signs a V2 POST callback to productURL. body is the
// activity's JSON object in generation order; it is sent in canonical form
// (callbacks.md §4.3) and the signature covers exactly those bytes. The
// signature is sent in upper-case hex unless lower is set (both occur in the
// docs). Parameters already in productURL's query are kept and not signed
// (callbacks.md §4.4).
func NewV2Request(productURL, accessKey string, body []byte, now time.Time, nonce string, lower bool) (*Request, error) {
	base, existing, err := splitURL(productURL)
	if err != nil {
		return nil, err
	}
	reqParams, err := protocol.CanonicalJSON(body, protocol.SortTopLevel)
	if err != nil {
		return nil, err
	}
	ts := protocol.MillisTimestamp(now)
	s := protocol.SignV2(accessKey, ts, nonce, reqParams)
	sig := s.Signature
	if !lower {
		sig = strings.ToUpper(sig)
	}
	query := protocol.V2Query(sig, ts, nonce)
	if existing != "" {
		query = existing + "&" + query
	}
	return &Request{
		Method:    http.MethodPost,
		URL:       base + "?" + query,
		Header:    http.Header{"Content-Type": {v2ContentType}, "Accept": {"application/json"}},
		Body:      reqParams,
		Timestamp: ts,
		Nonce:     nonce,
		BodyHMAC:  s.BodyHMAC,
		Canonical: s.Canonical,
		Signature: sig,
	}, nil
}

// splitURL checks a configured production URL and splits off its query.
func splitURL(productURL string) (base, query string, err error) {
	u, err := url.Parse(productURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", &protocol.MalformedError{Field: "production URL", Reason: "must be an absolute http(s) URL, got " + productURL}
	}
	if u.Fragment != "" {
		return "", "", &protocol.MalformedError{Field: "production URL", Reason: "must not carry a #fragment: " + productURL}
	}
	base, query, _ = strings.Cut(productURL, "?")
	return base, query, nil
}
