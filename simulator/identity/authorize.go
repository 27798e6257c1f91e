package identity

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/kgsim/kgsim/simulator"
)

// authorize is GET /api/v1/oauth2/authorize (identity.md §3.1): the
// OneAccess entry point of the code flow. Problems with the client or
// redirect_uri are answered here, since the redirect target is not to be
// trusted yet; problems with the rest of the request go back to the app.
//
// redirect_uri must equal a registered callback exactly: the issue asks
// for that, stricter than the spec's "or its domain", so that no kgsim
// URL sends a code to a page the merchant did not register.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	tenant, err := s.tenant(r)
	if err != nil {
		s.oauthError(w, r, err)
		return
	}
	q := r.URL.Query()
	clientID, redirect, state := q.Get("client_id"), q.Get("redirect_uri"), q.Get("state")
	if clientID == "" {
		s.oauthError(w, r, MissingParameter("client_id"))
		return
	}
	client, err := s.store.ClientByID(r.Context(), tenant.ID, clientID)
	if notFound(err) {
		s.oauthError(w, r, InvalidRequest(fmt.Sprintf("Unknown client_id %q: no application has it in tenant %s", clientID, tenant.Code)))
		return
	}
	var app simulator.App
	if err == nil {
		app, err = s.store.App(r.Context(), client.AppID)
	}
	if err != nil {
		s.oauthError(w, r, err)
		return
	}
	switch {
	case redirect != "" && !registered(app.RedirectURIs, redirect):
		s.oauthError(w, r, InvalidRequest("redirect_uri is not registered for this client: it must equal one of the application's callbacks exactly"))
		return
	case redirect == "" && len(app.RedirectURIs) == 0:
		s.oauthError(w, r, InvalidRequest("the application has no registered callback and no redirect_uri was given"))
		return
	case len(state) > maxParam:
		s.oauthError(w, r, InvalidRequest(fmt.Sprintf("state is over %d bytes", maxParam)))
		return
	}
	back := redirect
	if back == "" {
		back = app.RedirectURIs[0]
	}
	refuse := func(code, description string) {
		pairs := []string{"error", code, "error_description", description}
		if state != "" {
			pairs = append(pairs, "state", state)
		}
		http.Redirect(w, r, withQuery(back, pairs...), http.StatusFound)
	}
	switch rt := q.Get("response_type"); {
	case rt == "":
		refuse("invalid_request", "Missing parameter: response_type")
		return
	case rt != "code":
		refuse("unsupported_response_type", "Unsupported response type: "+rt)
		return
	}
	for scope := range strings.FieldsSeq(q.Get("scope")) {
		if scope != scopeUserInfo {
			refuse("invalid_scope", "Unknown scope: "+scope+"; the only scope is "+scopeUserInfo)
			return
		}
	}
	s.resume(w, r, flow{Kind: flowOAuth, TenantID: tenant.ID, AppID: app.ID, ClientID: client.ClientID, RedirectURI: redirect, State: state}, app)
}

// issueCode stores a new authorization code for u at client and returns
// it; the store keeps only its digest.
func (s *Server) issueCode(ctx context.Context, client simulator.Client, u simulator.User, f flow) (string, error) {
	code, err := s.randomString(alnum, 32)
	if err != nil {
		return "", err
	}
	set, err := s.settings(ctx, s.store, client.TenantID)
	if err != nil {
		return "", err
	}
	now := s.clock.Now()
	err = s.store.AddCode(ctx, simulator.AuthCode{Code: digest(code), ClientID: client.ClientID, TenantID: client.TenantID, AppID: client.AppID,
		UserName: u.UserName, RedirectURI: f.RedirectURI, State: f.State, Scope: scopeUserInfo, CreatedAt: now, ExpiresAt: now.Add(set.CodeLifetime)})
	return code, err
}
