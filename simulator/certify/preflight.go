package certify

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// probe asks the merchant's URL anything: any HTTP answer, a 404 or 405
// included, shows a service is listening. It never follows a redirect.
func probe(ctx context.Context, target string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.Body.Close()
}

// preflight checks, before the suite, that the merchant answers at all, so
// that a service that is not running is reported once as such rather than
// as every check failing.
func preflight(ctx context.Context, target string, timeout time.Duration) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return simulator.Errorf(simulator.EINVALID, "merchant URL", "%q: want an absolute http(s) URL such as http://127.0.0.1:8081/produce", target)
	}
	err = probe(ctx, target, timeout)
	if err == nil {
		return nil
	}
	hint := "is the service running and listening there?"
	if dns := new(net.DNSError); errors.As(err, &dns) {
		hint = "the host name does not resolve"
	} else if errors.Is(err, context.DeadlineExceeded) {
		hint = "nothing answered within " + timeout.String()
	}
	return simulator.Errorf(simulator.EINVALID, "", "merchant unreachable at the start: GET %s: %v (%s)", u.Redacted(), unwrapURLError(err), hint)
}

// unwrapURLError drops net/http's "Get \"URL\": " prefix, which repeats
// the URL already named.
func unwrapURLError(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}
