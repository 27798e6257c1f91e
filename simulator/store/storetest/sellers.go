package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// Sellers and usage (open-api.md): round trips, the AK that must be
// unique, and usage stored once per instance and dedupe key, all or none.

func seller(id, ak string) simulator.Seller {
	return simulator.Seller{ID: id, Name: "Seller " + id, AK: ak, SK: "sk-" + id}
}

func sellerRoundTrip(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	a, b := seller("S1", "AK1"), seller("S2", "AK2")
	a.Name = "华为测试商家"
	check(t, s.PutSeller(ctx, a))
	check(t, s.PutSeller(ctx, b))
	got, err := s.Seller(ctx, "S1")
	equal(t, "seller S1", got, err, a)
	got, err = s.SellerByAK(ctx, "AK2")
	equal(t, "seller of AK2", got, err, b)
	_, err = s.Seller(ctx, "S3")
	notFound(t, "unknown seller", err)
	_, err = s.SellerByAK(ctx, "AK3")
	notFound(t, "unknown AK", err)

	// An upsert may change the AK; the old one then names no seller. The
	// seller keeps its place in the listing.
	a.AK, a.SK = "AK1-new", "sk-rotated"
	check(t, s.PutSeller(ctx, a))
	_, err = s.SellerByAK(ctx, "AK1")
	notFound(t, "AK1 after the rotation", err)
	got, err = s.SellerByAK(ctx, "AK1-new")
	equal(t, "seller of AK1-new", got, err, a)
	all, err := s.Sellers(ctx)
	same(t, "sellers", keys(all, func(s simulator.Seller) string { return s.ID }), err, "S1", "S2")

	// Another seller's AK is a conflict and changes nothing.
	c := seller("S3", "AK2")
	code(t, "a second seller with AK2", s.PutSeller(ctx, c), simulator.ECONFLICT)
	_, err = s.Seller(ctx, "S3")
	notFound(t, "S3 after the conflict", err)
	b.AK = "AK1-new"
	code(t, "S2 taking S1's AK", s.PutSeller(ctx, b), simulator.ECONFLICT)
	got, err = s.SellerByAK(ctx, "AK2")
	equal(t, "S2 after the conflict", got, err, seller("S2", "AK2"))
}

func usage(key, instanceID, sn string, accepted time.Time) simulator.UsageRecord {
	return simulator.UsageRecord{
		SellerID: "S1", API: simulator.UsageNew, InstanceKey: key, InstanceID: instanceID, ProductID: "P1",
		RecordTime: "20250101T120000Z", BeginTime: "20250101T110000Z", EndTime: "20250101T120000Z",
		UsageValue: "1.25", MeteringSN: sn, AcceptedAt: accepted,
	}
}

func usageStoredOnce(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	u1 := usage("K1", "i-1", "sn-1", t0.In(shanghai))
	u1.RelatePkgInstance = "pkg-1"
	u2 := usage("K1", "i-1", "sn-2", t0)
	other := usage("K2", "i-2", "sn-1", t0) // the same sn on another instance is another record
	n, err := s.AddUsage(ctx, u1, u2, other)
	if err != nil || n != 3 {
		t.Fatalf("AddUsage = %d, %v; want 3, nil", n, err)
	}
	// A repeat of sn-1 with other values is not stored; sn-3 is.
	repeat := usage("K1", "i-1", "sn-1", t0.Add(time.Hour))
	repeat.UsageValue = "9"
	u3 := usage("K1", "i-1", "sn-3", t0.Add(time.Hour))
	n, err = s.AddUsage(ctx, repeat, u3)
	if err != nil || n != 1 {
		t.Fatalf("AddUsage with a repeat = %d, %v; want 1, nil", n, err)
	}
	got, err := s.Usage(ctx, simulator.UsageFilter{InstanceID: "i-1"})
	want := []simulator.UsageRecord{inUTC(u1), u2, u3}
	equal(t, "usage of i-1", withoutIDs(t, got), err, want)
	got, err = s.Usage(ctx, simulator.UsageFilter{InstanceID: "i-1", Limit: 1})
	equal(t, "usage of i-1, limit 1", withoutIDs(t, got), err, want[:1])
	got, err = s.Usage(ctx, simulator.UsageFilter{SellerID: "S2"})
	equal(t, "usage of seller S2", got, err, nil)

	// The old API has no metering_sn: its records repeat by span.
	old := usage("K3", "i-3", "", t0)
	old.API = simulator.UsageOld
	again := old
	again.UsageValue = "7"
	later := old
	later.BeginTime, later.EndTime = "20250101T120000Z", "20250101T130000Z"
	n, err = s.AddUsage(ctx, old, again, later)
	if err != nil || n != 2 {
		t.Fatalf("AddUsage of old records = %d, %v; want 2, nil", n, err)
	}
	got, err = s.Usage(ctx, simulator.UsageFilter{InstanceID: "i-3"})
	equal(t, "usage of i-3", withoutIDs(t, got), err, []simulator.UsageRecord{old, later})
}

// withoutIDs checks that records read back each have an ID of their own,
// and returns them without, as they were added.
func withoutIDs(t *testing.T, records []simulator.UsageRecord) []simulator.UsageRecord {
	t.Helper()
	seen := map[string]bool{}
	out := slices.Clone(records)
	for i, u := range out {
		if !simulator.IsUsageID(u.ID) || seen[u.ID] {
			t.Errorf("usage record %d read back with ID %q", i, u.ID)
		}
		seen[u.ID] = true
		out[i].ID = ""
	}
	return out
}

// Usage records are named by their ID, and listed a page at a time after
// one of them, either way.
func usagePages(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	for _, sn := range []string{"sn-1", "sn-2", "sn-3"} {
		if _, err := s.AddUsage(ctx, usage("K1", "i-1", sn, t0)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddUsage(ctx, usage("K2", "i-2", "sn-1", t0)); err != nil {
		t.Fatal(err)
	}
	all, err := s.Usage(ctx, simulator.UsageFilter{})
	check(t, err)
	sn := func(records []simulator.UsageRecord) []string {
		return keys(records, func(u simulator.UsageRecord) string { return u.InstanceID + "/" + u.MeteringSN })
	}
	same(t, "every record", sn(all), nil, "i-1/sn-1", "i-1/sn-2", "i-1/sn-3", "i-2/sn-1")
	if len(all) != 4 {
		t.FailNow()
	}
	id := func(i int) string { return all[i].ID }
	for _, tc := range []struct {
		name string
		f    simulator.UsageFilter
		want []string
	}{
		{"by ID", simulator.UsageFilter{ID: id(1)}, []string{"i-1/sn-2"}},
		{"by ID, of another instance", simulator.UsageFilter{ID: id(1), InstanceID: "i-2"}, nil},
		{"by an unknown ID", simulator.UsageFilter{ID: "999999"}, nil},
		{"by an ID that is none", simulator.UsageFilter{ID: "sn-1"}, nil},
		{"by an ID with a leading zero", simulator.UsageFilter{ID: "0" + id(0)}, nil},
		{"after", simulator.UsageFilter{Page: simulator.Page{After: id(0)}, Limit: 2}, []string{"i-1/sn-2", "i-1/sn-3"}},
		{"newest first", simulator.UsageFilter{Page: simulator.Page{Newest: true}}, []string{"i-2/sn-1", "i-1/sn-3", "i-1/sn-2", "i-1/sn-1"}},
		{"after, newest first", simulator.UsageFilter{Page: simulator.Page{After: id(2), Newest: true}}, []string{"i-1/sn-2", "i-1/sn-1"}},
		{"after, filtered", simulator.UsageFilter{InstanceID: "i-1", Page: simulator.Page{After: id(1)}}, []string{"i-1/sn-3"}},
		{"after an unknown ID", simulator.UsageFilter{Page: simulator.Page{After: "999999"}}, nil},
		{"after an ID that is none", simulator.UsageFilter{Page: simulator.Page{After: "x"}}, nil},
	} {
		got, err := s.Usage(ctx, tc.f)
		same(t, tc.name, sn(got), err, tc.want...)
	}
}

func usageIsAtomic(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	fail := errors.New("refused")
	err := s.Update(ctx, func(tx simulator.Tx) error {
		if _, err := tx.AddUsage(ctx, usage("K1", "i-1", "sn-1", t0)); err != nil {
			return err
		}
		return fail
	})
	if !errors.Is(err, fail) {
		t.Fatalf("Update = %v, want the error of fn", err)
	}
	// A record without its instance key is refused, and the valid one
	// before it is not stored either.
	bad := usage("", "i-1", "sn-2", t0)
	if _, err := s.AddUsage(ctx, usage("K1", "i-1", "sn-3", t0), bad); simulator.ErrorCode(err) != simulator.EINVALID {
		t.Errorf("AddUsage with a record without instance key: %v, want EINVALID", err)
	}
	got, err := s.Usage(ctx, simulator.UsageFilter{})
	equal(t, "usage after refusals", got, err, nil)
	if n, err := s.AddUsage(ctx, usage("K1", "i-1", "sn-1", t0)); err != nil || n != 1 {
		t.Errorf("AddUsage after the rollback = %d, %v; want 1 (the rolled-back record was never stored)", n, err)
	}
}
