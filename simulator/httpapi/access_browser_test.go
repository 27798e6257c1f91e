package httpapi

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kgsim/kgsim/simulator/browsertest"
	"github.com/kgsim/kgsim/simulator/schedule"
)

// A real browser cannot drive the admin API: a page of another site that
// posts a text/plain form to it (a body the admin API would read as a
// purchase), or sends the purchase with a no-cors fetch, and a page under
// a name rebound to kgsim's address (evil names resolve to 127.0.0.1, as
// DNS rebinding makes them) calling it from its own origin, are all
// refused and buy nothing. The same purchase from kgsim's own origin buys.
func TestBrowserCannotDriveTheAdminAPI(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	api, err := url.Parse(w.api.URL)
	if err != nil {
		t.Fatal(err)
	}
	// The form's field name and value join with "=" into a purchase: the
	// later "amount" wins.
	const field, fieldValue = `{"productId":"p1","customerId":"c1","periodNumber":1,"amount":"x`, `","amount":"120.5"}`
	body := field + "=" + fieldValue
	attacker := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Path == "/form" {
			fmt.Fprintf(rw, `<!DOCTYPE html><form method="POST" action="%s" enctype="text/plain"><input type="hidden" name="%s" value="%s"></form>`+
				`<script>document.forms[0].submit()</script>`,
				html.EscapeString(w.api.URL+"/admin/v1/orders"), html.EscapeString(field), html.EscapeString(fieldValue))
			return
		}
		fmt.Fprint(rw, `<!DOCTYPE html><title>a page</title>`)
	}))
	t.Cleanup(attacker.Close)
	_, attackerPort, _ := strings.Cut(strings.TrimPrefix(attacker.URL, "http://"), ":")
	evil := "http://evil.test:" + attackerPort
	rebound := "http://rebound.test:" + api.Port()

	ctx := browsertest.Tab(t, 90*time.Second, chromedp.Flag("host-resolver-rules", "MAP evil.test 127.0.0.1, MAP rebound.test 127.0.0.1"))
	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	eval := func(step, js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		return v
	}
	refusals := func() float64 {
		n, _ := value(w.scrape(), "kgsim_http_requests_total", map[string]string{"route": "/admin/v1/orders", "method": "POST", "status": "403"})
		return n
	}
	post := fmt.Sprintf(`{method: "POST", headers: {"Content-Type": "application/json"}, body: %q}`, body)

	run("another site's form posts itself to the admin API",
		chromedp.Navigate(evil+"/form"),
		chromedp.Poll[chromedp.Void](`location.pathname === "/admin/v1/orders" && document.readyState === "complete"`),
	)
	if shown := eval("reading the answer", `Promise.resolve(document.body.innerText)`); !strings.Contains(shown, `"forbidden"`) {
		t.Errorf("the form's post was answered %s, want a 403 forbidden", shown)
	}
	if n := refusals(); n != 1 {
		t.Errorf("%v refused posts after the form, want 1", n)
	}

	run("another site's page", chromedp.Navigate(evil+"/"))
	eval("a no-cors fetch with a text/plain body", fmt.Sprintf(
		`fetch(%q, {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body: %q}).then(() => "sent")`,
		w.api.URL+"/admin/v1/orders", body))
	if n := refusals(); n != 2 {
		t.Errorf("%v refused posts after the fetch, want 2", n)
	}

	run("a page under a name rebound to kgsim", chromedp.Navigate(rebound+"/healthz"))
	if got := eval("its same-origin post", `fetch("/admin/v1/orders", `+post+`).then(r => r.status + " " + r.headers.get("Content-Type"))`); got != "403 application/json; charset=utf-8" {
		t.Errorf("the rebound page's post: %s, want 403", got)
	}
	if got := eval("its same-origin read", `fetch("/admin/v1/orders").then(r => r.text())`); strings.Contains(got, `"orders"`) || !strings.Contains(got, "rebound.test") {
		t.Errorf("the rebound page read %s, want a refusal naming its Host", got)
	}
	if n := w.orders(); n != 0 {
		t.Fatalf("%d orders after the browser's attempts, want 0", n)
	}

	// The control: the same purchase from kgsim's own origin buys, so the
	// refusals above came from the checks, not from a broken page.
	run("kgsim's own page", chromedp.Navigate(w.api.URL+"/healthz"))
	if got := eval("its post", `fetch("/admin/v1/orders", `+post+`).then(r => String(r.status))`); got != "201" {
		t.Errorf("kgsim's own page's post: %s, want 201", got)
	}
	if n := w.orders(); n != 1 {
		t.Errorf("%d orders, want 1", n)
	}
}
