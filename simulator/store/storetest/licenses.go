package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// License codes (open-api.md §5): round trips, an update in place, the
// filters, and a code written in a transaction that fails is not stored.

func license(code, instanceKey string, state simulator.LicenseState) simulator.License {
	return simulator.License{Code: code, ProductID: "P1", OrderID: "CS-" + instanceKey, InstanceKey: instanceKey, State: state,
		Amount: 2, CreatedAt: t0, UpdatedAt: t0}
}

func licenseRoundTrip(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	a := license("PLA", "K1", simulator.LicenseActivated)
	a.CreatedAt, a.ClaimedAt, a.ActivatedAt, a.LastHeartbeatAt = t0.In(shanghai), t0.Add(time.Minute), t0.Add(time.Hour), t0.Add(2*time.Hour)
	standalone := simulator.License{Code: "PLB", ProductID: "P2", State: simulator.LicenseUnclaimed, Amount: 1, CreatedAt: t0, UpdatedAt: t0}
	check(t, s.PutLicense(ctx, a))
	check(t, s.PutLicense(ctx, standalone))
	got, err := s.License(ctx, "PLA")
	equal(t, "license PLA", got, err, inUTC(a))
	got, err = s.License(ctx, "PLB")
	equal(t, "license PLB, tied to no order", got, err, standalone)
	_, err = s.License(ctx, "PLC")
	notFound(t, "unknown license", err)

	// An update replaces the code and keeps its place.
	a.State, a.UpdatedAt = simulator.LicenseReleased, t0.Add(3*time.Hour)
	check(t, s.PutLicense(ctx, a))
	got, err = s.License(ctx, "PLA")
	equal(t, "license PLA released", got, err, inUTC(a))
	all, err := s.Licenses(ctx, simulator.LicenseFilter{})
	same(t, "licenses", keys(all, licenseCode), err, "PLA", "PLB")

	code(t, "a license without its code", s.PutLicense(ctx, simulator.License{ProductID: "P1"}), simulator.EINVALID)
}

func licenseCode(l simulator.License) string { return l.Code }

func licenseFilters(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	for _, l := range []simulator.License{
		license("PL1", "K1", simulator.LicenseClaimed), license("PL2", "K2", simulator.LicenseClaimed),
		license("PL3", "K1", simulator.LicenseExpired), {Code: "PL4", ProductID: "P2", State: simulator.LicenseClaimed, CreatedAt: t0, UpdatedAt: t0},
	} {
		check(t, s.PutLicense(ctx, l))
	}
	for _, tc := range []struct {
		name string
		f    simulator.LicenseFilter
		want []string
	}{
		{"instance K1", simulator.LicenseFilter{InstanceKey: "K1"}, []string{"PL1", "PL3"}},
		{"order CS-K2", simulator.LicenseFilter{OrderID: "CS-K2"}, []string{"PL2"}},
		{"product P1", simulator.LicenseFilter{ProductID: "P1"}, []string{"PL1", "PL2", "PL3"}},
		{"claimed", simulator.LicenseFilter{State: simulator.LicenseClaimed}, []string{"PL1", "PL2", "PL4"}},
		{"claimed, of K1", simulator.LicenseFilter{State: simulator.LicenseClaimed, InstanceKey: "K1"}, []string{"PL1"}},
		{"limit 2", simulator.LicenseFilter{Limit: 2}, []string{"PL1", "PL2"}},
		{"unknown instance", simulator.LicenseFilter{InstanceKey: "K9"}, nil},
		{"after", simulator.LicenseFilter{Page: simulator.Page{After: "PL1"}, Limit: 2}, []string{"PL2", "PL3"}},
		{"newest first", simulator.LicenseFilter{Page: simulator.Page{Newest: true}}, []string{"PL4", "PL3", "PL2", "PL1"}},
		{"after, newest first", simulator.LicenseFilter{Page: simulator.Page{After: "PL3", Newest: true}}, []string{"PL2", "PL1"}},
		{"after, filtered", simulator.LicenseFilter{State: simulator.LicenseClaimed, Page: simulator.Page{After: "PL1"}}, []string{"PL2", "PL4"}},
		{"after an unknown code", simulator.LicenseFilter{Page: simulator.Page{After: "PL9"}}, nil},
	} {
		got, err := s.Licenses(ctx, tc.f)
		same(t, tc.name, keys(got, licenseCode), err, tc.want...)
	}
	_, err := s.Licenses(ctx, simulator.LicenseFilter{Limit: -1})
	code(t, "a negative limit", err, simulator.EINVALID)
}

func licenseIsAtomic(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	fail := errors.New("refused")
	err := s.Update(ctx, func(tx simulator.Tx) error {
		if err := tx.PutLicense(ctx, license("PL1", "K1", simulator.LicenseUnclaimed)); err != nil {
			return err
		}
		if _, err := tx.License(ctx, "PL1"); err != nil {
			return err // the transaction reads its own write
		}
		return fail
	})
	if !errors.Is(err, fail) {
		t.Fatalf("Update = %v, want the error of fn", err)
	}
	_, err = s.License(ctx, "PL1")
	notFound(t, "a code written in a rolled-back transaction", err)
}
