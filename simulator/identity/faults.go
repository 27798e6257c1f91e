package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"

	"github.com/kgsim/kgsim/simulator"
)

// Faults on demand (identity.md §5): a merchant's tests of its error
// paths make an endpoint of a tenant's domain fail, or answer slowly, for
// a number of requests or until cleared. They live in memory: a restart
// clears them, as the end of the test that set them should.

// Endpoint names an endpoint a fault can break.
type Endpoint string

const (
	EndpointToken       Endpoint = "token"        // POST /api/v1/oauth2/token
	EndpointUserinfo    Endpoint = "userinfo"     // GET /api/v1/oauth2/userinfo
	EndpointCASValidate Endpoint = "cas-validate" // every CAS validation: validate, serviceValidate, p3/serviceValidate
)

// Endpoints are the endpoints a fault can break, in the order listings
// show them.
func Endpoints() []Endpoint { return []Endpoint{EndpointToken, EndpointUserinfo, EndpointCASValidate} }

// MaxFaultDelay bounds a fault's delay.
const MaxFaultDelay = 10 * time.Minute

// FaultRequest is a fault as the admin API takes it.
//
// Status is what the endpoint answers instead of its answer: 500 to 599
// for the token endpoint; 401 (the answer to a revoked token) or 500 to
// 599 for userinfo; 200 (CAS answers failures with 200) or 500 to 599 for
// CAS validation, whose document says INTERNAL_ERROR. Delay holds the
// request that long first ("5s"); with a delay and no status the endpoint
// then answers as usual (slow, not failing); with neither the status is
// 503 (200 for CAS). Count is how many requests it affects; absent or 0,
// all until cleared.
type FaultRequest struct {
	Endpoint Endpoint `json:"endpoint"`
	Status   *int     `json:"status"`
	Delay    string   `json:"delay"`
	Count    int      `json:"count"`
}

// Fault is a fault in force for a tenant's endpoint.
type Fault struct {
	TenantID string
	Endpoint Endpoint
	Status   int // 0: slow only
	Delay    time.Duration
	Count    int // 0: until cleared
	Used     int // the requests it affected so far
	SetAt    time.Time
}

// MarshalJSON shows a fault with its delay as a duration ("5s").
func (f Fault) MarshalJSON() ([]byte, error) {
	var delay string
	if f.Delay > 0 {
		delay = f.Delay.String()
	}
	return json.Marshal(struct {
		TenantID string    `json:"tenantId"`
		Endpoint Endpoint  `json:"endpoint"`
		Status   int       `json:"status,omitempty"`
		Delay    string    `json:"delay,omitempty"`
		Count    int       `json:"count,omitempty"`
		Used     int       `json:"used"`
		SetAt    time.Time `json:"setAt"`
	}{f.TenantID, f.Endpoint, f.Status, delay, f.Count, f.Used, f.SetAt})
}

// fault checks r and makes the fault it asks for.
func (r FaultRequest) fault(tenantID string, at time.Time) (Fault, error) {
	f := Fault{TenantID: tenantID, Endpoint: r.Endpoint, Count: r.Count, SetAt: at}
	names := make([]string, 0, 3)
	for _, e := range Endpoints() {
		names = append(names, string(e))
	}
	if !slices.Contains(Endpoints(), r.Endpoint) {
		return f, simulator.Errorf(simulator.EINVALID, "endpoint", "%q: want one of %s", r.Endpoint, strings.Join(names, ", "))
	}
	if r.Delay != "" {
		d, err := time.ParseDuration(r.Delay)
		if err != nil || d <= 0 || d > MaxFaultDelay {
			return f, simulator.Errorf(simulator.EINVALID, "delay", "%q: want a duration from 1ms to %s, such as 500ms or 5s", r.Delay, MaxFaultDelay)
		}
		f.Delay = d
	}
	if r.Count < 0 {
		return f, simulator.Errorf(simulator.EINVALID, "count", "%d: want the number of requests to affect, or 0 for all until cleared", r.Count)
	}
	switch {
	case r.Status != nil:
		f.Status = *r.Status
	case f.Delay > 0: // slow only
		return f, nil
	case r.Endpoint == EndpointCASValidate:
		f.Status = http.StatusOK
	default:
		f.Status = http.StatusServiceUnavailable
	}
	failure := f.Status >= 500 && f.Status <= 599
	switch r.Endpoint {
	case EndpointUserinfo:
		failure = failure || f.Status == http.StatusUnauthorized
	case EndpointCASValidate:
		failure = failure || f.Status == http.StatusOK
	}
	if !failure {
		want := map[Endpoint]string{EndpointToken: "500 to 599", EndpointUserinfo: "401 or 500 to 599", EndpointCASValidate: "200 or 500 to 599"}
		return f, simulator.Errorf(simulator.EINVALID, "status", "%d: the %s endpoint can be made to answer %s", f.Status, r.Endpoint, want[r.Endpoint])
	}
	return f, nil
}

// faults are the faults in force, one per tenant and endpoint.
type faults struct {
	set atomic.Int32 // how many: the endpoints look no further while none are
	mu  sync.Mutex
	by  map[faultKey]*Fault
}

type faultKey struct {
	tenantID string
	endpoint Endpoint
}

// SetFault puts a fault in force for a tenant, replacing the one its
// endpoint had. The caller checks the tenant exists.
func (s *Server) SetFault(tenantID string, r FaultRequest) (Fault, error) {
	f, err := r.fault(tenantID, s.clock.Now())
	if err != nil {
		return f, err
	}
	fs := &s.faults
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.by == nil {
		fs.by = map[faultKey]*Fault{}
	}
	fs.by[faultKey{tenantID, f.Endpoint}] = &f
	fs.set.Store(int32(len(fs.by)))
	return f, nil
}

// Faults lists a tenant's faults in force.
func (s *Server) Faults(tenantID string) []Fault {
	fs := &s.faults
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := []Fault{}
	for _, e := range Endpoints() {
		if f, ok := fs.by[faultKey{tenantID, e}]; ok {
			out = append(out, *f)
		}
	}
	return out
}

// ClearFaults ends a tenant's faults of the endpoints given, or all of
// them when none is, and returns how many it ended.
func (s *Server) ClearFaults(tenantID string, endpoints ...Endpoint) int {
	if len(endpoints) == 0 {
		endpoints = Endpoints()
	}
	fs := &s.faults
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := 0
	for _, e := range endpoints {
		if _, ok := fs.by[faultKey{tenantID, e}]; ok {
			delete(fs.by, faultKey{tenantID, e})
			n++
		}
	}
	fs.set.Store(int32(len(fs.by)))
	return n
}

// take returns the fault that applies to a request of a tenant's
// endpoint, counting it, and ends a counted fault at its last request.
func (fs *faults) take(tenantID string, e Endpoint) (Fault, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f, ok := fs.by[faultKey{tenantID, e}]
	if !ok {
		return Fault{}, false
	}
	f.Used++
	if f.Count > 0 && f.Used >= f.Count {
		delete(fs.by, faultKey{tenantID, e})
		fs.set.Store(int32(len(fs.by)))
	}
	return *f, true
}

// faulty applies the fault in force for r's endpoint e, if any: it holds
// the request for the delay (no store transaction is open, and a client
// that goes away ends the wait), then answers in the fault's place when it
// has a status. It reports whether r is answered.
func (s *Server) faulty(w http.ResponseWriter, r *http.Request, e Endpoint) bool {
	if s.faults.set.Load() == 0 {
		return false
	}
	t, err := s.store.TenantByCode(r.Context(), mux.Vars(r)["tenantCode"])
	if err != nil {
		return false // the endpoint answers an unknown tenant, or a store failure, itself
	}
	f, ok := s.faults.take(t.ID, e)
	if !ok {
		return false
	}
	if f.Delay > 0 {
		// The server notices a client going away only once the body is
		// read: read it now (within the token endpoint's bound), and put
		// it back for the endpoint.
		read, _ := io.ReadAll(io.LimitReader(r.Body, maxForm+1))
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(read), r.Body), r.Body}
		timer := time.NewTimer(f.Delay)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
			return true // nobody to answer
		}
	}
	if f.Status == 0 {
		return false
	}
	s.log.InfoContext(r.Context(), "identity: fault injected", "tenantId", t.ID, "endpoint", string(e), "status", f.Status)
	const why = "Service temporarily unavailable (a fault set through kgsim's admin API)"
	switch {
	case e == EndpointCASValidate:
		s.casFault(w, r, t.ID, f.Status)
	case f.Status == http.StatusUnauthorized:
		s.oauthError(w, r, InvalidAccessToken(bearer(r)))
	default:
		s.oauthError(w, r, &OAuthError{f.Status, "server_error", why})
	}
	return true
}

// casFault answers a CAS validation with INTERNAL_ERROR in status: the
// plain "no" of CAS 1.0, else the document in the format asked for or the
// tenant's default.
func (s *Server) casFault(w http.ResponseWriter, r *http.Request, tenantID string, status int) {
	w.Header().Set("Cache-Control", "no-store")
	if strings.HasSuffix(r.URL.Path, "/cas/validate") {
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		w.WriteHeader(status)
		w.Write([]byte("no\n\n"))
		return
	}
	format, err := s.casFormat(r.Context(), r, tenantID)
	if err != nil {
		s.log.ErrorContext(r.Context(), "identity: reading the tenant's settings", "err", err)
	}
	doc := CASFailure{Code: CASInternalError, Description: "The CAS server failed (a fault set through kgsim's admin API)"}
	body, contentType := doc.JSON(), ContentTypeJSON
	if format == "XML" {
		body, contentType = doc.XML(), ContentTypeXML
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(body)
}

// ExpireLogins ends now every code, ticket, SSO session and token of a
// tenant still live: the merchant's next use of any of them fails as if
// it had expired. It returns how many records it ended.
func (s *Server) ExpireLogins(ctx context.Context, tenantID string) (int, error) {
	n, err := s.store.ExpireLogins(ctx, tenantID, s.clock.Now())
	if err != nil {
		return 0, fmt.Errorf("expiring the logins of tenant %s: %w", tenantID, err)
	}
	return n, nil
}
