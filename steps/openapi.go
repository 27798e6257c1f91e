package steps

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"
	"github.com/tidwall/gjson"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/engine"
	"github.com/kgsim/kgsim/simulator/market"
	"github.com/kgsim/kgsim/simulator/openapi"
	"github.com/kgsim/kgsim/simulator/schedule"
)

// OpenAPI is the marketplace's open APIs during a certification
// (open-api.md), served at one address for every scenario: each scenario's
// marketplace joins it while the scenario runs, and a merchant's call goes
// to the one that owns its order, instance or License code
// (openapi.Directory), which judges it as the marketplace would and shows
// it in the scenario's report. The MOCK orders are answered to the seller
// too. Every scenario's product belongs to the seller whose AK/SK the
// merchant signs with.
type OpenAPI struct {
	ak, sk   string
	dir      *openapi.Directory
	fallback simulator.Store // the seller alone: what no scenario owns
}

// certSeller is the seller account of the certification's products.
const certSeller = "kgsim-certification-seller"

// NewOpenAPI returns the open APIs for a merchant that signs its calls
// with ak/sk, keeping the seller in an empty store that open opens. Close
// releases them.
func NewOpenAPI(ctx context.Context, ak, sk string, open func(ctx context.Context) (simulator.Store, error)) (*OpenAPI, error) {
	s := simulator.Seller{ID: certSeller, Name: "kgsim certification", AK: ak, SK: sk}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("the seller's AK/SK (--ak, --sk): %w", err)
	}
	db, err := open(ctx)
	if err != nil {
		return nil, err
	}
	if err := db.PutSeller(ctx, s); err != nil {
		db.Close()
		return nil, err
	}
	fallback, err := openapi.New(openapi.Config{Store: db, Clock: schedule.NewVirtual(time.Now().UTC())})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &OpenAPI{ak: ak, sk: sk, dir: openapi.NewDirectory(fallback), fallback: db}, nil
}

// ServeHTTP answers an open-API call.
func (o *OpenAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) { o.dir.ServeHTTP(w, r) }

// Close releases the open APIs' store.
func (o *OpenAPI) Close() error { return o.fallback.Close() }

// calls is what a scenario's marketplace saw of the merchant's open-API
// calls, in the order they were answered.
type calls struct {
	mu      sync.Mutex
	seen    []openapi.Exchange
	changed chan struct{} // closed and replaced at each call
	leave   func()        // leaves the run's open APIs
}

func (c *calls) observe(e openapi.Exchange) {
	c.mu.Lock()
	c.seen = append(c.seen, e)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// wait returns the calls that match, once there is one or when d has
// passed, or ctx ended.
func (c *calls) wait(ctx context.Context, d time.Duration, match func(openapi.Exchange) bool) []openapi.Exchange {
	timeout := time.NewTimer(d)
	defer timeout.Stop()
	for {
		c.mu.Lock()
		found := slices.DeleteFunc(slices.Clone(c.seen), func(e openapi.Exchange) bool { return !match(e) })
		changed := c.changed
		c.mu.Unlock()
		if len(found) > 0 {
			return found
		}
		select {
		case <-changed:
		case <-timeout.C:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// joinOpenAPI sets up the scenario's marketplace for the run's open
// APIs, when there are some: the seller, owning the scenario's product,
// and the observer of the calls.
func (w *world) joinOpenAPI(c *market.Config) {
	o := w.target.OpenAPI
	if o == nil {
		return
	}
	w.calls = &calls{changed: make(chan struct{})}
	c.Sellers = append(c.Sellers, simulator.Seller{ID: certSeller, Name: "kgsim certification", AK: o.ak, SK: o.sk})
	for i := range c.Products {
		c.Products[i].SellerID = certSeller
	}
	w.product.SellerID = certSeller
	c.ObserveOpenAPI = w.calls.observe
}

// openAPIJoined makes the scenario's marketplace answer the calls about
// its orders, instances and codes, until the world closes.
func (w *world) openAPIJoined() {
	if w.calls != nil {
		w.calls.leave = w.target.OpenAPI.dir.Add(w.market.OpenAPI)
	}
}

// openAPILeft stops answering the scenario's calls.
func (w *world) openAPILeft() {
	if w.calls != nil && w.calls.leave != nil {
		w.calls.leave()
		w.calls.leave = nil
	}
}

// recordCrafted stores the order a crafted purchase names, when the run
// serves the open APIs: the marketplace knows every order it sends, and
// the merchant may query it.
func (w *world) recordCrafted(ctx context.Context, ms []member) error {
	id, ok := lookup(ms, "orderId")
	if w.calls == nil || !ok {
		return nil
	}
	line, _ := lookup(ms, "orderLineId")
	if line == "" {
		line = id + "-000001"
	}
	now := w.clock.Now()
	return w.store.PutOrder(ctx, simulator.Order{ID: id, LineID: line, Kind: simulator.NewPurchase, ProductID: w.product.ID, SKUCode: w.product.SKUCode,
		CustomerID: w.customer.ID, State: simulator.OrderProcessing, PeriodType: w.product.PeriodType, CreatedAt: now})
}

// The spec sections of the open APIs' checks.
const (
	specOrderQuery = "open-api.md §3 (order query), §2 (APIG signature); callbacks.md §5.8 (V2 newInstance names only the order)"
	specUsage      = "open-api.md §4 (usage push), §2 (APIG signature)"
	specLicense    = "open-api.md §5 (License activation and heartbeat), §2 (APIG signature)"
)

// orderQueried checks that the merchant queried the order of the last
// purchase and was answered: what it provisions comes from there. An
// asynchronous merchant may query after answering: the check waits the
// recommended answer time for the first query.
func (w *world) orderQueried(ctx context.Context) (context.Context, error) {
	if w.calls == nil {
		return ctx, errNoOpenAPI
	}
	p, err := w.latest()
	if err != nil {
		return ctx, err
	}
	queries := w.calls.wait(ctx, w.target.SlowAfter, func(e openapi.Exchange) bool {
		return e.API == openapi.APIName(openapi.OrderQueryPath) && queryOf(e).Get("orderId") == p.order.ID
	})
	ctx = w.attach(ctx, queries)
	if len(queries) == 0 {
		return ctx, w.openAPIFailure(nil, specOrderQuery,
			"call GET {API base}"+openapi.OrderQueryPath+"?orderId={orderId}&orderLineId={orderLineId} on newInstance, with the API base set to kgsim's --open-api-addr",
			"the merchant did not query order %s within %s of its purchase: a V2 newInstance names only the order, so what was bought is learned from the order query", p.order.ID, w.target.SlowAfter)
	}
	if i := slices.IndexFunc(queries, func(e openapi.Exchange) bool { return e.Accepted() }); i < 0 {
		last := queries[len(queries)-1]
		return ctx, w.openAPIFailure(&last, specOrderQuery, hintOf(last),
			"the merchant queried order %s %d time(s) and the marketplace refused every query, so it cannot have provisioned what was bought", p.order.ID, len(queries))
	}
	return ctx, nil
}

// pushesUsage waits for the merchant to push usage for the last purchase's
// instance: at most the time the target gives it (--usage-wait).
func (w *world) pushesUsage(ctx context.Context) (context.Context, error) {
	if w.calls == nil {
		return ctx, errNoOpenAPI
	}
	p, err := w.latest()
	if err != nil {
		return ctx, err
	}
	if p.instanceID == "" {
		return ctx, fmt.Errorf("the purchase was not provisioned: no instance to push usage for")
	}
	pushes := w.calls.wait(ctx, w.target.UsageWait, w.usageFor(p.instanceID))
	if len(pushes) == 0 {
		return ctx, w.openAPIFailure(nil, specUsage, "push the usage of an on-demand instance within the time kgsim waits, or give kgsim more (--usage-wait)",
			"the merchant pushed no usage for instance %s within %s", p.instanceID, w.target.UsageWait)
	}
	return ctx, nil
}

// usageFor matches the usage pushes with a record for instance id.
func (w *world) usageFor(id string) func(openapi.Exchange) bool {
	return func(e openapi.Exchange) bool {
		if !strings.HasPrefix(e.API, "usage push") {
			return false
		}
		for _, r := range gjson.GetBytes(e.Body, "usage_records").Array() {
			if r.Get("instance_id").String() == id {
				return true
			}
		}
		return false
	}
}

// usageAccepted checks every usage push for the last purchase's instance:
// its signatures, fields and ownership as the marketplace checks them.
func (w *world) usageAccepted(ctx context.Context) (context.Context, error) {
	if w.calls == nil {
		return ctx, errNoOpenAPI
	}
	p, err := w.latest()
	if err != nil {
		return ctx, err
	}
	pushes := w.calls.wait(ctx, 0, w.usageFor(p.instanceID))
	ctx = w.attach(ctx, pushes)
	for _, e := range pushes {
		if !e.Accepted() {
			return ctx, w.openAPIFailure(&e, specUsage, hintOf(e), "the marketplace refused a usage push for instance %s", p.instanceID)
		}
	}
	if len(pushes) == 0 {
		return ctx, fmt.Errorf("no usage push for instance %s to judge: start with \"When the merchant pushes usage for the instance\"", p.instanceID)
	}
	return ctx, nil
}

// receivesLicense creates a License code for the last purchase and has
// the buyer claim it, as the seller center's test codes are.
func (w *world) receivesLicense(ctx context.Context) error {
	p, err := w.latest()
	if err != nil {
		return err
	}
	l, err := w.market.Engine.CreateLicense(ctx, w.product.ID, p.order.ID)
	if err != nil {
		return fmt.Errorf("the marketplace could not create a License code: %w", err)
	}
	if _, err := w.market.Engine.MoveLicense(ctx, l.Code, engine.ClaimLicense); err != nil {
		return err
	}
	w.license = l.Code
	return nil
}

// entersLicense opens the merchant's License software with the code, as
// the buyer entering it: ?license={code} on --license-url.
func (w *world) entersLicense(ctx context.Context) error {
	if w.license == "" {
		return fmt.Errorf("no License code: start with \"the buyer has received a License code for the purchase\"")
	}
	u, err := url.Parse(w.target.LicenseURL)
	if err != nil {
		return fmt.Errorf("--license-url: %w", err)
	}
	q := u.Query()
	q.Set("license", w.license)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: w.target.Timeout}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("the License software at %s did not answer: %w", w.target.LicenseURL, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // what it shows is for the buyer; the calls it made are judged
	resp.Body.Close()
	return nil
}

// licenseActivated checks that the License software activated the code
// and checked it with the heartbeat, each accepted.
func (w *world) licenseActivated(ctx context.Context) (context.Context, error) {
	if w.calls == nil {
		return ctx, errNoOpenAPI
	}
	about := func(e openapi.Exchange) bool {
		if !strings.HasPrefix(e.API, "License") {
			return false
		}
		for _, r := range append(gjson.GetBytes(e.Body, "licenses.#.license").Array(), gjson.GetBytes(e.Body, "license")) {
			if r.String() == w.license {
				return true
			}
		}
		return false
	}
	calls := w.calls.wait(ctx, 0, about)
	ctx = w.attach(ctx, calls)
	for _, api := range []string{"License activation", "License heartbeat"} {
		i := slices.IndexFunc(calls, func(e openapi.Exchange) bool { return strings.HasPrefix(e.API, api) })
		if i < 0 {
			return ctx, w.openAPIFailure(nil, specLicense, "on the code the buyer enters, call "+openapi.LicenseActivatePath+" then "+openapi.LicenseHeartbeatPath+" (or their v2 batches)",
				"the License software made no %s call for code %s", strings.ToLower(strings.TrimPrefix(api, "License ")), w.license)
		}
		if !licenseAccepted(calls[i], w.license) {
			return ctx, w.openAPIFailure(&calls[i], specLicense, hintOf(calls[i]), "the marketplace refused the %s of code %s", strings.ToLower(api), w.license)
		}
	}
	return ctx, nil
}

// licenseAccepted reports whether a License call succeeded for code: the
// call, and in a batch the code's own result.
func licenseAccepted(e openapi.Exchange, code string) bool {
	if !e.Accepted() {
		return false
	}
	results := gjson.GetBytes(e.Answer, "data.results")
	if !results.Exists() {
		return true
	}
	for _, r := range results.Array() {
		if r.Get("license").String() == code {
			return r.Get("error_code").String() == "92020000"
		}
	}
	return false
}

// errNoOpenAPI is what an open-API step says when the run serves none.
var errNoOpenAPI = fmt.Errorf("the open APIs are not served in this run: give kgsim certify --open-api-addr, --ak and --sk")

func queryOf(e openapi.Exchange) url.Values {
	_, q, _ := strings.Cut(e.URL, "?")
	v, _ := url.ParseQuery(q)
	return v
}

// hintOf is the fix an open-API refusal suggests: kgsim's likely cause,
// or its problem.
func hintOf(e openapi.Exchange) string {
	k := gjson.GetBytes(e.Answer, "kgsim")
	if cause := k.Get("likely_cause").String(); cause != "" {
		return cause
	}
	return k.Get("problem").String()
}

// openAPIFailure is a failed open-API check, with the call it is about
// (nil when the merchant made none): the request as received and the
// answer with kgsim's explanation.
func (w *world) openAPIFailure(e *openapi.Exchange, spec, hint, check string, args ...any) error {
	f := &failure{check: fmt.Sprintf(check, args...), spec: spec, hint: hint, keys: w.keys()}
	if e != nil {
		f.extra = exchangeLines(*e)
	}
	return f
}

// exchangeLines shows an open-API call in a failure: the request, the
// answer, and kgsim's explanation line by line.
func exchangeLines(e openapi.Exchange) []string {
	lines := []string{fmt.Sprintf("call:     the merchant's %s, at %s", e.API, e.At.UTC().Format("2006-01-02T15:04:05.000Z")),
		"request:  " + e.Method + " " + e.URL}
	var b strings.Builder
	writeHeader(&b, e.Header)
	lines = append(lines, strings.Split(strings.TrimPrefix(b.String(), "\n"), "\n")...)
	if len(e.Body) > 0 {
		lines = append(lines, "          body: "+shown(e.Body))
	}
	lines = append(lines, fmt.Sprintf("response: %d %s: %s", e.Status, http.StatusText(e.Status), shown(e.Answer)))
	k := gjson.GetBytes(e.Answer, "kgsim")
	lines = append(lines, "verdict:  "+verdictOf(e))
	for _, m := range []struct{ name, label string }{{"problem", "problem"}, {"likely_cause", "cause"}, {"field", "field"}} {
		if v := k.Get(m.name).String(); v != "" {
			lines = append(lines, fmt.Sprintf("%-9s %s", m.label+":", v))
		}
	}
	for _, m := range []struct{ name, label string }{{"canonical_request", "kgsim's canonical request"}, {"string_to_sign", "kgsim's string to sign"}} {
		if v := k.Get(m.name).String(); v != "" {
			lines = append(lines, m.label+" (compare with the merchant's):")
			for l := range strings.SplitSeq(v, "\n") {
				lines = append(lines, "          | "+l)
			}
		}
	}
	return lines
}

// verdictOf is an open-API call's outcome in a few words.
func verdictOf(e openapi.Exchange) string {
	if e.Accepted() {
		return fmt.Sprintf("accepted (%d %s)", e.Status, e.Code())
	}
	msg := gjson.GetManyBytes(e.Answer, "error_msg", "resultMsg")
	return fmt.Sprintf("refused (%d %s %s)", e.Status, e.Code(), msg[0].String()+msg[1].String())
}

// attach shows the calls in the scenario's report, whether it passes or
// not: one line each, with the verdict.
func (w *world) attach(ctx context.Context, calls []openapi.Exchange) context.Context {
	if len(calls) == 0 {
		return ctx
	}
	var b strings.Builder
	for _, e := range calls {
		fmt.Fprintf(&b, "%s: %s %s: %s\n", e.API, e.Method, e.URL, verdictOf(e))
	}
	return godog.Attach(ctx, godog.Attachment{Body: []byte(b.String()), FileName: "open API calls", MediaType: "text/plain"})
}
