package identity

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// token is POST /api/v1/oauth2/token (identity.md §3.2): the
// authorization_code and refresh_token grants.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if s.faulty(w, r, EndpointToken) {
		return
	}
	t, err := s.grant(w, r)
	if err != nil {
		s.oauthError(w, r, err)
		return
	}
	t.SetHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	w.Write(t.JSON())
}

func (s *Server) grant(w http.ResponseWriter, r *http.Request) (Token, error) {
	form, err := tokenForm(w, r)
	if err != nil {
		return Token{}, err
	}
	grantType := form.Get("grant_type")
	var need string
	switch grantType {
	case "":
		return Token{}, MissingParameter("grant_type")
	case "authorization_code":
		need = "code"
	case "refresh_token":
		need = "refresh_token"
	default:
		return Token{}, UnsupportedGrantType(grantType)
	}
	if form.Get(need) == "" {
		return Token{}, MissingParameter(need)
	}
	id, secret, err := clientCredentials(r, form)
	if err != nil {
		return Token{}, err
	}
	access, refresh, err := s.newTokens()
	if err != nil {
		return Token{}, err
	}
	// Everything the grant reads and writes is one write of a shared
	// transaction: the store has one connection, and taking it once per
	// request rather than once per read is most of the endpoint's speed.
	ctx, now := detached(r), s.clock.Now()
	var set Settings
	err = s.inTenant(ctx, r, func(tx simulator.IdentityTx, tenant simulator.Tenant) (refused, err error) {
		if set, err = s.settings(ctx, tx, tenant.ID); err != nil {
			return nil, err
		}
		client, err := tx.ClientByID(ctx, tenant.ID, id)
		if notFound(err) {
			sameSecret(secret, secret) // as long as a wrong secret takes
			return invalidClient(set), nil
		} else if err != nil {
			return nil, err
		}
		if !sameSecret(client.ClientSecret, secret) {
			return invalidClient(set), nil
		}
		issue := issue{access: access, refresh: refresh, now: now, set: set}
		if grantType == "authorization_code" {
			return s.exchange(ctx, tx, client, form.Get("code"), form.Get("redirect_uri"), issue)
		}
		return s.refresh(ctx, tx, client, form.Get("refresh_token"), issue)
	})
	if err != nil {
		return Token{}, err
	}
	return Token{AccessToken: access, ExpiresIn: set.AccessLifetime, RefreshToken: refresh}, nil
}

// issue is what a grant issues: the new pair, when, and the tenant's
// settings (the lifetimes, the status of invalid_client).
type issue struct {
	access, refresh string
	now             time.Time
	set             Settings
}

// token is the record of the pair issued to c's user for c's app, from
// the code key.
func (i issue) token(c simulator.Client, userName, scope, code string) simulator.Token {
	return simulator.Token{Access: digest(i.access), Refresh: digest(i.refresh), ClientID: c.ClientID, TenantID: c.TenantID,
		AppID: c.AppID, UserName: userName, Scope: scope, Code: code, IssuedAt: i.now,
		AccessExpiresAt: i.now.Add(i.set.AccessLifetime), RefreshExpiresAt: i.now.Add(i.set.RefreshLifetime)}
}

// tokenForm reads the request's form body: any other content type has no
// fields, so the first required one is reported missing (identity.md §3.2).
func tokenForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return url.Values{}, nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		if errTooLarge(err) {
			return nil, &OAuthError{http.StatusRequestEntityTooLarge, "invalid_request", fmt.Sprintf("The request body is over %d bytes", maxForm)}
		}
		return nil, InvalidRequest("The body is not a valid form: " + err.Error())
	}
	// Each field of a token request may be given once (RFC 6749 §3.2).
	for _, name := range []string{"grant_type", "code", "redirect_uri", "refresh_token", "client_id", "client_secret", "scope"} {
		if len(r.PostForm[name]) > 1 {
			return nil, InvalidRequest("Parameter given more than once: " + name)
		}
	}
	return r.PostForm, nil
}

// clientCredentials reads the client's id and secret from the form or
// HTTP Basic; both may be given only if they agree.
func clientCredentials(r *http.Request, form url.Values) (id, secret string, err error) {
	id, secret = form.Get("client_id"), form.Get("client_secret")
	basicID, basicSecret, hasBasic, err := basicCredentials(r)
	if err != nil {
		return "", "", err
	}
	if hasBasic {
		if (id != "" && id != basicID) || (secret != "" && !sameSecret(secret, basicSecret)) {
			return "", "", InvalidRequest("The client credentials in the Authorization header and in the form differ")
		}
		id, secret = basicID, basicSecret
	}
	switch {
	case id == "":
		return "", "", MissingParameter("client_id")
	case secret == "":
		return "", "", MissingParameter("client_secret")
	}
	return id, secret, nil
}

// basicCredentials reads Authorization: Basic, whose id and secret are
// form-encoded before Base64 (RFC 6749 §2.3.1). Other schemes are not
// client authentication and are left alone.
func basicCredentials(r *http.Request) (id, secret string, ok bool, err error) {
	scheme, value, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", false, nil
	}
	malformed := InvalidRequest("The Authorization header's Basic credentials are not base64(client_id:client_secret)")
	raw, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
	if derr != nil {
		return "", "", false, malformed
	}
	id, secret, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", false, malformed
	}
	// A client that did not form-encode them is taken as it sent them.
	if v, err := url.QueryUnescape(id); err == nil {
		id = v
	}
	if v, err := url.QueryUnescape(secret); err == nil {
		secret = v
	}
	return id, secret, true, nil
}

// invalidClient is the answer to bad client credentials, in the status
// the tenant's settings give it.
func invalidClient(set Settings) *OAuthError {
	e := InvalidClient()
	e.Status = set.InvalidClientStatus
	return e
}

// exchange trades a code for the tokens access and refresh, in tx. The
// code must be live, the client's, and (when redirect_uri is sent) have
// been issued for that redirect_uri. It is spent before those checks, as
// the Spring-based IdPs behind the marketplace do: a code presented wrongly
// is gone. A code used before fails, and revokes the tokens its first use
// gave (identity.md §3.2). refused is the answer to a bad request; err a
// store failure.
func (s *Server) exchange(ctx context.Context, tx simulator.IdentityTx, client simulator.Client, code, redirect string, i issue) (refused, err error) {
	key := digest(code)
	c, err := tx.ConsumeCode(ctx, key, i.now)
	switch simulator.ErrorCode(err) {
	case "":
	case simulator.ECONFLICT: // replayed
		_, err := tx.RevokeTokens(ctx, simulator.TokenFilter{Code: key}, i.now)
		return InvalidCode(), err
	case simulator.ENOTFOUND, simulator.EINVALID: // unknown or expired
		return InvalidCode(), nil
	default:
		return nil, err
	}
	switch {
	case c.TenantID != client.TenantID:
		return invalidClient(i.set), nil // a pair of another tenant (identity.md §1)
	case c.ClientID != client.ClientID:
		return InvalidCode(), nil
	case redirect != "":
		if ok, err := s.redirectMatches(ctx, tx, c, redirect); err != nil || !ok {
			return InvalidCode(), err
		}
	}
	return nil, tx.AddToken(ctx, i.token(client, c.UserName, c.Scope, key))
}

// redirectMatches says whether redirect is what the code was issued for:
// the redirect_uri given to /authorize, or without one the callback the
// code went to, the app's first.
func (s *Server) redirectMatches(ctx context.Context, tx simulator.IdentityTx, c simulator.AuthCode, redirect string) (bool, error) {
	if c.RedirectURI != "" {
		return c.RedirectURI == redirect, nil
	}
	app, err := tx.App(ctx, c.AppID)
	if notFound(err) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return len(app.RedirectURIs) > 0 && app.RedirectURIs[0] == redirect, nil
}

// refresh trades a refresh token for i's new pair in tx, spending it
// (rotation, identity.md §3.2); the new refresh token lives its lifetime
// (30 days) from now. The new pair keeps the code it descends from, so
// that replaying that code revokes the whole line. A user removed, or no
// longer authorised for the app, cannot refresh.
func (s *Server) refresh(ctx context.Context, tx simulator.IdentityTx, client simulator.Client, refresh string, i issue) (refused, err error) {
	key := digest(refresh)
	t, err := tx.TokenByRefresh(ctx, key)
	switch {
	case notFound(err):
		return InvalidRefreshToken(), nil
	case err != nil:
		return nil, err
	case t.TenantID != client.TenantID:
		return invalidClient(i.set), nil
	case t.ClientID != client.ClientID:
		return InvalidRefreshToken(), nil
	}
	if _, ok, err := holder(ctx, tx, t); err != nil || !ok {
		return InvalidRefreshToken(), err
	}
	t, err = tx.ConsumeRefresh(ctx, key, i.now)
	switch simulator.ErrorCode(err) {
	case "":
	case simulator.ECONFLICT, simulator.EINVALID, simulator.ENOTFOUND: // spent, revoked or expired
		return InvalidRefreshToken(), nil
	default:
		return nil, err
	}
	return nil, tx.AddToken(ctx, i.token(client, t.UserName, t.Scope, t.Code))
}

// holder is the user a token was issued to, if the token may still act
// for it: the user exists, and was created before the token (one removed
// and added again is someone new), and is authorised for the token's app
// (a user disabled mid-session is one whose authorisation was revoked).
func holder(ctx context.Context, tx simulator.IdentityTx, t simulator.Token) (simulator.User, bool, error) {
	u, err := tx.User(ctx, t.TenantID, t.UserName)
	if notFound(err) {
		return u, false, nil
	} else if err != nil {
		return u, false, err
	}
	if u.CreatedAt.After(t.IssuedAt) {
		return u, false, nil
	}
	a, err := tx.Authorisation(ctx, t.TenantID, t.AppID, t.UserName)
	if notFound(err) {
		return u, false, nil
	}
	return u, err == nil && a.Enabled, err
}

// newTokens makes an access and a refresh token: kgsim-at- and kgsim-rt-
// and 32 [a-z0-9] (identity.md §3.2).
func (s *Server) newTokens() (access, refresh string, err error) {
	a, err := s.randomString(lowerAlnum, 32)
	if err != nil {
		return "", "", err
	}
	r, err := s.randomString(lowerAlnum, 32)
	if err != nil {
		return "", "", err
	}
	return "kgsim-at-" + a, "kgsim-rt-" + r, nil
}

// oauthError answers a token, userinfo or authorize request with err: an
// *OAuthError as it is, an unknown tenant as a 404 in the same shape, and
// anything else as a 500 whose detail goes to the log only.
func (s *Server) oauthError(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := errors.AsType[*OAuthError](err)
	if !ok {
		if notFound(err) {
			e = &OAuthError{http.StatusNotFound, "invalid_request", err.Error()}
		} else {
			e = &OAuthError{http.StatusInternalServerError, "server_error", s.internal(r, err)}
		}
	}
	e.SetHeaders(w.Header())
	w.Header().Set("Cache-Control", "no-store")
	if e.Status == http.StatusUnauthorized && e.Code == "invalid_client" {
		w.Header().Set("WWW-Authenticate", `Basic realm="kgsim"`)
	}
	w.WriteHeader(e.Status)
	w.Write(e.JSON())
}

// expired reports whether a credential ending at end is over at now.
func expired(end, now time.Time) bool { return !now.Before(end) }
