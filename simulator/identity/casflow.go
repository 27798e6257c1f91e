package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// casLogin is GET /api/v1/cas/login?service= (identity.md §4.1).
//
// service must equal a CAS service registered by an app bound to the
// tenant: the issue asks for a registered one, stricter than the spec's
// prefix match, so that tickets go only where the merchant said.
func (s *Server) casLogin(w http.ResponseWriter, r *http.Request) {
	tenant, err := s.tenant(r)
	if err != nil {
		s.tenantProblem(w, r, err)
		return
	}
	q := r.URL.Query()
	service := q.Get("service")
	if service == "" {
		s.problem(w, r, http.StatusBadRequest, "缺少 service 参数。\nCAS login needs service: the URL to come back to with a ticket.")
		return
	}
	app, found, err := s.casApp(r.Context(), tenant, service)
	if err != nil {
		s.problem(w, r, http.StatusInternalServerError, s.internal(r, err))
		return
	}
	if !found {
		s.problem(w, r, http.StatusBadRequest,
			"service 未在本企业的应用中登记。\nThe service is not a CAS service registered by an application of this enterprise; it must equal one exactly.")
		return
	}
	f := flow{Kind: flowCAS, TenantID: tenant.ID, AppID: app.ID, Service: service, Renew: q.Get("renew") == "true"}
	if _, live := s.session(r); !live && !f.Renew && q.Get("gateway") == "true" {
		// Apereo §2.1.1: gateway never shows the form.
		http.Redirect(w, r, service, http.StatusFound)
		return
	}
	s.resume(w, r, f, app)
}

// casApp is the app bound to the tenant that registered service.
func (s *Server) casApp(ctx context.Context, t simulator.Tenant, service string) (simulator.App, bool, error) {
	clients, err := s.store.Clients(ctx, simulator.ClientFilter{TenantID: t.ID})
	if err != nil {
		return simulator.App{}, false, err
	}
	for _, c := range clients {
		app, err := s.store.App(ctx, c.AppID)
		if notFound(err) {
			continue
		} else if err != nil {
			return app, false, err
		}
		if registered(app.CASServices, service) {
			return app, true, nil
		}
	}
	return simulator.App{}, false, nil
}

// issueTicket stores a new service ticket ST-{n}-{28 [A-Za-z0-9]} for u
// and f's service; the store keeps only its digest.
func (s *Server) issueTicket(ctx context.Context, f flow, u simulator.User, authAt time.Time, fresh bool) (string, error) {
	random, err := s.randomString(alnum, 28)
	if err != nil {
		return "", err
	}
	ticket := fmt.Sprintf("ST-%d-%s", s.tickets.Add(1), random)
	set, err := s.settings(ctx, s.store, u.TenantID)
	if err != nil {
		return "", err
	}
	now := s.clock.Now()
	err = s.store.AddTicket(ctx, simulator.Ticket{Ticket: digest(ticket), Service: f.Service, TenantID: u.TenantID, AppID: f.AppID,
		UserName: u.UserName, FromNewLogin: fresh, AuthenticatedAt: authAt, CreatedAt: now, ExpiresAt: now.Add(set.TicketLifetime)})
	return ticket, err
}

// casServiceValidate is GET /api/v1/cas/serviceValidate and
// /api/v1/cas/p3/serviceValidate (identity.md §4.2): the same document
// from both. Every answer is a 200, success or failure, as in CAS.
func (s *Server) casServiceValidate(w http.ResponseWriter, r *http.Request) {
	if s.faulty(w, r, EndpointCASValidate) {
		return
	}
	var doc interface {
		XML() []byte
		JSON() []byte
	}
	status := http.StatusOK
	tenantID, success, failure, err := s.validate(r)
	format, ferr := s.casFormat(r.Context(), r, tenantID)
	switch asked := strings.ToUpper(r.URL.Query().Get("format")); {
	case err != nil || ferr != nil:
		status, doc = http.StatusInternalServerError, CASFailure{Code: CASInternalError, Description: s.internal(r, errors.Join(err, ferr))}
	case asked != "" && asked != format:
		doc = CASFailure{Code: CASInvalidRequest, Description: "format must be XML or JSON"}
	case failure != nil:
		doc = *failure
	default:
		doc = success
	}
	body, contentType := doc.JSON(), ContentTypeJSON
	if format == "XML" {
		body, contentType = doc.XML(), ContentTypeXML
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}

// casValidate1 is GET /api/v1/cas/validate, CAS 1.0: "yes\n{user}\n" or
// "no\n\n" in plain text (Apereo §2.4).
func (s *Server) casValidate1(w http.ResponseWriter, r *http.Request) {
	if s.faulty(w, r, EndpointCASValidate) {
		return
	}
	_, success, failure, err := s.validate(r)
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	switch {
	case err != nil:
		http.Error(w, s.internal(r, err), http.StatusInternalServerError)
	case failure != nil:
		w.Write([]byte("no\n\n"))
	default:
		w.Write([]byte("yes\n" + success.User + "\n"))
	}
}

// validate spends the request's ticket and checks it: live, of this
// tenant, for the request's service, and from a fresh login when renew
// asks for one. The ticket is spent by the first validation, whatever its
// result (Apereo §3.1.1). tenantID is the tenant's whose domain r is
// addressed to, empty if there is none.
func (s *Server) validate(r *http.Request) (tenantID string, _ CASSuccess, _ *CASFailure, _ error) {
	q := r.URL.Query()
	service, ticket := q.Get("service"), q.Get("ticket")
	tenant, err := s.tenant(r)
	fail := func(code CASCode, format string, args ...any) (string, CASSuccess, *CASFailure, error) {
		return tenant.ID, CASSuccess{}, &CASFailure{Code: code, Description: fmt.Sprintf(format, args...)}, nil
	}
	if notFound(err) {
		return fail(CASInvalidRequest, "%s", err.Error())
	} else if err != nil {
		return "", CASSuccess{}, nil, err
	}
	if len(ticket) > maxCredential {
		return fail(CASInvalidTicket, "Ticket %s... not recognized", ticket[:32])
	}
	var t simulator.Ticket
	if ticket != "" {
		t, err = s.store.ConsumeTicket(detached(r), digest(ticket), s.clock.Now())
	}
	switch {
	case service == "" || ticket == "":
		return fail(CASInvalidRequest, "Not all of the required request parameters were present: service and ticket are required")
	case simulator.ErrorCode(err) == simulator.EINTERNAL:
		return tenant.ID, CASSuccess{}, nil, err
	case err != nil || t.TenantID != tenant.ID:
		return fail(CASInvalidTicket, "Ticket %s not recognized", ticket)
	case q.Get("renew") == "true" && !t.FromNewLogin:
		return fail(CASInvalidTicket, "Ticket %s was not issued from a new login, as renew=true asks", ticket)
	case service != t.Service:
		return fail(CASInvalidService, "Ticket %s does not match supplied service. The original service was '%s' and the supplied service was '%s'.",
			ticket, t.Service, service)
	}
	u, err := s.store.User(r.Context(), t.TenantID, t.UserName)
	if notFound(err) {
		return fail(CASInvalidTicket, "Ticket %s not recognized", ticket)
	} else if err != nil {
		return tenant.ID, CASSuccess{}, nil, err
	}
	return tenant.ID, CASSuccess{User: u.UserName, AuthenticationDate: t.AuthenticatedAt, IsFromNewLogin: t.FromNewLogin, Role: u.Role,
		OrganizationCode: u.OrgCode, Name: u.Name, UserName: u.UserName, Tenant: u.TenantID}, nil, nil
}

// casFormat is the format a validation asks for, or else the tenant's
// default (the marketplace's when tenantID is empty or its settings
// cannot be read).
func (s *Server) casFormat(ctx context.Context, r *http.Request, tenantID string) (string, error) {
	if f, err := ParseCASFormat(r.URL.Query().Get("format")); err == nil {
		return f, nil
	}
	if tenantID == "" {
		return s.defaults.CASFormat, nil
	}
	set, err := s.settings(ctx, s.store, tenantID)
	return set.CASFormat, err
}
