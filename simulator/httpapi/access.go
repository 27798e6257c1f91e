package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/kgsim/kgsim/simulator"
)

// Access says who may use the admin API and /metrics (and the console,
// which will check the token through a login form instead of a header).
// A web page open in the operator's browser must not be able to drive
// them: requests from another origin are refused, the Host must be a
// name kgsim answers to (so a name rebound to 127.0.0.1 does not work),
// and a token can be required of every client. The identity provider's
// routes and /healthz are not checked: merchants reach them under names
// of their own.
//
// The zero Access accepts IP literals and localhost as Host and requires
// no token.
type Access struct {
	// Token, when set, must be sent as "Authorization: Bearer <Token>".
	Token string
	// Base is where kgsim is reached (--base-url): its origin is kgsim's
	// own, and its host a name kgsim answers to.
	Base string
	// Hosts are further names kgsim answers to: the listen address's
	// host, names given with --allowed-host. Without a port.
	Hosts []string
}

// Error codes of refused access, mapped to their status in statusOf.
const (
	eUnauthorized     = "unauthorized"
	eForbidden        = "forbidden"
	eUnsupportedMedia = "unsupported_media_type"
)

// gate holds Access in the form its checks read without allocating.
type gate struct {
	token      [sha256.Size]byte // the token's digest, compared with the sent one's
	needsToken bool
	origin     string   // the base URL's origin, lower case, default port left out
	hosts      []string // lower case, without a final dot
}

func newGate(a Access) (*gate, error) {
	g := &gate{needsToken: a.Token != ""}
	if len(a.Token) > MaxToken {
		return nil, simulator.Errorf(simulator.EINVALID, "Access.Token", "%d characters: want at most %d", len(a.Token), MaxToken)
	}
	if g.needsToken {
		g.token = sha256.Sum256([]byte(a.Token))
	}
	if a.Base != "" {
		u, err := url.Parse(a.Base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			return nil, simulator.Errorf(simulator.EINVALID, "Access.Base", "%q: want http(s)://HOST[:PORT]", a.Base)
		}
		host := u.Host
		if port := u.Port(); u.Scheme == "http" && port == "80" || u.Scheme == "https" && port == "443" {
			host = strings.TrimSuffix(host, ":"+port) // browsers leave a default port out of Origin
		}
		g.origin = strings.ToLower(u.Scheme + "://" + host)
		g.hosts = append(g.hosts, name(u.Hostname()))
	}
	for _, h := range a.Hosts {
		if h == "" || strings.ContainsAny(h, ":/[]@ ") {
			return nil, simulator.Errorf(simulator.EINVALID, "Access.Hosts", "%q: want a host name without scheme or port, such as kgsim.internal", h)
		}
		g.hosts = append(g.hosts, name(h))
	}
	return g, nil
}

// name is a host name as the checks compare it.
func name(host string) string { return strings.ToLower(strings.TrimSuffix(host, ".")) }

// check is one of the gate's checks: nil lets the request through.
type check func(r *http.Request) *simulator.Error

// admit is middleware that runs checks in order and answers the first
// refusal in the admin API's error shape, before next can read or change
// anything. The admin API admits with place, bearer and jsonBody, /metrics
// with place and bearer; the console is meant to admit with place and its
// own login.
func admit(checks ...check) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for _, c := range checks {
				if e := c(r); e != nil {
					refuse(w, e)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// refuse answers a refused request. The message holds nothing kgsim keeps
// (only what the client sent), so it is written as it is, without the
// store reads that scrubbing an answer takes: a refusal costs no more
// than the request.
func refuse(w http.ResponseWriter, e *simulator.Error) {
	status := statusOf(e.Code)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kgsim admin"`)
	}
	out, _ := encode(errorBody{errorDetail{Code: e.Code, Message: e.Message, Field: e.Field}}) // strings only: cannot fail
	writeBody(w, status, out)
}

// place refuses a request addressed to a name kgsim does not answer to,
// or sent by a page of another origin.
func (g *gate) place(r *http.Request) *simulator.Error {
	if !g.knownHost(r.Host) {
		return simulator.Errorf(eForbidden, "Host",
			"%q is not a name kgsim answers to here (a guard against DNS rebinding): use an IP address, localhost or the --base-url host, "+
				"or start kgsim serve with --allowed-host %s", r.Host, hostname(r.Host))
	}
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "cross-site", "same-site":
		return simulator.Errorf(eForbidden, "Sec-Fetch-Site",
			"%s request refused: a page of another origin cannot use kgsim's admin routes; call them from curl, a script or kgsim's own pages", site)
	}
	if origin := r.Header.Get("Origin"); origin != "" && !g.ownOrigin(origin, r) {
		own := "http://"
		if r.TLS != nil {
			own = "https://"
		}
		return simulator.Errorf(eForbidden, "Origin",
			"cross-origin request refused: %q is not kgsim's own origin (%s%s); a page of another origin cannot use kgsim's admin routes", origin, own, r.Host)
	}
	return nil
}

// knownHost reports whether host (a Host header) names kgsim: an IP
// literal (no name to rebind), localhost, or one of g.hosts.
func (g *gate) knownHost(host string) bool {
	h := hostname(host)
	if ipLike(h) {
		_, err := netip.ParseAddr(h)
		return err == nil
	}
	h = strings.TrimSuffix(h, ".")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	for _, known := range g.hosts {
		if strings.EqualFold(h, known) {
			return true
		}
	}
	return false
}

// ipLike reports whether h can only be an IP literal: digits and dots
// (no top-level domain is numeric), or a colon. Names are not parsed as
// addresses, which would allocate an error for each.
func ipLike(h string) bool {
	if strings.IndexByte(h, ':') >= 0 {
		return true
	}
	return h != "" && strings.Trim(h, "0123456789.") == ""
}

// hostname is a Host header without its port and an IPv6 literal's
// brackets.
func hostname(host string) string {
	if rest, ok := strings.CutPrefix(host, "["); ok {
		h, _, _ := strings.Cut(rest, "]")
		return h
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && strings.IndexByte(host, ':') == i {
		return host[:i]
	}
	return host
}

// ownOrigin reports whether origin is the request's own (the scheme it
// came by and its Host) or the base URL's.
func (g *gate) ownOrigin(origin string, r *http.Request) bool {
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	if host, ok := strings.CutPrefix(origin, scheme); ok && strings.EqualFold(host, r.Host) {
		return true
	}
	return g.origin != "" && strings.EqualFold(origin, g.origin)
}

// bearer refuses a request without the admin token, when one is set.
func (g *gate) bearer(r *http.Request) *simulator.Error {
	if !g.needsToken {
		return nil
	}
	const how = "send Authorization: Bearer followed by the admin token kgsim serve was given (KGSIM_ADMIN_TOKEN or --admin-token)"
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return simulator.Errorf(eUnauthorized, "Authorization", "the admin token is required: %s", how)
	}
	// Nothing of what was sent is shown: it may be the token, misplaced.
	scheme, token, _ := strings.Cut(auth, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return simulator.Errorf(eUnauthorized, "Authorization", "only the Bearer scheme is accepted: %s", how)
	}
	if !g.tokenMatches(strings.TrimSpace(token)) {
		return simulator.Errorf(eUnauthorized, "Authorization", "the bearer token is not the admin token: %s", how)
	}
	return nil
}

// MaxToken is the longest admin token.
const MaxToken = 256

// tokenMatches compares token with the admin token in constant time,
// whatever their lengths. The token is hashed from a copy on the stack:
// converting it to a slice would allocate.
func (g *gate) tokenMatches(token string) bool {
	if len(token) > MaxToken {
		return false
	}
	var buf [MaxToken]byte
	sum := sha256.Sum256(buf[:copy(buf[:], token)])
	return subtle.ConstantTimeCompare(sum[:], g.token[:]) == 1
}

// jsonBody refuses a request that carries a body other than JSON. Without
// it, a page of any site could post a text/plain form, which the browser
// sends without asking (no preflight), and the handler would read it as
// JSON.
func jsonBody(r *http.Request) *simulator.Error {
	if r.ContentLength == 0 {
		return nil // no body; -1 (chunked, unknown length) is one
	}
	ct := r.Header.Get("Content-Type")
	media, _, _ := strings.Cut(ct, ";")
	if strings.EqualFold(strings.TrimSpace(media), "application/json") {
		return nil
	}
	if ct == "" {
		return simulator.Errorf(eUnsupportedMedia, "Content-Type", "a request body needs Content-Type: application/json (none was sent)")
	}
	return simulator.Errorf(eUnsupportedMedia, "Content-Type", "%q refused: a request body must be JSON, sent with Content-Type: application/json", ct)
}
