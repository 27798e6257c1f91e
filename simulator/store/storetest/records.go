package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

func product(id string) simulator.Product {
	return simulator.Product{
		ID: id, SKUCode: "SKU-" + id, Name: "Product " + id, ChargingMode: simulator.Period, PeriodType: "month",
		URL: "http://127.0.0.1:1/produce", Protocol: simulator.V2, AccessKey: "key-" + id,
	}
}

func productRoundTrip(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	full := simulator.Product{
		ID: "P1", SKUCode: "SKU1", Name: "企业网盘", ChargingMode: simulator.Period, PeriodType: "year", Trial: true, License: true,
		URL: "https://isv.example.com/produce?x=1", Protocol: simulator.V1, AccessKey: "secret", EncryptType: "2", DialTests: true,
		RequireBodySign: true, TrialDays: 14, NoticeTo: []string{"ops@isv.example.com", "cs@isv.example.com"},
		DebugCases: []simulator.DebugCase{
			// Byte for byte: the spacing of a saved case's parameters stays.
			{Activity: "newInstance", Params: json.RawMessage(`{ "orderId" : "CS1",  "testFlag":"1" }`)},
			{Activity: "queryInstance"},
		},
		Status: simulator.FrozenHidden, SellerID: "S1",
	}
	// Empty lists stay empty lists, absent ones absent.
	empty := product("P2")
	empty.NoticeTo, empty.DebugCases = []string{}, []simulator.DebugCase{{Activity: "refreshInstance", Params: json.RawMessage{}}}
	none := product("P3")
	check(t, s.PutProduct(ctx, none))
	check(t, s.PutProduct(ctx, full))
	check(t, s.PutProduct(ctx, empty))
	for _, want := range []simulator.Product{full, empty, none} {
		if got, err := s.Product(ctx, want.ID); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("product %s read back\n got %#v, %v\nwant %#v", want.ID, got, err, want)
		}
	}
	// An upsert replaces the product and keeps its place in the catalogue.
	none.Status, none.NoticeTo = simulator.Delisted, []string{"ops@isv.example.com"}
	check(t, s.PutProduct(ctx, none))
	got, err := s.Products(ctx)
	if err != nil || !reflect.DeepEqual(got, []simulator.Product{none, full, empty}) {
		t.Errorf("products (in the order first stored)\n got %+v, %v\nwant %+v", got, err, []simulator.Product{none, full, empty})
	}
}

func customerRoundTrip(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	full := simulator.Customer{ID: "C1", Name: "华为测试", UserID: "U1", UserName: "buyer", MobilePhone: "13800000000", Email: "buyer@example.com"}
	bare := simulator.Customer{ID: "C0", Name: "Bare"}
	check(t, s.PutCustomer(ctx, full))
	check(t, s.PutCustomer(ctx, bare))
	full.Email = "new@example.com"
	check(t, s.PutCustomer(ctx, full))
	if got, err := s.Customer(ctx, "C1"); err != nil || got != full {
		t.Errorf("customer C1 = %+v, %v; want %+v", got, err, full)
	}
	got, err := s.Customers(ctx)
	if err != nil || !reflect.DeepEqual(got, []simulator.Customer{full, bare}) {
		t.Errorf("customers = %+v, %v; want C1 then C0, as first stored", got, err)
	}
}

func order(id, productID string, created time.Time) simulator.Order {
	return simulator.Order{
		ID: id, LineID: id + "-000001", Kind: simulator.NewPurchase, InstanceKey: id + "-000001", ProductID: productID,
		SKUCode: "SKU-" + productID, CustomerID: "C1", State: simulator.OrderProcessing, CreatedAt: created,
	}
}

func orderRoundTrip(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	full := simulator.Order{
		ID: "CS2", LineID: "CS2-000001", Kind: simulator.RenewalChange, InstanceKey: "CS1-000001", ProductID: "P1", SKUCode: "SKU1",
		CustomerID: "C1", State: simulator.OrderStalled, Trial: true, PeriodType: "year", PeriodNumber: 3, Amount: "99.005",
		LinearAmount: 5, DiskSize: 100, Bandwidth: 20,
		ExpireTime: time.Date(2028, 1, 1, 0, 0, 0, 1, shanghai), CreatedAt: t0.In(shanghai), SettledAt: t0.Add(time.Nanosecond),
	}
	check(t, s.PutOrder(ctx, full))
	if got, err := s.Order(ctx, "CS2"); err != nil || !reflect.DeepEqual(got, inUTC(full)) {
		t.Errorf("order read back\n got %+v, %v\nwant %+v", got, err, inUTC(full))
	}
	bare := simulator.Order{ID: "CS3"}
	check(t, s.PutOrder(ctx, bare))
	if got, err := s.Order(ctx, "CS3"); err != nil || !reflect.DeepEqual(got, bare) {
		t.Errorf("order with only an ID read back as %+v, %v", got, err)
	}
	full.State, full.SettledAt = simulator.OrderCompleted, t0.Add(time.Hour)
	check(t, s.PutOrder(ctx, full))
	if got, err := s.Order(ctx, "CS2"); err != nil || !reflect.DeepEqual(got, inUTC(full)) {
		t.Errorf("order after an upsert\n got %+v, %v\nwant %+v", got, err, inUTC(full))
	}
	// Every column replaced, those a listing finds it by too.
	full = simulator.Order{
		ID: "CS2", LineID: "CS2-000002", Kind: simulator.Upgrade, InstanceKey: "CS9-000001", ProductID: "P2", SKUCode: "SKU2",
		CustomerID: "C2", State: simulator.OrderRefused, PeriodType: "month", PeriodNumber: 1, Amount: "1", LinearAmount: 6,
		DiskSize: 101, Bandwidth: 21, ExpireTime: t0.Add(2 * time.Hour), CreatedAt: t0.Add(time.Minute), SettledAt: t0.Add(3 * time.Hour),
	}
	check(t, s.PutOrder(ctx, full))
	if got, err := s.Order(ctx, "CS2"); err != nil || !reflect.DeepEqual(got, inUTC(full)) {
		t.Errorf("order with every column replaced\n got %+v, %v\nwant %+v", got, err, inUTC(full))
	}
	for _, f := range []simulator.OrderFilter{{CustomerID: "C1"}, {InstanceKey: "CS1-000001"}} {
		if os, err := s.Orders(ctx, f); err != nil || len(os) != 0 {
			t.Errorf("orders of %+v after CS2 moved: %v, %v", f, keys(os, func(o simulator.Order) string { return o.ID }), err)
		}
	}
	for _, f := range []simulator.OrderFilter{{CustomerID: "C2"}, {InstanceKey: "CS9-000001"}, {ProductID: "P2", State: simulator.OrderRefused}} {
		os, err := s.Orders(ctx, f)
		same(t, fmt.Sprintf("orders of %+v", f), keys(os, func(o simulator.Order) string { return o.ID }), err, "CS2")
	}
}

// Every filter field narrows the listing; orders go oldest first by
// CreatedAt, ties in the order first stored, which an upsert keeps.
func orderFilters(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	settled := func(o simulator.Order, state simulator.OrderState, at time.Time) simulator.Order {
		o.State, o.SettledAt = state, at
		return o
	}
	o5 := order("CS5", "P2", t0.Add(3*time.Hour))
	o5.CustomerID = "C2"
	o3 := order("CS3", "P1", t0.Add(time.Hour))
	o3.InstanceKey, o3.Kind = "CS1-000001", simulator.Renewal
	for _, o := range []simulator.Order{
		o5,
		settled(order("CS4", "P1", t0.Add(2*time.Hour)), simulator.OrderFailedUnsubscribed, t0.Add(5*time.Hour)),
		settled(order("CS1", "P1", t0), simulator.OrderCompleted, t0.Add(time.Minute)),
		settled(o3, simulator.OrderFailedUnsubscribed, t0.Add(4*time.Hour)),
		order("CS2", "P1", t0), // same CreatedAt as CS1, stored after it
	} {
		check(t, s.PutOrder(ctx, o))
	}
	// Stored again: CS1 keeps its place ahead of CS2.
	check(t, s.PutOrder(ctx, settled(order("CS1", "P1", t0), simulator.OrderCompleted, t0.Add(time.Minute))))
	tests := []struct {
		name string
		f    simulator.OrderFilter
		want []string
	}{
		{"all", simulator.OrderFilter{}, []string{"CS1", "CS2", "CS3", "CS4", "CS5"}},
		{"product", simulator.OrderFilter{ProductID: "P2"}, []string{"CS5"}},
		{"customer", simulator.OrderFilter{CustomerID: "C1"}, []string{"CS1", "CS2", "CS3", "CS4"}},
		{"instance", simulator.OrderFilter{InstanceKey: "CS1-000001"}, []string{"CS1", "CS3"}},
		{"state", simulator.OrderFilter{State: simulator.OrderFailedUnsubscribed}, []string{"CS3", "CS4"}},
		// At or after, never an unsettled order.
		{"settled since", simulator.OrderFilter{SettledSince: t0.Add(4 * time.Hour)}, []string{"CS3", "CS4"}},
		{"settled since, just after", simulator.OrderFilter{SettledSince: t0.Add(4*time.Hour + 1)}, []string{"CS4"}},
		{"settled since, long ago", simulator.OrderFilter{SettledSince: t0.Add(-time.Hour)}, []string{"CS1", "CS3", "CS4"}},
		{"settled since before 1970", simulator.OrderFilter{SettledSince: time.Unix(-1, 0)}, []string{"CS1", "CS3", "CS4"}},
		{"settled since, in another zone", simulator.OrderFilter{SettledSince: t0.Add(4 * time.Hour).In(shanghai)}, []string{"CS3", "CS4"}},
		{"limit", simulator.OrderFilter{Limit: 2}, []string{"CS1", "CS2"}},
		{"failed this month", simulator.OrderFilter{ProductID: "P1", State: simulator.OrderFailedUnsubscribed, SettledSince: t0, Limit: 1}, []string{"CS3"}},
		{"nothing matches", simulator.OrderFilter{State: simulator.OrderRefused}, nil},
		// CS1 and CS2 share a CreatedAt: a page boundary between them
		// neither repeats nor skips one.
		{"after", simulator.OrderFilter{Page: simulator.Page{After: "CS1"}, Limit: 2}, []string{"CS2", "CS3"}},
		{"newest first", simulator.OrderFilter{Page: simulator.Page{Newest: true}}, []string{"CS5", "CS4", "CS3", "CS2", "CS1"}},
		{"after, newest first", simulator.OrderFilter{Page: simulator.Page{After: "CS2", Newest: true}}, []string{"CS1"}},
		{"after, filtered", simulator.OrderFilter{ProductID: "P1", Page: simulator.Page{After: "CS3"}}, []string{"CS4"}},
		{"after an unknown order", simulator.OrderFilter{Page: simulator.Page{After: "CS9"}}, nil},
	}
	for _, tt := range tests {
		os, err := s.Orders(ctx, tt.f)
		same(t, tt.name, keys(os, func(o simulator.Order) string { return o.ID }), err, tt.want...)
	}
}

func instance(key, productID string, created time.Time) simulator.Instance {
	return simulator.Instance{
		Key: key, ID: "i-" + key, ProductID: productID, SKUCode: "SKU-" + productID, CustomerID: "C1", OrderID: "CS-" + key,
		OrderLineID: key, State: simulator.Active, CreatedAt: created, UpdatedAt: created,
	}
}

func instanceRoundTrip(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	full := simulator.Instance{
		Key: "CS1-000001", ID: "i-merchant-1", ProductID: "P1", SKUCode: "SKU1", CustomerID: "C1", OrderID: "CS1",
		OrderLineID: "CS1-000001", State: simulator.Frozen, Trial: true, FrozenBy: simulator.FrozenExpired,
		ExpireAt: t0.Add(24 * time.Hour).In(shanghai), NextEventAt: t0.Add(48*time.Hour + 1), CreatedAt: t0, UpdatedAt: t0.Add(time.Second),
	}
	check(t, s.PutInstance(ctx, full))
	if got, err := s.Instance(ctx, full.Key); err != nil || !reflect.DeepEqual(got, inUTC(full)) {
		t.Errorf("instance read back\n got %+v, %v\nwant %+v", got, err, inUTC(full))
	}
	bare := simulator.Instance{Key: "CS2-000001", State: simulator.Provisioning}
	check(t, s.PutInstance(ctx, bare))
	if got, err := s.Instance(ctx, bare.Key); err != nil || !reflect.DeepEqual(got, bare) {
		t.Errorf("instance with only a key read back as %+v, %v", got, err)
	}
	full.State, full.FrozenBy, full.NextEventAt = simulator.Released, "", time.Time{}
	check(t, s.PutInstance(ctx, full))
	if got, err := s.Instance(ctx, full.Key); err != nil || !reflect.DeepEqual(got, inUTC(full)) {
		t.Errorf("instance after an upsert\n got %+v, %v\nwant %+v", got, err, inUTC(full))
	}
	// Every column replaced, those a listing finds it by too.
	full = simulator.Instance{
		Key: "CS1-000001", ID: "i-merchant-2", ProductID: "P2", SKUCode: "SKU2", CustomerID: "C2", OrderID: "CS5",
		OrderLineID: "CS5-000001", State: simulator.Active, ExpireAt: t0.Add(time.Hour), NextEventAt: t0.Add(time.Hour),
		CreatedAt: t0.Add(time.Minute), UpdatedAt: t0.Add(time.Hour),
	}
	check(t, s.PutInstance(ctx, full))
	if got, err := s.Instance(ctx, full.Key); err != nil || !reflect.DeepEqual(got, inUTC(full)) {
		t.Errorf("instance with every column replaced\n got %+v, %v\nwant %+v", got, err, inUTC(full))
	}
	if is, err := s.Instances(ctx, simulator.InstanceFilter{CustomerID: "C1"}); err != nil || len(is) != 0 {
		t.Errorf("instances of C1 after CS1-000001 moved: %v, %v", keys(is, func(i simulator.Instance) string { return i.Key }), err)
	}
	is, err := s.Instances(ctx, simulator.InstanceFilter{CustomerID: "C2", ProductID: "P2", ID: "i-merchant-2"})
	same(t, "instances of C2", keys(is, func(i simulator.Instance) string { return i.Key }), err, "CS1-000001")
}

func instanceFilters(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	i4 := instance("K4", "P2", t0.Add(2*time.Hour))
	i4.CustomerID = "C2"
	i3 := instance("K3", "P1", t0.Add(time.Hour))
	i3.State = simulator.Frozen
	i2 := instance("K2", "P1", t0)
	i2.ID, i2.State = "", simulator.Provisioning
	for _, i := range []simulator.Instance{i4, i3, instance("K1", "P1", t0), i2} {
		check(t, s.PutInstance(ctx, i))
	}
	check(t, s.PutInstance(ctx, instance("K1", "P1", t0)))
	tests := []struct {
		name string
		f    simulator.InstanceFilter
		want []string
	}{
		{"all", simulator.InstanceFilter{}, []string{"K1", "K2", "K3", "K4"}},
		{"product", simulator.InstanceFilter{ProductID: "P1"}, []string{"K1", "K2", "K3"}},
		{"customer", simulator.InstanceFilter{CustomerID: "C2"}, []string{"K4"}},
		{"merchant's instanceId", simulator.InstanceFilter{ID: "i-K3"}, []string{"K3"}},
		{"state", simulator.InstanceFilter{State: simulator.Provisioning}, []string{"K2"}},
		{"limit", simulator.InstanceFilter{ProductID: "P1", Limit: 2}, []string{"K1", "K2"}},
		{"nothing matches", simulator.InstanceFilter{ProductID: "P2", State: simulator.Frozen}, nil},
		{"after", simulator.InstanceFilter{Page: simulator.Page{After: "K1"}, Limit: 2}, []string{"K2", "K3"}},
		{"newest first", simulator.InstanceFilter{Page: simulator.Page{Newest: true}}, []string{"K4", "K3", "K2", "K1"}},
		{"after, newest first", simulator.InstanceFilter{Page: simulator.Page{After: "K2", Newest: true}}, []string{"K1"}},
		{"after an unknown key", simulator.InstanceFilter{Page: simulator.Page{After: "K9"}}, nil},
	}
	for _, tt := range tests {
		is, err := s.Instances(ctx, tt.f)
		same(t, tt.name, keys(is, func(i simulator.Instance) string { return i.Key }), err, tt.want...)
	}
}

// DueInstances: scheduled instances due at now, earliest first, ties in
// the order first stored; never one with nothing scheduled.
func dueInstances(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	at := func(key string, next time.Time) simulator.Instance {
		i := instance(key, "P1", t0)
		i.NextEventAt = next
		return i
	}
	for _, i := range []simulator.Instance{
		at("late", t0.Add(2*time.Hour)),
		at("idle", time.Time{}),
		at("first", t0.Add(time.Hour)),
		at("tieB", t0.Add(90*time.Minute)),
		at("tieA", t0.Add(90*time.Minute)),
		at("future", t0.Add(3*time.Hour)),
	} {
		check(t, s.PutInstance(ctx, i))
	}
	dueAt := func(now time.Time, limit int) ([]string, error) {
		is, err := s.DueInstances(ctx, now, limit)
		return keys(is, func(i simulator.Instance) string { return i.Key }), err
	}
	got, err := dueAt(t0.Add(2*time.Hour), 10)
	same(t, "due at t0+2h", got, err, "first", "tieB", "tieA", "late")
	got, err = dueAt(t0.Add(2*time.Hour), 2)
	same(t, "due at t0+2h, limit 2", got, err, "first", "tieB")
	got, err = dueAt(t0.Add(time.Hour-1), 10)
	same(t, "due just before the first", got, err)
	got, err = dueAt(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 1)
	same(t, "the next due, asked with a now in the year 9999", got, err, "first")
	got, err = dueAt(t0.Add(2*time.Hour).In(shanghai), 10)
	same(t, "due at t0+2h in another zone", got, err, "first", "tieB", "tieA", "late")
	// Done with: its next event cleared, it is no longer due.
	check(t, s.PutInstance(ctx, at("first", time.Time{})))
	check(t, s.PutInstance(ctx, at("tieB", t0.Add(10*time.Hour))))
	got, err = dueAt(t0.Add(2*time.Hour), 10)
	same(t, "due after rescheduling", got, err, "tieA", "late")
}
