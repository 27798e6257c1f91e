package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// licenseWorld is a world whose License products belong to a seller, and
// whose SaaS product v2-month does too.
func licenseWorld(t *testing.T) *world {
	w := newWorld(t)
	w.must(w.store.PutSeller(w.ctx, simulator.Seller{ID: "S1", Name: "Seller", AK: "AK1", SK: "SK1"}))
	var owned []simulator.Product
	for _, id := range []string{"v1-license", "v2-license", "v2-month"} {
		p := w.product(id)
		p.SellerID = "S1"
		owned = append(owned, p)
	}
	// As the admin API gives the world's products their seller: Load
	// only adds what the store lacks.
	for _, p := range owned {
		w.must(w.store.PutProduct(w.ctx, p))
	}
	return w
}

// states returns each code's state, in the order of codes.
func (w *world) states(codes ...string) []simulator.LicenseState {
	w.t.Helper()
	var out []simulator.LicenseState
	for _, c := range codes {
		out = append(out, read(w, w.store.License, c).State)
	}
	return out
}

func (w *world) expectLicenses(what string, codes []string, want ...simulator.LicenseState) {
	w.t.Helper()
	got := w.states(codes...)
	for i := range want {
		if got[i] != want[i] {
			w.t.Errorf("%s: codes are %v, want %v", what, got, want)
			return
		}
	}
}

func TestCreateLicense(t *testing.T) {
	w := licenseWorld(t)
	o, _ := w.buy(Purchase{ProductID: "v2-license", LinearAmount: 3})
	l, err := w.e.CreateLicense(w.ctx, "v2-license", o.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := simulator.License{Code: l.Code, ProductID: "v2-license", OrderID: o.ID, InstanceKey: o.InstanceKey, State: simulator.LicenseUnclaimed,
		Amount: 3, CreatedAt: t0, UpdatedAt: t0}
	if l != want {
		t.Errorf("created\n %+v\nwant\n %+v", l, want)
	}
	if len(l.Code) != 32 || !strings.HasPrefix(l.Code, "PL") || strings.Trim(l.Code[2:], licenseAlphabet) != "" {
		t.Errorf("code %q: want PL and 30 upper-case letters and digits", l.Code)
	}
	if stored := read(w, w.store.License, l.Code); stored != l {
		t.Errorf("stored %+v, want %+v", stored, l)
	}
	standalone, err := w.e.CreateLicense(w.ctx, "v1-license", "")
	if err != nil || standalone.OrderID != "" || standalone.InstanceKey != "" || standalone.Amount != 1 || standalone.Code == l.Code {
		t.Errorf("a code tied to no order: %+v, %v", standalone, err)
	}

	_, yearly := w.buy(Purchase{ProductID: "v2-year"})
	released := w.active(Purchase{ProductID: "v2-license"}, "ins-released")
	w.ok(w.e.Unsubscribe(w.ctx, released.Key))
	renewal := w.ok(w.e.Renew(w.ctx, w.active(Purchase{ProductID: "v2-license"}, "ins-renewed").Key, Renewal{}))
	for _, tc := range []struct {
		name, product, order string
		code, field, says    string
	}{
		{"no product", "", "", simulator.EINVALID, "productId", "required"},
		{"unknown product", "nope", "", simulator.ENOTFOUND, "productId", `no product "nope"`},
		{"a SaaS product", "v2-month", "", simulator.EINVALID, "productId", "not a License product"},
		{"a License product without seller", "v2-license-nobody", "", simulator.EINVALID, "productId", "no sellerId"},
		{"unknown order", "v2-license", "CS-NONE", simulator.ENOTFOUND, "orderId", `no order "CS-NONE"`},
		{"another product's order", "v2-license", yearly.OrderID, simulator.EINVALID, "orderId", "is of product v2-year, not v2-license"},
		{"a renewal order", "v2-license", renewal.ID, simulator.EINVALID, "orderId", "is a RENEWAL order"},
		{"a released instance", "v2-license", released.OrderID, simulator.ECONFLICT, "orderId", "was RELEASED"},
	} {
		if tc.product == "v2-license-nobody" {
			p := w.product("v2-license")
			p.ID, p.SellerID = tc.product, ""
			w.must(w.e.Load(w.ctx, []simulator.Product{p}, nil))
		}
		_, err := w.e.CreateLicense(w.ctx, tc.product, tc.order)
		e, ok := err.(*simulator.Error)
		if !ok || e.Code != tc.code || e.Field != tc.field || !strings.Contains(e.Message, tc.says) {
			t.Errorf("%s: %v; want %s on %s saying %q", tc.name, err, tc.code, tc.field, tc.says)
		}
	}
	all, err := w.store.Licenses(w.ctx, simulator.LicenseFilter{})
	if err != nil || len(all) != 2 {
		t.Errorf("after the refusals the store has %d codes (%v), want the 2 created", len(all), err)
	}
}

func TestMoveLicense(t *testing.T) {
	w := licenseWorld(t)
	l, err := w.e.CreateLicense(w.ctx, "v1-license", "")
	w.must(err)
	w.clock.Set(t0.Add(time.Hour))
	claimed, err := w.e.MoveLicense(w.ctx, l.Code, ClaimLicense)
	if err != nil || claimed.State != simulator.LicenseClaimed || !claimed.ClaimedAt.Equal(w.clock.Now()) || !claimed.UpdatedAt.Equal(w.clock.Now()) {
		t.Fatalf("claim: %+v, %v", claimed, err)
	}
	for _, tc := range []struct {
		action LicenseAction
		want   simulator.LicenseState
		code   string // the refusal's, or "" when allowed
	}{
		{ClaimLicense, "", simulator.ECONFLICT}, // claimed already
		{"activate", "", simulator.EINVALID},    // the merchant's act, not the admin API's
		{ExpireLicense, simulator.LicenseExpired, ""},
		{ExpireLicense, "", simulator.ECONFLICT},
		{ReleaseLicense, simulator.LicenseReleased, ""},
		{ReleaseLicense, "", simulator.ECONFLICT}, // final
		{ClaimLicense, "", simulator.ECONFLICT},
	} {
		got, err := w.e.MoveLicense(w.ctx, l.Code, tc.action)
		if simulator.ErrorCode(err) != tc.code || tc.code == "" && got.State != tc.want {
			t.Errorf("%s: %s, %v; want state %q, error %q", tc.action, got.State, err, tc.want, tc.code)
		}
	}
	if _, err := w.e.MoveLicense(w.ctx, "PLNONE", ClaimLicense); simulator.ErrorCode(err) != simulator.ENOTFOUND {
		t.Errorf("an unknown code: %v, want ENOTFOUND", err)
	}
}

// The codes of an instance follow it: expired when it expires, back where
// they were when a renewal unfreezes it, released with it; a code released
// or expired by hand stays so.
func TestLicensesFollowTheInstance(t *testing.T) {
	w := licenseWorld(t)
	inst := w.active(Purchase{ProductID: "v2-license"}, "ins-1")
	var codes []string
	for range 4 {
		l, err := w.e.CreateLicense(w.ctx, "v2-license", inst.OrderID)
		w.must(err)
		codes = append(codes, l.Code)
	}
	// codes[0] stays unclaimed, codes[1] is claimed, codes[2] activated
	// (as the open API does it), codes[3] released by hand.
	w.ok1(w.e.MoveLicense(w.ctx, codes[1], ClaimLicense))
	w.ok1(w.e.MoveLicense(w.ctx, codes[2], ClaimLicense))
	activated := read(w, w.store.License, codes[2])
	activated.State, activated.ActivatedAt = simulator.LicenseActivated, w.clock.Now()
	w.must(w.store.PutLicense(w.ctx, activated))
	w.ok1(w.e.MoveLicense(w.ctx, codes[3], ReleaseLicense))

	w.runDue(inst.ExpireAt)
	w.expectState(inst.Key, simulator.Frozen, simulator.FrozenExpired, inst.ExpireAt.Add(retention))
	w.expectLicenses("after the expiry", codes, simulator.LicenseExpired, simulator.LicenseExpired, simulator.LicenseExpired, simulator.LicenseReleased)

	w.ok(w.e.Renew(w.ctx, inst.Key, Renewal{}))
	w.expectLicenses("after the renewal", codes, simulator.LicenseUnclaimed, simulator.LicenseClaimed, simulator.LicenseActivated, simulator.LicenseReleased)

	// A freeze for a violation is no expiry: the codes stay.
	w.must(w.e.Freeze(w.ctx, inst.Key))
	w.expectLicenses("after a violation freeze", codes, simulator.LicenseUnclaimed, simulator.LicenseClaimed, simulator.LicenseActivated, simulator.LicenseReleased)
	w.must(w.e.Unfreeze(w.ctx, inst.Key))

	w.ok1(w.e.MoveLicense(w.ctx, codes[0], ExpireLicense))
	w.ok(w.e.Unsubscribe(w.ctx, inst.Key))
	w.expectLicenses("after the unsubscription", codes, simulator.LicenseReleased, simulator.LicenseReleased, simulator.LicenseReleased, simulator.LicenseReleased)
}

func TestLicensesReleasedAtTheEndOfRetention(t *testing.T) {
	w := licenseWorld(t)
	inst := w.active(Purchase{ProductID: "v2-license"}, "ins-1")
	l, err := w.e.CreateLicense(w.ctx, "v2-license", inst.OrderID)
	w.must(err)
	w.runDue(inst.ExpireAt)
	w.expectLicenses("expired", []string{l.Code}, simulator.LicenseExpired)
	w.runDue(inst.ExpireAt.Add(retention))
	w.expectState(inst.Key, simulator.Released, "", time.Time{})
	w.expectLicenses("released", []string{l.Code}, simulator.LicenseReleased)
}

// A code created while the purchase is provisioning is released when the
// purchase fails: the instance never existed.
func TestLicensesOfAFailedPurchase(t *testing.T) {
	w := licenseWorld(t)
	o, inst := w.buy(Purchase{ProductID: "v1-license"})
	l, err := w.e.CreateLicense(w.ctx, "v1-license", o.ID)
	w.must(err)
	w.answer(w.last(inst.Key), simulator.OrderFailed, `{"resultCode":"000005"}`)
	w.expectState(inst.Key, simulator.NeverProvisioned, "", time.Time{})
	w.expectLicenses("after the failed purchase", []string{l.Code}, simulator.LicenseReleased)
}

func (w *world) ok1(l simulator.License, err error) simulator.License {
	w.t.Helper()
	w.must(err)
	return l
}
