package engine

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kgsim/kgsim/simulator"
)

// snapshot is everything an action could write.
func (w *world) snapshot() string {
	w.t.Helper()
	var b strings.Builder
	msgs, err := w.store.Messages(w.ctx, simulator.MessageFilter{})
	if err != nil {
		w.t.Fatal(err)
	}
	orders, err := w.store.Orders(w.ctx, simulator.OrderFilter{})
	if err != nil {
		w.t.Fatal(err)
	}
	insts, err := w.store.Instances(w.ctx, simulator.InstanceFilter{})
	if err != nil {
		w.t.Fatal(err)
	}
	products, err := w.store.Products(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	notices, err := w.store.Notices(w.ctx, simulator.NoticeFilter{})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, v := range []any{msgs, orders, insts, products, notices} {
		j, _ := json.Marshal(v)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// The instances a refusal can be tried on, each made in its state.
// They are of an online License product, on which every action exists.
func (w *world) provisioning() string {
	_, inst := w.buy(Purchase{ProductID: "v2-license"})
	return inst.Key
}

func (w *world) released() string {
	inst := w.active(Purchase{ProductID: "v2-license"}, "ins-released")
	w.ok(w.e.Unsubscribe(w.ctx, inst.Key))
	return inst.Key
}

func (w *world) neverProvisioned() string {
	_, inst := w.buy(Purchase{ProductID: "v2-license"})
	w.answer(w.last(inst.Key), simulator.OrderFailed, "")
	return inst.Key
}

func (w *world) activeKey(productID string, trial bool) func() string {
	return func() string {
		return w.active(Purchase{ProductID: productID, Trial: trial}, "ins-"+productID).Key
	}
}

func (w *world) frozenForViolation() string {
	key := w.activeKey("v2-year", false)()
	w.must(w.e.Freeze(w.ctx, key))
	return key
}

// actions are every action on an existing instance, with valid input.
func actions(w *world) map[string]func(key string) error {
	return map[string]func(string) error{
		"renew":              func(k string) error { return renew(Renewal{})(w, k) },
		"convertTrial":       func(k string) error { _, err := w.e.ConvertTrial(w.ctx, k, Renewal{}); return err },
		"unsubscribeRenewal": func(k string) error { _, err := w.e.UnsubscribeRenewal(w.ctx, k); return err },
		"changeSpec":         func(k string) error { _, err := w.e.ChangeSpec(w.ctx, k, Change{SKUCode: "other"}); return err },
		"upgrade":            func(k string) error { return upgradeTo(Change{SKUCode: "other"})(w, k) },
		"unsubscribe":        func(k string) error { _, err := w.e.Unsubscribe(w.ctx, k); return err },
		"freeze":             func(k string) error { return w.e.Freeze(w.ctx, k) },
		"unfreeze":           func(k string) error { return w.e.Unfreeze(w.ctx, k) },
		"query":              func(k string) error { _, err := w.e.Query(w.ctx, k); return err },
		"requestLicense":     func(k string) error { _, err := w.e.RequestLicense(w.ctx, k, LicenseRequest{}); return err },
	}
}

// renew and upgradeTo are those actions with the input given.
func renew(r Renewal) func(w *world, key string) error {
	return func(w *world, key string) error { _, err := w.e.Renew(w.ctx, key, r); return err }
}

func upgradeTo(c Change) func(w *world, key string) error {
	return func(w *world, key string) error { _, err := w.e.Upgrade(w.ctx, key, c); return err }
}

type refusal struct {
	name   string
	setup  func(w *world) string // makes the state, returns the instance key
	action func(w *world, key string) error
	code   string
	field  string
	says   string // a part of the message: the state and what is allowed
}

func TestRefusalsWriteAndSendNothing(t *testing.T) {
	var cases []refusal
	// Nothing can be done to an instance the merchant does not have.
	for _, state := range []struct {
		name  string
		setup func(w *world) string
		says  string
	}{
		{"PROVISIONING", (*world).provisioning, "is still PROVISIONING"},
		{"RELEASED", (*world).released, "was RELEASED"},
		{"NEVER_PROVISIONED", (*world).neverProvisioned, "was NEVER_PROVISIONED"},
	} {
		for name := range actions(&world{}) {
			says := state.says
			cases = append(cases, refusal{
				name: name + " of a " + state.name + " instance", setup: state.setup,
				action: func(w *world, key string) error { return actions(w)[name](key) },
				code:   simulator.ECONFLICT, field: "instanceKey", says: says,
			})
		}
	}
	act := func(name string) func(w *world, key string) error {
		return func(w *world, key string) error { return actions(w)[name](key) }
	}
	nothing := func(*world) string { return "" }
	cases = append(cases, []refusal{
		{"renew of a non-periodic product", func(w *world) string { return w.activeKey("v2-once", false)() }, act("renew"),
			simulator.ECONFLICT, "instanceKey", "applies to PERIOD (yearly/monthly) products only"},
		{"renew of a trial", func(w *world) string { return w.activeKey("v2-year", true)() }, act("renew"),
			simulator.ECONFLICT, "instanceKey", "is a trial"},
		{"convert of a non-trial", func(w *world) string { return w.activeKey("v2-year", false)() }, act("convertTrial"),
			simulator.ECONFLICT, "instanceKey", "is not a trial"},
		{"changeSpec on V1", func(w *world) string { return w.activeKey("v1-month", false)() }, act("changeSpec"),
			simulator.ECONFLICT, "instanceKey", "V2 only"},
		{"requestLicense on a SaaS product", func(w *world) string { return w.activeKey("v2-year", false)() }, act("requestLicense"),
			simulator.ECONFLICT, "instanceKey", "not an online License product"},
		{"requestLicense on a V1 License product", func(w *world) string { return w.activeKey("v1-license", false)() }, act("requestLicense"),
			simulator.ECONFLICT, "instanceKey", "not an online License product"},
		{"requestLicense on a frozen instance", func(w *world) string {
			key := w.activeKey("v2-license", false)()
			w.must(w.e.Freeze(w.ctx, key))
			return key
		}, act("requestLicense"), simulator.ECONFLICT, "instanceKey", "is FROZEN (violation); requesting a License is allowed only for ACTIVE instances"},
		{"unsubscribeRenewal without a renewal", func(w *world) string { return w.activeKey("v2-year", false)() }, act("unsubscribeRenewal"),
			simulator.ECONFLICT, "instanceKey", "no renewal period to unsubscribe"},
		{"unsubscribeRenewal of a period begun", func(w *world) string {
			key := w.activeKey("v2-month", false)()
			w.ok(w.e.Renew(w.ctx, key, Renewal{}))
			w.clock.Set(w.clock.Now().AddDate(0, 1, 1)) // into the renewed month
			return key
		}, act("unsubscribeRenewal"), simulator.ECONFLICT, "instanceKey", "cannot be unsubscribed"},
		{"freeze twice", (*world).frozenForViolation, act("freeze"), simulator.ECONFLICT, "instanceKey", "already frozen for a violation"},
		{"unfreeze an active instance", func(w *world) string { return w.activeKey("v2-year", false)() }, act("unfreeze"),
			simulator.ECONFLICT, "instanceKey", "is ACTIVE; only an instance frozen for a violation"},
		{"upgrade a frozen instance", (*world).frozenForViolation, act("upgrade"),
			simulator.ECONFLICT, "instanceKey", "upgrade is allowed only for ACTIVE instances"},
		{"upgrade to the same spec", func(w *world) string { return w.activeKey("v2-year", false)() },
			upgradeTo(Change{}),
			simulator.EINVALID, "skuCode", "already has product v2-year and SKU v2-year-basic"},
		{"upgrade with a period number", func(w *world) string { return w.activeKey("v2-year", false)() },
			upgradeTo(Change{SKUCode: "x", PeriodNumber: 1}),
			simulator.EINVALID, "periodNumber", "an upgrade keeps the instance's period"},
		{"renew to another protocol", func(w *world) string { return w.activeKey("v2-year", false)() },
			renew(Renewal{ProductID: "v1-year"}),
			simulator.EINVALID, "productId", "cannot change protocol"},
		{"renew to a non-periodic product", func(w *world) string { return w.activeKey("v2-year", false)() },
			renew(Renewal{ProductID: "v2-once"}),
			simulator.EINVALID, "productId", "a renewal needs a PERIOD product"},
		{"renew for 100 periods", func(w *world) string { return w.activeKey("v2-year", false)() },
			renew(Renewal{PeriodNumber: 100}),
			simulator.EINVALID, "periodNumber", "must be 1 to 99"},
		{"renew with a malformed amount", func(w *world) string { return w.activeKey("v2-year", false)() },
			renew(Renewal{Amount: "1.2345"}),
			simulator.EINVALID, "amount", "at most 3 decimals"},
		{"renew an unknown instance", nothing, func(w *world, _ string) error { return act("renew")(w, "CS2501151003XXXXX-000001") },
			simulator.ENOTFOUND, "instanceKey", "no instance"},
		{"freeze without an instance key", nothing, act("freeze"), simulator.EINVALID, "instanceKey", "is required"},
	}...)
	buy := func(pu Purchase) func(w *world, _ string) error {
		return func(w *world, _ string) error { _, _, err := w.e.Buy(w.ctx, pu); return err }
	}
	cases = append(cases, []refusal{
		{"buy a FROZEN_HIDDEN product", nothing, buy(Purchase{ProductID: "v2-hidden", CustomerID: "hwc-plain"}),
			simulator.ECONFLICT, "productId", "is FROZEN_HIDDEN and cannot be bought"},
		{"buy a DELISTED product", nothing, buy(Purchase{ProductID: "v2-delisted", CustomerID: "hwc-plain"}),
			simulator.ECONFLICT, "productId", "is DELISTED and cannot be bought"},
		{"buy an unknown product", nothing, buy(Purchase{ProductID: "nope", CustomerID: "hwc-plain"}),
			simulator.ENOTFOUND, "productId", `no product "nope"`},
		{"buy for an unknown customer", nothing, buy(Purchase{ProductID: "v2-year", CustomerID: "nobody"}),
			simulator.ENOTFOUND, "customerId", `no customer "nobody"`},
		{"buy without a customer", nothing, buy(Purchase{ProductID: "v2-year"}), simulator.EINVALID, "customerId", "is required"},
		{"buy for a customer ID longer than any", nothing, buy(Purchase{ProductID: "v2-year", CustomerID: strings.Repeat("c", 100_000)}),
			simulator.EINVALID, "customerId", "has 100000 characters; at most 64"},
		{"buy a product ID with a line break", nothing, buy(Purchase{ProductID: "v2-year\r\nX-Forged: 1", CustomerID: "hwc-plain"}),
			simulator.EINVALID, "productId", "is not a letter, digit"},
		{"buy a trial of a product without one", nothing, buy(Purchase{ProductID: "v2-month", CustomerID: "hwc-plain", Trial: true}),
			simulator.EINVALID, "trial", "offers no trial"},
		{"buy periods of a one-time product", nothing, buy(Purchase{ProductID: "v2-once", CustomerID: "hwc-plain", PeriodNumber: 2}),
			simulator.EINVALID, "periodNumber", "only a formal purchase of a PERIOD product"},
		{"buy with a negative amount", nothing, buy(Purchase{ProductID: "v2-year", CustomerID: "hwc-plain", Amount: "-1"}),
			simulator.EINVALID, "amount", "is not an amount"},
		{"buy a negative disk", nothing, buy(Purchase{ProductID: "v2-year", CustomerID: "hwc-plain", DiskSize: -1}),
			simulator.EINVALID, "diskSize", "must be 0 to 9999999"},
	}...)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			key := c.setup(w)
			before, wakes := w.snapshot(), w.wakes
			err := c.action(w, key)
			e, ok := err.(*simulator.Error)
			if !ok {
				t.Fatalf("got %v, want a %s error", err, c.code)
			}
			if e.Code != c.code || e.Field != c.field || !strings.Contains(e.Message, c.says) {
				t.Errorf("got %s %q: %q\nwant %s %q: ...%q...", e.Code, e.Field, e.Message, c.code, c.field, c.says)
			}
			if after := w.snapshot(); after != before {
				t.Errorf("the refused action wrote:\nbefore %s\nafter  %s", before, after)
			}
			if w.wakes != wakes {
				t.Errorf("Notify called after a refusal")
			}
		})
	}
}
