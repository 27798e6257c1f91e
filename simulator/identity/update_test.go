package identity

import (
	"net/http"
	"sync"
	"testing"

	"github.com/tidwall/gjson"
)

// Exchanges running at once, which the store commits together: each
// distinct code gives its own tokens, and of many exchanges of one code
// exactly one succeeds.
func TestConcurrentExchanges(t *testing.T) {
	w := newWorld(t)
	browser := w.browser()
	const n = 40
	codes := make([]string, n)
	for i := range codes {
		codes[i] = w.login(browser, nil).Get("code") // SSO after the first: fast
	}
	results := make([]response, n)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() { results[i] = w.token(t, tokenRequest{form: w.exchangeForm(codes[i])}) })
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, r := range results {
		access := gjson.Get(r.body, "access_token").String()
		if r.status != http.StatusOK || seen[access] {
			t.Fatalf("exchange %d: %d %s (a token twice: %v)", i, r.status, r.body, seen[access])
		}
		seen[access] = true
	}

	one := w.code()
	const tries = 8
	var ok, refused int
	var mu sync.Mutex
	for range tries {
		wg.Go(func() {
			r := w.token(t, tokenRequest{form: w.exchangeForm(one)})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case r.status == http.StatusOK:
				ok++
			case r.status == http.StatusBadRequest && r.body == vectorBody(t, "T2"):
				refused++
			default:
				t.Errorf("exchange of one code: %d %s", r.status, r.body)
			}
		})
	}
	wg.Wait()
	if ok != 1 || refused != tries-1 {
		t.Errorf("%d of %d exchanges of one code succeeded and %d were refused; want exactly 1 and %d", ok, tries, refused, tries-1)
	}
}
