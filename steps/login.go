package steps

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// The login checks (identity.md): a browser goes through the
// application's entries and kgsim's login page; kgsim's own records (the
// tokens it issued, the requests its identity provider answered) and the
// pages the application showed tell what the application did.

// loginState is what the checks compare against: when the step under
// check began, what kgsim had issued before it, and the application's
// page once the user was in.
type loginState struct {
	since  time.Time // wall clock, as the identity provider notes visits
	before tokenCounts
	home   string // the page the application showed after the login
	// end is how the browser's way from the login form ended when a step
	// lets the checks judge it: nil at a page.
	end error
}

// tokenCounts counts a client's tokens for a user: the codes exchanged
// (kgsim keeps the code a token came from, a refresh's included), every
// token, and the refresh tokens spent.
type tokenCounts struct{ codes, tokens, refreshesUsed int }

// tokens counts the tokens kgsim issued to the application's client in the
// enterprise for the scenario's user.
func (w *world) tokens(ctx context.Context) (tokenCounts, error) {
	j, u, err := w.loginUser()
	if err != nil {
		return tokenCounts{}, err
	}
	c, err := w.store.Client(ctx, j.tenant.ID, j.app.ID)
	if err != nil {
		return tokenCounts{}, fmt.Errorf("the application is not bound to the enterprise: %w", err)
	}
	ts, err := w.store.Tokens(ctx, simulator.TokenFilter{TenantID: j.tenant.ID, ClientID: c.ClientID, UserName: u.UserName})
	n, codes := tokenCounts{tokens: len(ts)}, map[string]bool{}
	for _, t := range ts {
		codes[t.Code] = true
		if !t.RefreshUsedAt.IsZero() {
			n.refreshesUsed++
		}
	}
	delete(codes, "")
	n.codes = len(codes)
	return n, err
}

// loginUser is the user who logs in: the first the scenario added.
func (w *world) loginUser() (*joint, account, error) {
	j, err := w.jointOf()
	if err != nil {
		return nil, account{}, err
	}
	if len(j.accounts) == 0 {
		return j, account{}, fmt.Errorf("the enterprise has no user yet: add one with \"Given the enterprise has a user authorised for the application\"")
	}
	return j, j.accounts[0], nil
}

// begin starts a step under check: kgsim's records after now are its.
func (w *world) begin(ctx context.Context) (*joint, account, error) {
	j, u, err := w.loginUser()
	if err != nil {
		return j, u, err
	}
	j.login.since = time.Now()
	j.login.before, err = w.tokens(ctx)
	return j, u, err
}

// withTenant adds the tenant parameter that tells the application's entry
// which enterprise the user is from.
func withTenant(entry, tenantID string) string {
	u, err := url.Parse(entry)
	if err != nil {
		return entry
	}
	q := u.Query()
	q.Set("tenant", tenantID)
	u.RawQuery = q.Encode()
	return u.String()
}

// logsInAt is a user logging in: the browser opens an entry, which must
// lead to kgsim's login page, where the user logs in.
func (w *world) logsInAt(ctx context.Context, entry, spec, hint string) error {
	j, u, err := w.toLoginForm(ctx, entry, spec, hint)
	if err != nil {
		return err
	}
	b := j.browser
	if err := b.logsIn(ctx, u.UserName, u.password); err != nil {
		return w.loginFailure(spec, "", "the browser could not follow the login to the application: %v", err)
	}
	if b.onLoginPage() {
		return w.loginFailure(spec, "", "the marketplace's login page did not let the user in")
	}
	j.login.home = b.page.url.String()
	return nil
}

// toLoginForm starts a step under check with the browser opening an
// entry, which must lead to kgsim's login page.
func (w *world) toLoginForm(ctx context.Context, entry, spec, hint string) (*joint, account, error) {
	j, u, err := w.begin(ctx)
	if err != nil {
		return j, u, err
	}
	if err := j.browser.open(ctx, entry); err != nil || !j.browser.onLoginPage() {
		what := "did not lead the browser to the marketplace's login page"
		if err != nil {
			what += ": " + err.Error()
		}
		return j, u, w.loginFailure(spec, hint, "%s %s", entry, what)
	}
	return j, u, nil
}

// loginFailure is a failed login check: the browser's way and what kgsim's
// identity provider answered since the step began.
func (w *world) loginFailure(spec, hint, check string, args ...any) error {
	f := &failure{check: fmt.Sprintf(check, args...), spec: spec, hint: hint, keys: w.keys()}
	if j := w.joint; j != nil {
		f.extra = append(f.extra, j.browser.trail()...)
		for i, v := range j.idp.visits(j.login.since, "") {
			label := "          "
			if i == 0 {
				label = "kgsim:    "
			}
			f.extra = append(f.extra, label+v.String())
		}
	}
	return f
}

func (w *world) logsInThroughApp(ctx context.Context) error {
	j, err := w.enterprise(ctx)
	if err != nil {
		return err
	}
	return w.logsInAt(ctx, withTenant(w.target.LoginURL, j.tenant.ID), "identity.md §2.2, §3.1",
		"redirect the browser (302) to {domainName}/api/v1/oauth2/authorize?response_type=code&client_id={applicationSync's clientId}"+
			"&redirect_uri={the registered callback}&state={a random value kept in the user's session}, domainName being tenantSync's")
}

// logsInAtMarketplace is the documented sequence: the user starts at the
// unified login page, which sends the browser to the registered callback
// with code and tenant, and no state (identity.md §2.2).
func (w *world) logsInAtMarketplace(ctx context.Context) error {
	j, err := w.jointOf()
	if err != nil {
		return err
	}
	entry := j.idp.base() + "/unified-login/?ind=UNOP&appId=" + url.QueryEscape(j.app.ID)
	return w.logsInAt(ctx, entry, "identity.md §2", "")
}

func (w *world) logsInWithCAS(ctx context.Context) error {
	j, err := w.enterprise(ctx)
	if err != nil {
		return err
	}
	return w.logsInAt(ctx, withTenant(w.target.CASLoginURL, j.tenant.ID), "identity.md §4.1",
		"redirect the browser (302) to {domainName}/api/v1/cas/login?service={the registered service, URL-encoded}, domainName being tenantSync's")
}

// hasLoggedIn is a precondition: a login through the application's entry
// with every check of it passing.
func (w *world) hasLoggedIn(ctx context.Context) error {
	for _, step := range []func(context.Context) error{w.logsInThroughApp, w.codeExchanged, w.userinfoRead, w.showsUser} {
		if err := step(ctx); err != nil {
			return fmt.Errorf("precondition failed, a logged-in user: %w", err)
		}
	}
	return nil
}

// codeExchanged checks kgsim issued tokens for a code to the application's
// client since the login began.
func (w *world) codeExchanged(ctx context.Context) error {
	return w.tokensIssued(ctx, func(before, now tokenCounts) bool { return now.codes > before.codes }, "identity.md §1, §3.2",
		"once the browser is back with code and tenant, POST {domainName}/api/v1/oauth2/token with grant_type=authorization_code, "+
			"code, redirect_uri, client_id and client_secret: the pair applicationSync sent, the secret decrypted with your private key",
		"the application did not exchange the code for tokens at kgsim's token endpoint")
}

// tokensIssued checks the tokens kgsim issued the user since the step
// began changed as issued says; else the failure, whose hint is the
// token endpoint's last answer's when there was one.
func (w *world) tokensIssued(ctx context.Context, issued func(before, now tokenCounts) bool, spec, hint, check string) error {
	j, _, err := w.loginUser()
	if err != nil {
		return err
	}
	now, err := w.tokens(ctx)
	if err != nil || issued(j.login.before, now) {
		return err
	}
	if ts := j.idp.visits(j.login.since, "/oauth2/token"); len(ts) > 0 {
		hint = tokenHint(ts[len(ts)-1], hint)
	}
	return w.loginFailure(spec, hint, "%s", check)
}

// tokenHint is the likely fix for the token endpoint's last answer.
func tokenHint(v visit, otherwise string) string {
	body := string(v.body)
	switch {
	case strings.Contains(body, "invalid_client"):
		return "authenticate with the clientId of applicationSync for the callback's tenant and its clientSecret decrypted (the plaintext, not the Base64 ciphertext), " +
			"the latest one: an applicationSync with flag 2 replaces it, and the old one is refused at once"
	case strings.Contains(body, "invalid_grant"):
		return "exchange each code once, within 300 s, for the tenant it came with, sending the redirect_uri given to authorize (or none); a refresh token is spent by its use: keep the new one"
	case strings.Contains(body, "invalid_request"), strings.Contains(body, "unsupported_grant_type"):
		return "send an application/x-www-form-urlencoded body with grant_type and the fields the spec lists, each once"
	}
	return otherwise
}

// userinfoRead checks the application read the user at userinfo since the
// step began.
func (w *world) userinfoRead(context.Context) error {
	j, err := w.jointOf()
	if err != nil {
		return err
	}
	for _, v := range j.idp.visits(j.login.since, "/oauth2/userinfo") {
		if v.status == 200 {
			return nil
		}
	}
	return w.loginFailure("identity.md §3.3", "GET {domainName}/api/v1/oauth2/userinfo with the header Authorization: Bearer {access_token}",
		"the application did not read the user's details at kgsim's userinfo endpoint")
}

// showsUser checks the browser shows the user logged in: the user's name
// or account on the page the application ended at.
func (w *world) showsUser(context.Context) error {
	j, u, err := w.loginUser()
	if err != nil {
		return err
	}
	if j.browser.shows(u.Name) || j.browser.shows(u.UserName) {
		return nil
	}
	return w.loginFailure("identity.md §2.2, §3.3", "after the login, answer the browser with a page (HTTP 200, after any redirects) that names the user: userinfo's name or userName",
		"the application does not show %s (%s) logged in", u.UserName, u.Name)
}

// userGone checks the application's page no longer shows the user.
func (w *world) userGone(ctx context.Context) error {
	j, u, err := w.loginUser()
	if err != nil {
		return err
	}
	if j.login.home == "" {
		return fmt.Errorf("no page of the application showed the user yet")
	}
	if err := w.goesTo(ctx, j.login.home, "identity.md §3.4", "open the application's page again"); err != nil {
		return err
	}
	if !j.browser.shows(u.Name) && !j.browser.shows(u.UserName) {
		return nil
	}
	return w.loginFailure("identity.md §3.4", "on logout, end the application's own session before sending the browser to kgsim's logout",
		"after logging out, the application's page %s still shows %s logged in", j.login.home, u.UserName)
}

// goesTo opens a page as a user following a link does. The way may lead
// to a site the browser does not follow (errStray): it stops there, and
// the checks read where it ended.
func (w *world) goesTo(ctx context.Context, target, spec, what string) error {
	if err := w.joint.browser.open(ctx, target); err != nil && !errors.Is(err, errStray) {
		return w.loginFailure(spec, "", "the browser could not %s: %v", what, err)
	}
	return nil
}

// renewsToken opens the application's entry that renews the access token.
func (w *world) renewsToken(ctx context.Context) error {
	if _, _, err := w.begin(ctx); err != nil {
		return err
	}
	return w.goesTo(ctx, w.target.RefreshURL, "identity.md §3.2", "open the application's refresh entry")
}

// refreshUsed checks kgsim traded a refresh token of the user's for a new
// pair since the step began.
func (w *world) refreshUsed(ctx context.Context) error {
	return w.tokensIssued(ctx, func(before, now tokenCounts) bool {
		return now.refreshesUsed > before.refreshesUsed && now.tokens > before.tokens
	}, "identity.md §3.2",
		"POST {domainName}/api/v1/oauth2/token with grant_type=refresh_token, refresh_token, client_id and client_secret, and keep the new refresh token it answers",
		"the application did not renew the access token with the refresh token at kgsim's token endpoint")
}

// logsOut opens the application's logout entry.
func (w *world) logsOut(ctx context.Context) error {
	if _, _, err := w.begin(ctx); err != nil {
		return err
	}
	return w.goesTo(ctx, w.target.LogoutURL, "identity.md §3.4", "follow the application's logout")
}

// sessionEnded checks the logout took the browser through kgsim's logout.
func (w *world) sessionEnded(context.Context) error {
	j, err := w.jointOf()
	if err != nil {
		return err
	}
	for _, h := range j.browser.visited(w.market.Kit.DomainName(j.tenant) + "/api/v1/logout") {
		if h.status == 302 {
			return nil
		}
	}
	return w.loginFailure("identity.md §3.4",
		"after ending its own session, redirect the browser (302) to {domainName}/api/v1/logout?redirect_url={a page of the application, URL-encoded}",
		"the application's logout did not send the browser to the marketplace's logout, so the user's marketplace session goes on")
}

// loginFormAgain checks the application's login entry now leads to kgsim's
// form: the marketplace's session ended, nothing logs the user in.
func (w *world) loginFormAgain(ctx context.Context) error {
	j, _, err := w.begin(ctx)
	if err != nil {
		return err
	}
	if err := j.browser.open(ctx, withTenant(w.target.LoginURL, j.tenant.ID)); err == nil && j.browser.onLoginPage() {
		return nil
	}
	return w.loginFailure("identity.md §3.4", "log out through {domainName}/api/v1/logout, which ends the marketplace's session",
		"after logging out, the application's login entry did not show the marketplace's login page")
}

// ticketValidated checks the application validated the ticket kgsim sent
// the browser back with, once and successfully.
func (w *world) ticketValidated(context.Context) error {
	j, err := w.jointOf()
	if err != nil {
		return err
	}
	var ticket string
	for _, h := range j.browser.visited(strings.SplitN(w.target.CASService, "?", 2)[0]) {
		if u, err := url.Parse(h.url); err == nil && u.Query().Get("ticket") != "" {
			ticket = u.Query().Get("ticket")
		}
	}
	if ticket == "" {
		return w.loginFailure("identity.md §4.1", "", "kgsim did not send the browser back to the service with a ticket")
	}
	var validations []visit
	for _, v := range j.idp.visits(j.login.since, "alidate") {
		if v.query.Get("ticket") == ticket {
			validations = append(validations, v)
		}
	}
	validate := "GET {domainName}/api/v1/cas/p3/serviceValidate?service={the service given to login}&ticket={ticket}, once"
	switch {
	case len(validations) == 0:
		return w.loginFailure("identity.md §4.2", validate, "the application did not validate the ticket at kgsim")
	case len(validations) > 1:
		return w.loginFailure("identity.md §4.2", "a ticket is single use: validate it once and keep the user in the application's session",
			"the application validated the ticket %d times", len(validations))
	}
	v := validations[0]
	if v.status == 200 && (strings.Contains(string(v.body), "authenticationSuccess") || strings.HasPrefix(string(v.body), "yes\n")) {
		return nil
	}
	hint := validate
	if strings.Contains(string(v.body), "INVALID_SERVICE") {
		hint = "send the service exactly as given to /api/v1/cas/login (the registered one), URL-encoded"
	}
	return w.loginFailure("identity.md §4.2", hint, "the ticket's validation failed")
}

// forgesCallback is a login CSRF attempt (RFC 6749 §10.12): another user
// of the enterprise asks kgsim for a code for the application with a
// state of their own and keeps the callback address instead of following
// it.
func (w *world) forgesCallback(ctx context.Context) error {
	if err := w.addsUser(ctx, true); err != nil {
		return err
	}
	j, err := w.jointOf()
	if err != nil {
		return err
	}
	other := j.accounts[len(j.accounts)-1]
	c, err := w.store.Client(ctx, j.tenant.ID, j.app.ID)
	if err != nil {
		return fmt.Errorf("the application is not bound to the enterprise: %w", err)
	}
	// The other user's browser goes to kgsim only: it stops at the
	// callback.
	b := newBrowser(Target{Timeout: w.target.Timeout}, j.idp.base())
	defer b.close()
	authorize := w.market.Kit.DomainName(j.tenant) + "/api/v1/oauth2/authorize?" + url.Values{"response_type": {"code"},
		"client_id": {c.ClientID}, "redirect_uri": {w.target.RedirectURI}, "state": {"kgsim-forged-" + newID()[:12]}}.Encode()
	if err := b.open(ctx, authorize); err != nil || !b.onLoginPage() {
		return fmt.Errorf("kgsim's authorize did not show its login page to the other user: %v", err)
	}
	if err := b.logsIn(ctx, other.UserName, other.password); err == nil || len(b.way) == 0 {
		return fmt.Errorf("kgsim did not send the other user's browser to the callback: %v", err)
	}
	j.forged = b.way[len(b.way)-1].url
	return nil
}

// followsForged sends the user's browser to the other user's callback, as
// a link on a page of the other user's would.
func (w *world) followsForged(ctx context.Context) error {
	j, _, err := w.begin(ctx)
	if err != nil {
		return err
	}
	if j.forged == "" {
		return fmt.Errorf("no callback was obtained: start with \"When another user of the enterprise obtains a login callback with a state of their own\"")
	}
	return w.goesTo(ctx, j.forged, "identity.md §3.1", "open the callback")
}

// notLoggedInAsOther checks the application neither exchanged the other
// user's code nor shows the other user logged in.
func (w *world) notLoggedInAsOther(context.Context) error {
	j, err := w.jointOf()
	if err != nil {
		return err
	}
	other := j.accounts[len(j.accounts)-1]
	exchanged := false
	for _, v := range j.idp.visits(j.login.since, "/oauth2/token") {
		exchanged = exchanged || v.status == 200
	}
	if !exchanged && !j.browser.shows(other.Name) && !j.browser.shows(other.UserName) {
		return nil
	}
	return w.loginFailure("identity.md §3.1; RFC 6749 §10.12",
		"keep the state sent to authorize in the browser's session (a cookie) and, before exchanging the code, check the callback's state is that one",
		"the application completed a login it did not start: a callback whose state it never issued logged the browser in as %s", other.UserName)
}
