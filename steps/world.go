package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cucumber/godog"
	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/delivery"
	"github.com/kgsim/kgsim/simulator/engine"
	"github.com/kgsim/kgsim/simulator/market"
	"github.com/kgsim/kgsim/simulator/schedule"
)

// world is one scenario's marketplace: a private store, a virtual
// scheduling clock, one product whose production interface is the merchant
// under test (through the proxy) and one buyer.
type world struct {
	target   Target
	store    simulator.Store
	clock    *schedule.Virtual
	market   *market.Market
	proxy    *proxy
	sender   *delivery.Sender
	product  simulator.Product
	customer simulator.Customer
	joint    *joint // nil unless the scenario is about joint operation
	calls    *calls // the merchant's open-API calls; nil unless the run serves the open APIs
	license  string // the License code the buyer received

	// What the scenario did so far.
	purchases []purchase // oldest first
	lastOrder string     // the last order placed
	crafted   []*call
	// lastCraft and lastRequest are the last crafted call, to send again.
	lastCraft   craft
	lastRequest *delivery.Request
	// last is the call "the answer" steps read: the last crafted call, or
	// the last attempt a step looked at.
	last *call
}

// purchase is a purchase the scenario made.
type purchase struct {
	order      simulator.Order
	instance   string // the instance's key in the marketplace
	instanceID string // the merchant's, once acknowledged
}

// The scenario's buyer. The buyer has every contact field, so that V1
// newInstance carries the encrypted ones (callbacks.md §3.5).
const customerID = "68cbc86abc2018ab880d92f36422fa0e"

func newWorld(ctx context.Context, t Target, sc *godog.Scenario) (*world, error) {
	if t.OpenStore == nil {
		return nil, errors.New("the target gives no OpenStore to keep the scenario's marketplace in")
	}
	clock := schedule.NewVirtual(time.Now().UTC().Truncate(time.Second))
	px, err := startProxy(t.URL, clock)
	if err != nil {
		return nil, err
	}
	w := &world{target: t, clock: clock, proxy: px, sender: delivery.NewSender(t.Timeout)}
	var base string // the marketplace's default unless the identity provider is served
	if jointTagged(tagNames(sc)) {
		w.joint = &joint{}
		if w.joint.idp, err = listenIDP(); err != nil {
			w.close()
			return nil, err
		}
		base = w.joint.idp.base()
	}
	w.product = t.scenarioProduct(tagNames(sc))
	w.product.URL = px.url()
	// What a buyer types is sent as typed: spaces inside and at the
	// edges, Chinese, +, % and &, which a merchant must sign and read as
	// received (a framework that trims values fails V1's authToken).
	w.customer = simulator.Customer{ID: customerID, Name: " 杭州示例科技 & Co. +100% ", UserID: "0a1b2c3d4e5f", UserName: " 张三 zhang+san ",
		MobilePhone: "+86 138 0000 0000", Email: "zhang.san+kgsim@example.com"}
	if w.store, err = t.OpenStore(ctx); err != nil {
		w.close()
		return nil, err
	}
	mc := market.Config{Store: w.store, Clock: clock, Timeout: t.Timeout,
		Products: []simulator.Product{w.product}, Customers: []simulator.Customer{w.customer}, Base: base}
	w.joinOpenAPI(&mc)
	w.market, err = market.New(ctx, mc)
	if err != nil {
		w.close()
		return nil, fmt.Errorf("the scenario's product: %w", err)
	}
	w.openAPIJoined()
	if w.joint != nil {
		w.joint.idp.serve(w.market.Identity)
		w.joint.browser = newBrowser(t, w.joint.idp.base())
	}
	return w, nil
}

func (w *world) close() {
	w.openAPILeft()
	if w.joint != nil {
		w.joint.idp.close()
		w.joint.browser.close()
		w.joint = nil
	}
	if w.proxy != nil {
		w.proxy.close()
		w.proxy = nil
	}
	if w.store != nil {
		w.store.Close()
		w.store = nil
	}
}

// scenarioMode picks the charging mode of a scenario's product: the
// first mode the scenario is tagged with that the target sells, else the
// target's (PERIOD first). License products only for @license scenarios:
// the others certify the SaaS callbacks.
func scenarioMode(t Target, tags []string) (simulator.ChargingMode, bool) {
	for _, tag := range tags {
		if m, ok := modeOf(tag); ok && slices.Contains(t.Modes, m) {
			return m, slices.Contains(tags, "@license")
		}
	}
	if slices.Contains(t.Modes, simulator.Period) {
		return simulator.Period, slices.Contains(tags, "@license")
	}
	return t.Modes[0], slices.Contains(tags, "@license")
}

// modeOf returns the charging mode of a tag of the checks of one mode
// (callbacks.md §13); @trial is a PERIOD product's, and @license is a kind,
// not a mode.
func modeOf(tag string) (simulator.ChargingMode, bool) {
	switch tag {
	case "@period", "@trial":
		return simulator.Period, true
	case "@on-demand":
		return simulator.OnDemand, true
	case "@package":
		return simulator.OnDemandPkg, true
	}
	return "", false
}

func tagNames(sc *godog.Scenario) []string {
	var out []string
	for _, t := range sc.Tags {
		out = append(out, t.Name)
	}
	return out
}

// runDue delivers what is due now on the scheduling clock.
func (w *world) runDue(ctx context.Context) error {
	_, err := w.market.Scheduler.RunDue(ctx)
	return err
}

// pass moves the scheduling clock by d, running everything that falls due
// on the way at its own time.
func (w *world) pass(ctx context.Context, d time.Duration) error {
	_, err := w.market.Scheduler.Advance(ctx, w.clock.Now().Add(d))
	return err
}

// buy places a purchase and delivers its first attempt.
func (w *world) buy(ctx context.Context, trial bool) (*purchase, error) {
	o, inst, err := w.market.Engine.Buy(ctx, engine.Purchase{ProductID: w.product.ID, CustomerID: w.customer.ID, Trial: trial, Amount: "99.9"})
	if err != nil {
		return nil, fmt.Errorf("the marketplace refused the purchase: %w", err)
	}
	w.purchases = append(w.purchases, purchase{order: o, instance: inst.Key})
	w.lastOrder = o.ID
	return &w.purchases[len(w.purchases)-1], w.runDue(ctx)
}

// latest returns the last purchase, or an error saying the scenario needs
// one.
func (w *world) latest() (*purchase, error) {
	if len(w.purchases) == 0 {
		return nil, fmt.Errorf("the scenario has no purchase yet: start it with \"Given a buyer has bought the product\"")
	}
	return &w.purchases[len(w.purchases)-1], nil
}

// messages returns the product's callbacks, oldest first: its lifecycle,
// not the kit syncs of its application (syncs returns those).
func (w *world) messages(ctx context.Context) ([]simulator.Message, error) {
	ms, err := w.store.Messages(ctx, simulator.MessageFilter{ProductID: w.product.ID})
	return slices.DeleteFunc(ms, func(m simulator.Message) bool { return m.Protocol == simulator.Kit }), err
}

// attempts returns every attempt of the scenario's callbacks and crafted
// calls, oldest first.
func (w *world) attempts(ctx context.Context) ([]call, error) {
	ms, err := w.messages(ctx)
	if err != nil {
		return nil, err
	}
	var out []call
	for _, m := range ms {
		as, err := w.store.Attempts(ctx, m.ID)
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			out = append(out, call{activity: m.Activity, attempt: a})
		}
	}
	for _, c := range w.crafted {
		out = append(out, *c)
	}
	return out, nil
}
