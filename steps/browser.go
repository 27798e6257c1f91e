package steps

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
)

// browser is an enterprise user's browser: a plain HTTP client with a
// cookie jar, since kgsim's login page works without JavaScript. It
// follows redirects itself, only between kgsim's identity provider and the
// hosts of the application's entries (certification calls no URL it was
// not given), and remembers the way of its navigation for failures.
type browser struct {
	client  *http.Client
	tr      *http.Transport
	idp     string          // the identity provider's host
	allowed map[string]bool // hosts it may be sent to
	way     []hop           // the navigation so far, since the last open
	page    page            // where it ended
}

// hop is one request of a navigation and its answer's status.
type hop struct {
	method, url string
	status      int
}

// page is what the browser shows.
type page struct {
	url    *url.URL
	status int
	body   []byte
}

// Bounds of a navigation: redirects followed, and page bytes kept.
const (
	maxHops = 20
	maxPage = 1 << 20
)

func newBrowser(t Target, idpBase string) *browser {
	jar, _ := cookiejar.New(nil) // no options, no error
	tr := http.DefaultTransport.(*http.Transport).Clone()
	b := &browser{tr: tr, allowed: map[string]bool{},
		client: &http.Client{Jar: jar, Transport: tr, Timeout: t.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	u, _ := url.Parse(idpBase) // ours
	b.idp = u.Host
	for _, s := range []string{idpBase, t.LoginURL, t.RedirectURI, t.RefreshURL, t.LogoutURL, t.CASLoginURL, t.CASService} {
		if u, err := url.Parse(s); err == nil && u.Host != "" {
			b.allowed[u.Host] = true
		}
	}
	return b
}

func (b *browser) close() {
	if b != nil {
		b.tr.CloseIdleConnections()
	}
}

// errStray is a redirect to a site that is neither kgsim nor the
// application.
var errStray = errors.New("certification follows no other site")

// errLoop is a navigation that redirected more than maxHops times.
var errLoop = fmt.Errorf("more than %d redirects", maxHops)

// open navigates to rawURL, as typing it in: GET, then every redirect.
func (b *browser) open(ctx context.Context, rawURL string) error {
	b.way, b.page = nil, page{}
	return b.navigate(ctx, http.MethodGet, rawURL, nil)
}

// navigate sends a request and follows the redirects of its answers to
// the page they end at.
func (b *browser) navigate(ctx context.Context, method, target string, form url.Values) error {
	for range maxHops {
		u, err := url.Parse(target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return fmt.Errorf("the browser was sent to %q, which is not an http(s) URL", target)
		}
		if !b.allowed[u.Host] {
			b.way = append(b.way, hop{method, target, 0})
			return fmt.Errorf("the browser was sent to %s, which is neither kgsim nor one of the application's entries: %w", target, errStray)
		}
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, target, body)
		if err != nil {
			return err
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := b.client.Do(req)
		if err != nil {
			b.way = append(b.way, hop{method, target, 0})
			return fmt.Errorf("%s %s: %w", method, target, err)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("%s %s: reading the page: %w", method, target, err)
		}
		b.way = append(b.way, hop{method, target, resp.StatusCode})
		if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
			next, err := u.Parse(loc)
			if err != nil {
				return fmt.Errorf("%s %s: a redirect to %q, which is no URL", method, target, loc)
			}
			target, method, form = next.String(), http.MethodGet, nil
			continue
		}
		b.page = page{u, resp.StatusCode, data}
		return nil
	}
	return errLoop
}

// kgsim's login form: its tag and hidden fields (simulator/web).
var (
	loginForm   = regexp.MustCompile(`<form [^>]*action="([^"]*)"[^>]*id="login-form"`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// onLoginPage reports whether the browser shows kgsim's login form.
func (b *browser) onLoginPage() bool {
	return b.page.url != nil && b.page.url.Host == b.idp && b.page.status == http.StatusOK && loginForm.Match(b.page.body)
}

// logsIn fills in kgsim's login form shown and sends it, as a user would.
func (b *browser) logsIn(ctx context.Context, userName, password string) error {
	m := loginForm.FindSubmatch(b.page.body)
	if !b.onLoginPage() || m == nil {
		return errors.New("the browser does not show the marketplace's login form")
	}
	action, err := b.page.url.Parse(html.UnescapeString(string(m[1])))
	if err != nil {
		return err
	}
	form := url.Values{}
	for _, in := range hiddenInput.FindAllSubmatch(b.page.body, -1) {
		form.Set(string(in[1]), html.UnescapeString(string(in[2])))
	}
	form.Set("username", userName)
	form.Set("password", password)
	return b.navigate(ctx, http.MethodPost, action.String(), form)
}

// shows reports whether the page shows text, as written or HTML-escaped.
func (b *browser) shows(text string) bool {
	return b.page.status == http.StatusOK && text != "" &&
		(strings.Contains(string(b.page.body), text) || strings.Contains(string(b.page.body), html.EscapeString(text)))
}

// trail is the navigation for a failure: each request with its answer's
// status, and the page it ended at.
func (b *browser) trail() []string {
	var out []string
	for i, h := range b.way {
		label := "          "
		if i == 0 {
			label = "browser:  "
		}
		status := "no answer"
		if h.status != 0 {
			status = fmt.Sprint(h.status)
		}
		out = append(out, fmt.Sprintf("%s%s %s → %s", label, h.method, h.url, status))
	}
	if b.page.url != nil {
		out = append(out, fmt.Sprintf("page:     %d at %s: %s", b.page.status, b.page.url, shown(b.page.body[:min(len(b.page.body), 600)])))
	}
	return out
}

// visited returns the hops of the navigation to URLs under prefix.
func (b *browser) visited(prefix string) []hop {
	var out []hop
	for _, h := range b.way {
		if strings.HasPrefix(h.url, prefix) {
			out = append(out, h)
		}
	}
	return out
}
