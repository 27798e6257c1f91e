package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

type overviewPage struct {
	Pending  int
	Failing  []messageRow
	Products []simulator.Product
	OnSale   int
	Notices  []simulator.Notice
}

func (p overviewPage) live() bool { return p.Pending > 0 }

// overview is the console's home: what needs the merchant's attention.
func (c *console) overview(rq *request) {
	ctx := rq.ctx()
	var p overviewPage
	var err error
	if p.Pending, err = c.a.store.Pending(ctx); err != nil {
		c.fail(rq, err)
		return
	}
	// What needs the merchant: the latest messages that stopped, failed
	// their order, or are being retried after a failure.
	var failing []simulator.Message
	for _, o := range []simulator.Outcome{simulator.Stopped, simulator.OrderFailed, simulator.Pending} {
		ms, err := c.a.store.Messages(ctx, simulator.MessageFilter{Outcome: o, Limit: 5, Page: simulator.Page{Newest: true}})
		if err != nil {
			c.fail(rq, err)
			return
		}
		failing = append(failing, ms...)
	}
	slices.SortFunc(failing, func(a, b simulator.Message) int { return b.CreatedAt.Compare(a.CreatedAt) })
	rows, err := c.rows(rq, failing)
	if err != nil {
		c.fail(rq, err)
		return
	}
	p.Failing = slices.DeleteFunc(rows, func(r messageRow) bool { return r.Outcome == simulator.Pending && r.Error == "" })
	if p.Products, err = c.shownProducts(rq); err != nil {
		c.fail(rq, err)
		return
	}
	for _, pr := range p.Products {
		if pr.Status == "" || pr.Status == simulator.OnSale {
			p.OnSale++
		}
	}
	if p.Notices, err = c.a.store.Notices(ctx, simulator.NoticeFilter{Limit: 5, Page: simulator.Page{Newest: true}}); err != nil {
		c.fail(rq, err)
		return
	}
	c.render(rq, "overview.html", rq.t("overview.title"), "overview", p)
}

// shownProducts are the products as pages show them: keys masked.
func (c *console) shownProducts(rq *request) ([]simulator.Product, error) {
	ps, err := c.a.store.Products(rq.ctx())
	for i := range ps {
		ps[i] = shown(ps[i])
	}
	return ps, err
}

func (c *console) products(rq *request) {
	ps, err := c.shownProducts(rq)
	if err != nil {
		c.fail(rq, err)
		return
	}
	c.render(rq, "products.html", rq.t("products.title"), "products", ps)
}

type productPage struct {
	P         simulator.Product
	Runs      []simulator.DialRun
	Cases     []debugCase
	Customers []simulator.Customer
	Statuses  []simulator.ProductStatus
}

type debugCase struct {
	Activity, Params string
}

// maxRuns is how many of a product's dial-test runs its page shows: the
// latest, two a day.
const maxRuns = 30

func (c *console) product(rq *request) { c.productForm(rq, nil) }

func (c *console) productForm(rq *request, fs *formState) {
	ctx := rq.ctx()
	pr, err := c.a.store.Product(ctx, rq.pathVar("id"))
	if err != nil {
		c.fail(rq, err)
		return
	}
	p := productPage{P: shown(pr), Statuses: []simulator.ProductStatus{simulator.OnSale, simulator.FrozenHidden, simulator.Delisted}}
	runs, err := c.a.store.DialRuns(ctx, pr.ID, time.Time{})
	if err != nil {
		c.fail(rq, err)
		return
	}
	if len(runs) > maxRuns {
		runs = runs[len(runs)-maxRuns:]
	}
	slices.Reverse(runs)
	p.Runs = runs
	for _, dc := range pr.DebugCases {
		p.Cases = append(p.Cases, debugCase{Activity: dc.Activity, Params: pretty(dc.Params)})
	}
	if p.Customers, err = c.a.store.Customers(ctx); err != nil {
		c.fail(rq, err)
		return
	}
	c.renderForm(rq, "product.html", pr.Name, "products", p, fs)
}

func (c *console) productStatus(rq *request) {
	id := rq.pathVar("id")
	_, fs, err := rq.act("status", c.a.setProductStatus, map[string]string{"id": id}, []field{{"status", textField}, {"reason", textField}})
	c.settle(rq, err, fs, c.productForm, "/console/products/"+url.PathEscape(id), "status")
}

func (c *console) dialTest(rq *request) {
	id := rq.pathVar("id")
	_, fs, err := rq.act("dial", c.a.runDialTest, map[string]string{"id": id}, nil)
	c.settle(rq, err, fs, c.productForm, "/console/products/"+url.PathEscape(id), "dial")
}

// settle answers a form post: a failure of kgsim's own, the page again
// with the admin API's refusal, or on to the page to see.
func (c *console) settle(rq *request, err error, fs *formState, again func(*request, *formState), to, done string) {
	switch {
	case err != nil:
		c.fail(rq, err)
	case fs != nil:
		again(rq, fs)
	default:
		rq.redirect(to, done)
	}
}

// picks are what a listing's filter offers: the products and customers,
// and the filter as it was sent.
type picks struct {
	Filter    url.Values
	Products  []simulator.Product
	Customers []simulator.Customer
}

func (c *console) picks(rq *request) (picks, error) {
	p := picks{Filter: rq.r.URL.Query()}
	var err error
	if p.Products, err = c.shownProducts(rq); err != nil {
		return p, err
	}
	p.Customers, err = c.a.store.Customers(rq.ctx())
	return p, err
}

// onePage reads a page of a listing (read gets one record more than a
// page) and the addresses of the next page and, on a later one, the first.
func onePage[T any](rq *request, read func() ([]T, error), id func(T) string) (items []T, next, first string, err error) {
	all, err := read()
	if err != nil {
		return nil, "", "", err
	}
	items, nextID := paged(all, pageSize, id)
	next, first = pages(rq.r.URL, nextID)
	return items, next, first, nil
}

type ordersPage struct {
	picks
	States []simulator.OrderState
	Orders []simulator.Order
	Next   string
	First  string
	Buy    bool // the purchase form open
}

func (p ordersPage) live() bool {
	return slices.ContainsFunc(p.Orders, func(o simulator.Order) bool { return o.State == simulator.OrderProcessing })
}

func (c *console) orders(rq *request) { c.ordersForm(rq, nil) }

func (c *console) ordersForm(rq *request, fs *formState) {
	ctx := rq.ctx()
	q := rq.r.URL.Query()
	p := ordersPage{States: orderStates, Buy: q.Has("buy") || fs != nil}
	var err error
	if p.picks, err = c.picks(rq); err != nil {
		c.fail(rq, err)
		return
	}
	f := simulator.OrderFilter{ProductID: q.Get("product"), CustomerID: q.Get("customer"), State: simulator.OrderState(q.Get("state")),
		Limit: pageSize + 1, Page: simulator.Page{After: q.Get("cursor"), Newest: true}}
	if fs == nil {
		fs = checkState(q, "state", f.State, orderStates)
	}
	if fs == nil {
		if fs, err = checkCursor(ctx, q, "order", f.After, exists(c.a.store.Order)); err != nil {
			c.fail(rq, err)
			return
		}
	}
	if fs == nil {
		read := func() ([]simulator.Order, error) { return c.a.store.Orders(ctx, f) }
		if p.Orders, p.Next, p.First, err = onePage(rq, read, func(o simulator.Order) string { return o.ID }); err != nil {
			c.fail(rq, err)
			return
		}
	}
	c.renderForm(rq, "orders.html", rq.t("orders.title"), "orders", p, fs)
}

// buyFields are the purchase form's: the admin API's members.
func buyFields() []field {
	return []field{{"productId", textField}, {"customerId", textField}, {"trial", flagField}, {"periodNumber", numberField}, {"amount", textField},
		{"skuCode", textField}, {"linearAmount", numberField}, {"diskSize", numberField}, {"bandwidth", numberField}}
}

// buy places a purchase through the admin API's POST /admin/v1/orders.
func (c *console) buy(rq *request) {
	v, fs, err := rq.act("buy", c.a.buy, nil, buyFields())
	if err != nil || fs != nil {
		c.settle(rq, err, fs, c.ordersForm, "", "")
		return
	}
	rq.redirect("/console/orders/"+url.PathEscape(v.(actionResult).Order.ID), "bought")
}

type orderPage struct {
	O        simulator.Order
	Product  simulator.Product
	Messages []messageRow
}

func (p orderPage) live() bool { return p.O.State == simulator.OrderProcessing || pending(p.Messages) }

func (c *console) order(rq *request) {
	ctx := rq.ctx()
	o, err := c.a.store.Order(ctx, rq.pathVar("id"))
	if err != nil {
		c.fail(rq, err)
		return
	}
	p := orderPage{O: o}
	if pr, err := c.a.store.Product(ctx, o.ProductID); err == nil {
		p.Product = shown(pr)
	}
	ms, err := c.a.store.Messages(ctx, simulator.MessageFilter{OrderID: o.ID, Limit: pageSize, Page: simulator.Page{Newest: true}})
	if err != nil {
		c.fail(rq, err)
		return
	}
	if p.Messages, err = c.rows(rq, ms); err != nil {
		c.fail(rq, err)
		return
	}
	c.render(rq, "order.html", rq.t("order.title")+" "+o.ID, "orders", p)
}

type instancesPage struct {
	picks
	States    []simulator.InstanceState
	Instances []simulator.Instance
	Next      string
	First     string
}

func (c *console) instances(rq *request) {
	ctx := rq.ctx()
	q := rq.r.URL.Query()
	p := instancesPage{States: instanceStates}
	var err error
	if p.picks, err = c.picks(rq); err != nil {
		c.fail(rq, err)
		return
	}
	f := simulator.InstanceFilter{ProductID: q.Get("product"), CustomerID: q.Get("customer"), ID: q.Get("instance"),
		State: simulator.InstanceState(q.Get("state")), Limit: pageSize + 1, Page: simulator.Page{After: q.Get("cursor"), Newest: true}}
	fs := checkState(q, "state", f.State, instanceStates)
	if fs == nil {
		if fs, err = checkCursor(ctx, q, "instance", f.After, exists(c.a.store.Instance)); err != nil {
			c.fail(rq, err)
			return
		}
	}
	if fs == nil {
		read := func() ([]simulator.Instance, error) { return c.a.store.Instances(ctx, f) }
		if p.Instances, p.Next, p.First, err = onePage(rq, read, func(i simulator.Instance) string { return i.Key }); err != nil {
			c.fail(rq, err)
			return
		}
	}
	c.renderForm(rq, "instances.html", rq.t("instances.title"), "instances", p, fs)
}

// checkState refuses a state filter that is none of states.
func checkState[S ~string](q url.Values, name string, v S, states []S) *formState {
	if v == "" || slices.Contains(states, v) {
		return nil
	}
	return &formState{Name: "filter", Values: q, Field: name, Message: "is not one of the states listed", Status: http.StatusBadRequest}
}

// badCursor is the refusal of a cursor that names no record.
func badCursor(q url.Values, what string) *formState {
	return &formState{Name: "filter", Values: q, Field: "cursor", Message: "names no " + what + ": start again from the first page", Status: http.StatusBadRequest}
}

// checkCursor checks a page's cursor as the admin API does (query.page):
// one naming no record is the form's problem, any other failure of the
// lookup is the store's and is returned.
func checkCursor(ctx context.Context, q url.Values, what, cursor string, lookup func(context.Context, string) error) (*formState, error) {
	if cursor == "" {
		return nil, nil
	}
	switch err := lookup(ctx, cursor); {
	case simulator.ErrorCode(err) == simulator.ENOTFOUND:
		return badCursor(q, what), nil
	case err != nil:
		return nil, err
	}
	return nil, nil
}

type instancePage struct {
	I        simulator.Instance
	Product  simulator.Product
	Orders   []simulator.Order
	Messages []messageRow
	Actions  []actionForm
}

func (p instancePage) live() bool { return p.I.State == simulator.Provisioning || pending(p.Messages) }

// actionForm is an action on an instance, with the fields of its form.
type actionForm struct {
	Name   string
	Fields []field
}

// FieldNames are the names of the form's fields, for the template.
func (f actionForm) FieldNames() []string {
	out := make([]string, len(f.Fields))
	for i, fd := range f.Fields {
		out[i] = fd.name
	}
	return out
}

// instanceForms are the instance actions' forms, in the order the page
// shows them; each field is the admin API's member of the same name.
func instanceForms() []actionForm {
	renewal := []field{{"periodNumber", numberField}, {"amount", textField}, {"productId", textField}}
	change := []field{{"skuCode", textField}, {"linearAmount", numberField}, {"productId", textField}}
	return []actionForm{
		{"renew", renewal},
		{"convert-trial", renewal},
		{"upgrade", change},
		{"change-spec", append(slices.Clone(change), field{"periodNumber", numberField})},
		{"unsubscribe-renewal", nil},
		{"unsubscribe", nil},
		{"freeze", nil},
		{"unfreeze", nil},
		{"query", nil},
		{"license", []field{{"deviceFingerprint", textField}}},
	}
}

func (c *console) instance(rq *request) { c.instanceForm(rq, nil) }

func (c *console) instanceForm(rq *request, fs *formState) {
	ctx := rq.ctx()
	i, err := c.a.store.Instance(ctx, rq.pathVar("key"))
	if err != nil {
		c.fail(rq, err)
		return
	}
	p := instancePage{I: i, Actions: instanceForms()}
	if pr, err := c.a.store.Product(ctx, i.ProductID); err == nil {
		p.Product = shown(pr)
	}
	if p.Orders, err = c.a.store.Orders(ctx, simulator.OrderFilter{InstanceKey: i.Key, Limit: pageSize, Page: simulator.Page{Newest: true}}); err != nil {
		c.fail(rq, err)
		return
	}
	ms, err := c.a.store.Messages(ctx, simulator.MessageFilter{Queue: i.Key, Limit: pageSize, Page: simulator.Page{Newest: true}})
	if err != nil {
		c.fail(rq, err)
		return
	}
	if p.Messages, err = c.rows(rq, ms); err != nil {
		c.fail(rq, err)
		return
	}
	c.renderForm(rq, "instance.html", rq.t("instance.title")+" "+i.Key, "instances", p, fs)
}

// instanceAction runs one action through the admin API's handler of it.
func (c *console) instanceAction(rq *request) {
	key, name := rq.pathVar("key"), rq.pathVar("action")
	i := slices.IndexFunc(instanceForms(), func(f actionForm) bool { return f.Name == name })
	act, ok := c.a.instanceActions()[name]
	if i < 0 || !ok {
		c.refuse(rq.w, rq.r, http.StatusNotFound, "no instance action "+name)
		return
	}
	_, fs, err := rq.act(name, c.a.instanceAction(act), map[string]string{"key": key}, instanceForms()[i].Fields)
	c.settle(rq, err, fs, c.instanceForm, "/console/instances/"+url.PathEscape(key), "action")
}

type clockPage struct {
	Advanced *advanceReport
	Messages []messageRow
	Settled  []simulator.Order
	Notices  []simulator.Notice
}

// advanceReport is the admin API's answer to an advance, as the page
// after it reads it back from its address.
type advanceReport struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Instants int       `json:"instants"`
	Work     int       `json:"work"`
}

func (c *console) clock(rq *request) { c.clockForm(rq, nil) }

// clockForm shows the clock, and after an advance what fell due on the
// way: the messages created, the orders settled, the notices raised.
func (c *console) clockForm(rq *request, fs *formState) {
	ctx := rq.ctx()
	q := rq.r.URL.Query()
	var p clockPage
	from, err1 := time.Parse(time.RFC3339Nano, q.Get("from"))
	to, err2 := time.Parse(time.RFC3339Nano, q.Get("to"))
	if err1 == nil && err2 == nil && !to.Before(from) {
		rep := &advanceReport{From: from, To: to}
		rep.Instants, _ = strconv.Atoi(q.Get("instants")) // shown as 0 when tampered with
		rep.Work, _ = strconv.Atoi(q.Get("work"))
		p.Advanced = rep
		ms, err := c.a.store.Messages(ctx, simulator.MessageFilter{Since: from, Until: to.Add(time.Nanosecond), Limit: pageSize, Page: simulator.Page{Newest: true}})
		if err != nil {
			c.fail(rq, err)
			return
		}
		if p.Messages, err = c.rows(rq, ms); err != nil {
			c.fail(rq, err)
			return
		}
		os, err := c.a.store.Orders(ctx, simulator.OrderFilter{SettledSince: from, Limit: pageSize, Page: simulator.Page{Newest: true}})
		if err != nil {
			c.fail(rq, err)
			return
		}
		p.Settled = slices.DeleteFunc(os, func(o simulator.Order) bool { return o.SettledAt.After(to) })
		ns, err := c.a.store.Notices(ctx, simulator.NoticeFilter{Since: from, Limit: pageSize, Page: simulator.Page{Newest: true}})
		if err != nil {
			c.fail(rq, err)
			return
		}
		p.Notices = slices.DeleteFunc(ns, func(n simulator.Notice) bool { return n.CreatedAt.After(to) })
	}
	c.renderForm(rq, "clock.html", rq.t("clock.title"), "clock", p, fs)
}

// advance moves a virtual clock through the admin API. A time typed in
// Beijing time goes as RFC 3339; anything else as it was typed, for the
// admin API to explain.
func (c *console) advance(rq *request) {
	fields := []field{{"by", textField}, {"to", textField}}
	in := body(rq.r.PostForm, fields)
	if to, ok := in["to"].(string); ok {
		if t, ok := consoleTimeInput(to); ok {
			in["to"] = t.UTC().Format(time.RFC3339Nano)
		}
	}
	v, fs, err := rq.actWith("advance", c.a.advance, nil, fields, in)
	if err != nil || fs != nil {
		c.settle(rq, err, fs, c.clockForm, "", "")
		return
	}
	b, err := json.Marshal(v)
	var rep advanceReport
	if err == nil {
		err = json.Unmarshal(b, &rep)
	}
	if err != nil {
		c.fail(rq, err)
		return
	}
	q := url.Values{"from": {iso(rep.From)}, "to": {iso(rep.To)}, "instants": {strconv.Itoa(rep.Instants)}, "work": {strconv.Itoa(rep.Work)}}
	rq.redirect("/console/clock?"+q.Encode(), "advanced")
}
