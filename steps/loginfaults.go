package steps

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/kgsim/kgsim/simulator/identity"
)

// The login checks that use the identity provider's faults (identity.md
// §5): what the application does when the token endpoint fails, and with
// a client secret rotated under it.
//
// A login that fails at the token endpoint fails cleanly (required) when
// the application answers the callback with a page of its own: an answer
// at all (no crash, no hang past the time limit), not a redirect loop (the
// usual fault: starting the login again, which the marketplace's session
// completes at once, for ever), and without the user logged in. Answering
// it with an error status (4xx or 5xx) is recommended: a 200 tells the
// browser, caches and monitoring that the login worked.

// tokenEndpointFails makes the enterprise's token endpoint answer status
// to every request until the scenario ends.
func (w *world) tokenEndpointFails(ctx context.Context, status int) error {
	j, err := w.enterprise(ctx)
	if err != nil {
		return err
	}
	if _, err := w.market.Identity.SetFault(j.tenant.ID, identity.FaultRequest{Endpoint: identity.EndpointToken, Status: &status}); err != nil {
		return fmt.Errorf("kgsim could not make the token endpoint fail: %w", err)
	}
	return nil
}

// logsInWhileTokenFails is a user logging in through the application's
// entry when the login cannot succeed: where the browser's way ends is
// for the checks to judge.
func (w *world) logsInWhileTokenFails(ctx context.Context) error {
	j, err := w.enterprise(ctx)
	if err != nil {
		return err
	}
	j, u, err := w.toLoginForm(ctx, withTenant(w.target.LoginURL, j.tenant.ID), "identity.md §3.1", "")
	if err != nil {
		return err
	}
	j.login.end = j.browser.logsIn(ctx, u.UserName, u.password)
	return nil
}

// failureSpec is where the spec has the token endpoint's errors and the
// faults the simulator makes.
const failureSpec = "identity.md §3.2, §5"

// answerFailure is the hint for an application that does not answer a
// failed login with a page of its own.
const answerFailure = "when the token endpoint answers an error or does not answer, end the callback with a page of the application that says " +
	"the login failed (status 502 or 503) and lets the user start again; do not send the browser back to the login by itself"

// failedCleanly checks the application tried the code and, when the token
// endpoint failed, answered the browser with a page of its own, within
// the time limit, without a redirect loop, the user not logged in.
func (w *world) failedCleanly(ctx context.Context) error {
	j, u, err := w.loginUser()
	if err != nil {
		return err
	}
	if err := w.triedCode(); err != nil {
		return err
	}
	b := j.browser
	var timeout net.Error
	switch end := j.login.end; {
	case errors.Is(end, errLoop):
		return w.loginFailure(failureSpec, answerFailure,
			"after the token endpoint failed, the application sent the browser round a redirect loop (%v): a login started again is completed at once by the marketplace's session, and fails again", end)
	case errors.As(end, &timeout) && timeout.Timeout():
		return w.loginFailure(failureSpec, "bound the token call with a timeout; "+answerFailure,
			"after the token endpoint failed, the application did not answer the callback within %s", w.target.Timeout)
	case end != nil:
		return w.loginFailure(failureSpec, answerFailure, "after the token endpoint failed, the application gave the browser no page: %v", end)
	case b.page.url.Host == b.idp:
		return w.loginFailure(failureSpec, answerFailure, "after the token endpoint failed, the application sent the browser back to the marketplace (%s)", b.page.url)
	case b.shows(u.Name) || b.shows(u.UserName):
		return w.loginFailure(failureSpec, "start the application's session only with the user userinfo names, read with the access token",
			"the application shows %s logged in although the token endpoint gave it no token", u.UserName)
	}
	return nil
}

// failedWithErrorStatus checks the application's page for the failed
// login has an error status.
func (w *world) failedWithErrorStatus(ctx context.Context) error {
	j, _, err := w.loginUser()
	if err != nil {
		return err
	}
	if err := w.triedCode(); err != nil {
		return err
	}
	const spec = "identity.md §3.2, §5; RFC 9110 §15"
	status := j.browser.page.status
	switch {
	case j.login.end != nil:
		return w.loginFailure(spec, answerFailure, "after the token endpoint failed, the application gave the browser no page to judge: %v", j.login.end)
	case status < http.StatusBadRequest:
		return w.loginFailure(spec, "answer the failed login with an error status, 502 Bad Gateway or 503 Service Unavailable: "+
			"a 200 tells the browser, caches and monitoring that the login worked",
			"after the token endpoint failed, the application answered the login with status %d", status)
	}
	return nil
}

// triedCode checks the application took the code to the token endpoint
// since the step began: otherwise its handling of the endpoint's failure
// was not put to the test.
func (w *world) triedCode() error {
	j, err := w.jointOf()
	if err != nil {
		return err
	}
	for _, v := range j.idp.visits(j.login.since, "/oauth2/token") {
		if v.grant == "authorization_code" {
			return nil
		}
	}
	return w.loginFailure("identity.md §1, §3.2",
		"once the browser is back with code and tenant, POST {domainName}/api/v1/oauth2/token with grant_type=authorization_code and the client pair",
		"the application did not take the code to the token endpoint, so how it handles the endpoint's failure could not be checked")
}

// logsInAgain is the user logging in again through the application's
// entry, in a new browser: the marketplace's session of the first does
// not skip the form.
func (w *world) logsInAgain(ctx context.Context) error {
	j, err := w.jointOf()
	if err != nil {
		return err
	}
	j.browser.close()
	j.browser = newBrowser(w.target, j.idp.base())
	return w.logsInThroughApp(ctx)
}

// rotatedSecretUsed checks kgsim issued tokens for a code since the login
// began: with the secret rotated before it, only the new secret gets them.
func (w *world) rotatedSecretUsed(ctx context.Context) error {
	return w.tokensIssued(ctx, func(before, now tokenCounts) bool { return now.codes > before.codes }, "kit-sync.md §4.2; identity.md §1, §3.2",
		"an applicationSync with flag 2 carries the binding's new clientSecret: decrypt it and use it from then on, in place of the old one",
		"the application did not exchange the code for tokens with the client secret applicationSync rotated")
}
