package steps

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cucumber/godog"
	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/kgsim/kgsim/simulator/engine"
	"github.com/tidwall/gjson"
)

// What buyers and the marketplace do: each step changes the marketplace's
// state through the engine and delivers the callbacks due at once.

// boughtProduct is a precondition: a purchase the merchant provisioned.
func (w *world) boughtProduct(ctx context.Context, trial string) error {
	p, err := w.buy(ctx, trial != "")
	if err != nil {
		return err
	}
	if err := w.provisioned(ctx, p); err != nil {
		return fmt.Errorf("precondition failed, a purchase to start from: %w", err)
	}
	return nil
}

func (w *world) buysProduct(ctx context.Context, trial string) error {
	_, err := w.buy(ctx, trial != "")
	return err
}

func (w *world) buysAgain(ctx context.Context) error {
	_, err := w.buy(ctx, false)
	return err
}

// ordered runs an engine action that places an order on the last
// purchase's instance, remembers the order and delivers what it sends.
func (w *world) ordered(ctx context.Context, what string, action func(key string) (simulator.Order, error)) error {
	return w.onInstance(ctx, what, func(key string) error {
		o, err := action(key)
		if err == nil {
			w.lastOrder = o.ID
		}
		return err
	})
}

// onInstance runs an engine action on the last purchase's instance and
// delivers what it sends.
func (w *world) onInstance(ctx context.Context, what string, action func(key string) error) error {
	p, err := w.latest()
	if err != nil {
		return err
	}
	if err := action(p.instance); err != nil {
		return fmt.Errorf("the marketplace could not %s: %w", what, err)
	}
	return w.runDue(ctx)
}

func (w *world) opensDetails(ctx context.Context) error {
	return w.onInstance(ctx, "query the instance", func(key string) error {
		_, err := w.market.Engine.Query(ctx, key)
		return err
	})
}

func (w *world) renews(ctx context.Context, periods int) error {
	return w.ordered(ctx, "renew", func(key string) (simulator.Order, error) {
		return w.market.Engine.Renew(ctx, key, engine.Renewal{PeriodNumber: periods, Amount: "99.9"})
	})
}

// renewsChanging renews with a change of specification (V2): the
// merchant is asked first with changeInstanceCheck, and refreshInstance
// RENEWAL_CHANGE follows once it allows the change (callbacks.md §5.14).
func (w *world) renewsChanging(ctx context.Context, periods, quantity int) error {
	return w.ordered(ctx, "renew with a change of specification", func(key string) (simulator.Order, error) {
		return w.market.Engine.ChangeSpec(ctx, key, engine.Change{PeriodNumber: periods, LinearAmount: quantity})
	})
}

func (w *world) unsubscribesRenewal(ctx context.Context) error {
	return w.ordered(ctx, "unsubscribe the renewal", func(key string) (simulator.Order, error) {
		return w.market.Engine.UnsubscribeRenewal(ctx, key)
	})
}

func (w *world) convertsTrial(ctx context.Context) error {
	return w.ordered(ctx, "turn the trial formal", func(key string) (simulator.Order, error) {
		return w.market.Engine.ConvertTrial(ctx, key, engine.Renewal{Amount: "99.9"})
	})
}

func (w *world) upgrades(ctx context.Context, quantity int) error {
	return w.ordered(ctx, "upgrade", func(key string) (simulator.Order, error) {
		return w.market.Engine.Upgrade(ctx, key, engine.Change{LinearAmount: quantity})
	})
}

func (w *world) unsubscribes(ctx context.Context) error {
	return w.ordered(ctx, "unsubscribe", func(key string) (simulator.Order, error) {
		return w.market.Engine.Unsubscribe(ctx, key)
	})
}

func (w *world) freezes(ctx context.Context) error {
	return w.onInstance(ctx, "freeze the instance", func(key string) error { return w.market.Engine.Freeze(ctx, key) })
}

func (w *world) liftsViolation(ctx context.Context) error {
	return w.onInstance(ctx, "lift the violation", func(key string) error { return w.market.Engine.Unfreeze(ctx, key) })
}

func (w *world) requestsLicense(ctx context.Context) error {
	return w.onInstance(ctx, "request a License", func(key string) error {
		_, err := w.market.Engine.RequestLicense(ctx, key, engine.LicenseRequest{DeviceFingerprint: "kgsim-device-" + key})
		return err
	})
}

// periodEnds moves the scheduling clock to the instance's expiry.
func (w *world) periodEnds(ctx context.Context) error {
	p, err := w.latest()
	if err != nil {
		return err
	}
	inst, err := w.store.Instance(ctx, p.instance)
	if err != nil {
		return err
	}
	if inst.ExpireAt.IsZero() {
		return fmt.Errorf("instance %s has no expiry: is the product periodic?", inst.Key)
	}
	_, err = w.market.Scheduler.Advance(ctx, inst.ExpireAt)
	return err
}

// timePasses moves the scheduling clock: "3 hours pass", "15 days pass".
func (w *world) timePasses(ctx context.Context, n int, unit string) error {
	d := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(unit, "s")]
	return w.pass(ctx, time.Duration(n)*d)
}

// merchantDown makes the proxy answer 503 or drop connections, for the
// next hours on the scheduling clock or until the scenario ends.
func (w *world) merchantDown(_ context.Context, how, hours string) error {
	f := unavailable
	if strings.Contains(how, "refuses") {
		f = refused
	}
	var until time.Time
	if hours != "" {
		n, err := strconv.Atoi(hours)
		if err != nil {
			return err
		}
		until = w.clock.Now().Add(time.Duration(n) * time.Hour)
	}
	w.proxy.down(f, until)
	return nil
}

// Calls the marketplace sends again, or would never send as they are.

// purchaseTemplate is the callback of the scenario's last purchase. A
// scenario without one gets an order placed whose callback is built but
// not delivered: the checks of how a purchase call is signed need the
// call, not a purchase the merchant acknowledged first.
func (w *world) purchaseTemplate(ctx context.Context) (simulator.Message, error) {
	ms, err := w.messages(ctx)
	if err != nil {
		return simulator.Message{}, err
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if isKind(ms[i], "purchase") {
			return ms[i], nil
		}
	}
	o, _, err := w.market.Engine.Buy(ctx, engine.Purchase{ProductID: w.product.ID, CustomerID: w.customer.ID, Amount: "99.9"})
	if err != nil {
		return simulator.Message{}, fmt.Errorf("the marketplace refused the purchase: %w", err)
	}
	return w.purchaseMessage(ctx, &purchase{order: o})
}

// sendsPurchaseForNewOrder sends the purchase callback for an order the
// merchant has not seen, tampered with as the step says.
func (w *world) sendsPurchaseForNewOrder(ctx context.Context, cr craft) error {
	m, err := w.purchaseTemplate(ctx)
	if err != nil {
		return err
	}
	cr.activity, cr.params = m.Activity, forNewOrder(members(m.Params), w.clock.Now())
	if err := w.recordCrafted(ctx, cr.params); err != nil {
		return err
	}
	if cr.drop != "" && !isQueryParam(cr.drop) {
		if _, ok := lookup(cr.params, cr.drop); !ok {
			return fmt.Errorf("the %s callback has no parameter %q to leave out", m.Activity, cr.drop)
		}
		cr.params, cr.drop = without(cr.params, cr.drop), ""
	}
	_, err = w.send(ctx, cr)
	return err
}

// isQueryParam reports whether name is a signing parameter of the query,
// which is removed after signing rather than before.
func isQueryParam(name string) bool {
	switch name {
	case "authToken", "timeStamp", "signature", "timestamp", "nonce":
		return true
	}
	return false
}

func (w *world) newOrder(ctx context.Context) error {
	return w.sendsPurchaseForNewOrder(ctx, craft{})
}

func (w *world) newOrderForged(ctx context.Context) error {
	return w.sendsPurchaseForNewOrder(ctx, craft{forged: true})
}

func (w *world) newOrderAged(ctx context.Context, seconds int, direction string) error {
	age := time.Duration(seconds) * time.Second
	if direction == "ahead" {
		age = -age
	}
	if age != freshEdge {
		return w.sendsPurchaseForNewOrder(ctx, craft{age: age})
	}
	// 60 s old when it leaves, as near the edge as a network allows. A
	// refusal shows a window too narrow only if the merchant read its clock
	// within the allowance; an answer that took longer may have come from
	// a merchant that saw the call past 60 s (a loaded machine), so that
	// try proves nothing and is made again, for a new order.
	for try := 1; ; try++ {
		if err := w.sendsPurchaseForNewOrder(ctx, craft{age: age - transitAllowance}); err != nil {
			return err
		}
		a := w.last.attempt
		if a.Verdict == simulator.Success || a.FinishedAt.Sub(a.StartedAt) <= transitAllowance || try == edgeTries {
			return nil
		}
	}
}

// freshEdge is the V2 freshness window (callbacks.md §4.1); a request that
// old must still be accepted. It cannot be hit exactly across a network:
// the request is signed transitAllowance later than the edge, so that it
// is at most 60 s old when the merchant reads its clock.
const (
	freshEdge        = 60 * time.Second
	transitAllowance = time.Second
	// edgeTries bounds the tries at the edge whose answers came too slowly
	// to tell.
	edgeTries = 5
)

func (w *world) newOrderWithout(ctx context.Context, name string) error {
	return w.sendsPurchaseForNewOrder(ctx, craft{drop: name, missing: name})
}

// sendsAgain sends the last callback of a kind again, freshly signed,
// with a new businessId where it has one, as the marketplace's retries and
// the buyer's "resource details" (V1) do (callbacks.md §2.4, §9.2).
func (w *world) sendsAgain(ctx context.Context, kind string) error {
	return w.sendAgain(ctx, kind, 0)
}

// sendAgain sends the last callback of a kind again, signed age before it
// leaves.
func (w *world) sendAgain(ctx context.Context, kind string, age time.Duration) error {
	m, err := w.latestOf(ctx, kind)
	if err != nil {
		return err
	}
	ms := members(m.Params)
	if _, ok := lookup(ms, "businessId"); ok {
		ms = with(ms, "businessId", newID())
	}
	_, err = w.send(ctx, craft{activity: m.Activity, params: ms, age: age})
	return err
}

func (w *world) sendsAgainForged(ctx context.Context, kind string) error {
	m, err := w.latestOf(ctx, kind)
	if err != nil {
		return err
	}
	_, err = w.send(ctx, craft{activity: m.Activity, params: members(m.Params), forged: true})
	return err
}

// sendsThatAgain sends the last crafted call again with a new businessId.
func (w *world) sendsThatAgain(ctx context.Context) error {
	if w.lastRequest == nil {
		return fmt.Errorf("no call was sent by the scenario yet")
	}
	cr := w.lastCraft
	cr.params = with(cr.params, "businessId", newID())
	_, err := w.send(ctx, cr)
	return err
}

// replays sends the last crafted request again, byte for byte: the same
// signature, timestamp and nonce.
func (w *world) replays(ctx context.Context) error {
	if w.lastRequest == nil {
		return fmt.Errorf("no call was sent by the scenario yet")
	}
	w.lastCraft.replayed = true
	w.sendRequest(ctx, w.lastCraft, w.lastRequest)
	return nil
}

// anotherSpecification sends the purchase of the same order for another
// specification: V1 another productId, V2 another order line
// (callbacks.md §2.2, §10).
func (w *world) anotherSpecification(ctx context.Context) error {
	m, err := w.purchaseTemplate(ctx)
	if err != nil {
		return err
	}
	ms := with(members(m.Params), "businessId", newID())
	if w.product.Protocol == simulator.V1 {
		id, sku, ok := w.target.otherSpecification(w.product)
		if !ok {
			return fmt.Errorf("%w: the catalogue has one %s product, %s, and a V1 order of two specifications needs two", godog.ErrSkip, w.product.ChargingMode, w.product.ID)
		}
		ms = with(ms, "productId", id)
		ms = with(ms, "skuCode", sku)
	} else {
		if w.calls != nil {
			return fmt.Errorf("%w: kgsim's orders have one line, so the order query could not answer for a second one: certify this without --open-api-addr", godog.ErrSkip)
		}
		ms = with(ms, "orderLineId", m.OrderID+"-000002")
	}
	_, err = w.send(ctx, craft{activity: m.Activity, params: ms})
	return err
}

// aboutUnknownInstance sends a freeze, renewal or release for an instance
// the merchant never created.
func (w *world) aboutUnknownInstance(ctx context.Context, what string) error {
	activity, ms := unknownInstance(w.product.Protocol, what, w.clock.Now())
	if what == "change check" {
		// The target specification: the product's own (§5.14).
		ms = append(ms, member{"productInfo", fmt.Sprintf(`{"skuCode":%q,"productId":%q,"linearValue":1}`, w.product.SKUCode, w.product.ID)})
	}
	_, err := w.send(ctx, craft{activity: activity, params: ms, unknown: true})
	return err
}

// latestOf returns the scenario's last callback of a kind.
func (w *world) latestOf(ctx context.Context, kind string) (simulator.Message, error) {
	ms, err := w.messages(ctx)
	if err != nil {
		return simulator.Message{}, err
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if isKind(ms[i], kind) {
			return ms[i], nil
		}
	}
	return simulator.Message{}, fmt.Errorf("the marketplace sent no %s callback in this scenario", kind)
}

// isKind reports whether a callback is of a kind the steps name: what it
// does for the buyer, whatever its protocol calls it.
func isKind(m simulator.Message, kind string) bool {
	param := func(name string) string { return gjson.GetBytes(m.Params, name).String() }
	conversion := param("scene") == string(simulator.TrialToFormal) || param("trialToFormal") == "1"
	event := activity.Of(m).Event
	switch kind {
	case "purchase":
		return event == activity.Purchase
	case "renewal":
		return event == activity.Renewal && !conversion
	case "conversion":
		return event == activity.Renewal && conversion
	case "freeze":
		return event == activity.Expiry || event == activity.StatusChange && (param("instanceStatus") == "FREEZE" || param("status") == "FREEZE")
	case "unfreeze":
		return event == activity.StatusChange && (param("instanceStatus") == "NORMAL" || param("status") == "UNFREEZE")
	case "upgrade":
		return event == activity.UpgradeEvent
	case "change check":
		return event == activity.ChangeCheck
	case "release":
		return event == activity.Release
	case "query":
		return event == activity.Query && m.Kind != simulator.KindPoll
	case "License":
		return event == activity.License
	}
	return false
}
