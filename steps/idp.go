package steps

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/kgsim/kgsim/simulator/identity"
)

// idp serves kgsim's identity provider (the unified login page, each
// tenant's OAuth 2.0 and CAS endpoints) on loopback for one scenario, and
// notes every request it answers: what the merchant's application and the
// browser asked of kgsim, which the login checks read.
type idp struct {
	server *http.Server
	ln     net.Listener

	mu   sync.Mutex
	seen []visit
}

// visit is one request the identity provider answered. It keeps no
// credential the merchant sent (client secret, access token), only what
// names the request, and the answer's body when it is an error or a CAS
// document, for the failure text.
type visit struct {
	at     time.Time
	method string
	path   string
	query  url.Values // without client_secret
	grant  string     // a token request's grant_type
	status int
	body   []byte // error answers and CAS validations; nil for tokens
}

// listenIDP reserves the identity provider's loopback address, which the
// marketplace must know (its Base) before the routes can be served.
func listenIDP() (*idp, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return &idp{ln: ln}, nil
}

// base is where browsers and the merchant reach the identity provider.
func (p *idp) base() string { return "http://" + p.ln.Addr().String() }

// serve answers the identity provider's routes on the reserved address.
func (p *idp) serve(s *identity.Server) {
	r := mux.NewRouter()
	s.Register(r)
	p.server = &http.Server{Handler: p.note(r), ReadHeaderTimeout: 10 * time.Second}
	go p.server.Serve(p.ln)
}

// maxNoted bounds the answer bytes a visit keeps.
const maxNoted = 4096

func (p *idp) note(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := visit{at: time.Now(), method: r.Method, path: r.URL.Path, query: r.URL.Query()}
		if strings.HasSuffix(r.URL.Path, "/oauth2/token") {
			// The form is read here and put back for the endpoint.
			body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
			form, _ := url.ParseQuery(string(body))
			v.grant = form.Get("grant_type")
		}
		v.query.Del("client_secret")
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		v.status = rec.status
		if rec.status >= http.StatusBadRequest || strings.HasSuffix(r.URL.Path, "alidate") {
			v.body = rec.body.Bytes()
		}
		p.mu.Lock()
		p.seen = append(p.seen, v)
		p.mu.Unlock()
	})
}

// visits returns the requests answered since since whose path ends with
// suffix, oldest first.
func (p *idp) visits(since time.Time, suffix string) []visit {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []visit
	for _, v := range p.seen {
		if !v.at.Before(since) && strings.HasSuffix(v.path, suffix) {
			out = append(out, v)
		}
	}
	return out
}

// String shows a visit in a failure: no credential is kept to show.
func (v visit) String() string {
	s := v.method + " " + v.path
	if v.grant != "" {
		s += " (grant_type=" + v.grant + ")"
	}
	s += fmt.Sprintf(" → %d", v.status)
	if len(v.body) > 0 {
		s += " " + shown(v.body)
	}
	return s
}

func (p *idp) close() {
	if p.server == nil {
		p.ln.Close()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	p.server.Shutdown(ctx)
}

// recorder passes an answer on and keeps its status and first bytes.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if n := maxNoted - r.body.Len(); n > 0 {
		r.body.Write(b[:min(n, len(b))])
	}
	return r.ResponseWriter.Write(b)
}
