package certify

import (
	"strings"
	"testing"

	"github.com/kgsim/kgsim/fixtures/merchant"
	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/steps"
)

// Every check's level follows the spec (callbacks.md §13): what the docs
// do not require is recommended, what they leave to the merchant is
// informational, and V1 instanceStatus is required only of the products
// whose list of activities names it.
func TestLevelsFollowTheSpec(t *testing.T) {
	s, err := loadSuite(vocabulary(steps.Target{}), "")
	if err != nil {
		t.Fatal(err)
	}
	levels := map[simulator.Protocol]map[string][]Level{}
	for _, p := range []simulator.Protocol{simulator.V1, simulator.V2} {
		target := steps.Target{Protocol: p, Modes: []simulator.ChargingMode{simulator.Period, simulator.OnDemand, simulator.OnDemandPkg}, Trial: true}
		filter, err := tagFilter(vocabulary(target).Excluded(), "")
		if err != nil {
			t.Fatal(err)
		}
		planned, err := plan(s, filter)
		if err != nil {
			t.Fatal(err)
		}
		levels[p] = map[string][]Level{}
		for _, sc := range planned {
			levels[p][sc.Name] = append(levels[p][sc.Name], sc.Level)
		}
	}
	for _, tc := range []struct {
		p    simulator.Protocol
		name string
		want Level
	}{
		{simulator.V2, "A call without its orderId is refused", Recommended},
		{simulator.V1, "A call without its orderId is refused", Recommended},
		{simulator.V2, "A call without its nonce is refused", Required},
		{simulator.V1, "A V1 call without its authToken is refused", Required},
		{simulator.V1, "A violation freezes the instance and lifting it unfreezes it (periodic product)", Recommended},
		{simulator.V2, "A violation freezes the instance and lifting it unfreezes it (periodic product)", Required},
		{simulator.V1, "A violation freezes the instance and lifting it unfreezes it (on-demand product)", Required},
		{simulator.V1, "A violation freezes the instance and lifting it unfreezes it (package product)", Required},
		{simulator.V1, "Expiry freezes a V1 instance and a renewal renews it", Required},
		{simulator.V1, "A renewal after expiry unfreezes a V1 instance", Recommended},
		{simulator.V2, "Expiry freezes the instance and a renewal unfreezes it", Required},
		{simulator.V1, "A V1 call signed an hour ago is refused", Informational},
		{simulator.V2, "A replayed call is refused", Informational},
	} {
		if got := levels[tc.p][tc.name]; len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s %q: levels %v, want %s", tc.p, tc.name, got, tc.want)
		}
	}
}

// An informational check that fails is never counted, not even by
// --strict: a V1 merchant that follows the docs (no freshness window)
// fails under --strict only for what --strict counts.
func TestInformationalNeverCounts(t *testing.T) {
	base := sampleMerchant(t, merchant.Config{})
	r, out := run(t, Options{Steps: vocabulary(steps.Target{URL: base + "/produce/v1", AccessKey: testKey, Protocol: simulator.V1}), Strict: true})
	found := false
	for _, s := range r.Scenarios {
		if s.Name != "A V1 call signed an hour ago is refused" {
			continue
		}
		found = true
		if s.Status != Failed || s.Level != Informational || s.Fails(true) || !s.Warns(true) {
			t.Errorf("%+v: want a failed informational check, a warning under --strict", s)
		}
		if !strings.Contains(out, "NOTE  "+s.Name) {
			t.Errorf("no NOTE line for it:\n%s", out)
		}
	}
	if !found {
		t.Fatal("the hour-old V1 call was not checked")
	}
	for _, s := range r.Failures() {
		if s.Level == Informational {
			t.Errorf("--strict counts %s", s.Name)
		}
	}
}

// The checks of how a purchase call is signed need no purchase the
// merchant acknowledged: against a merchant whose purchases never finish
// (000004, never listed), they still pass, not blocked behind it.
func TestSignatureChecksNeedNoPurchase(t *testing.T) {
	base := sampleMerchant(t, merchant.Config{Defect: merchant.DefectAsyncNeverReady})
	r, out := run(t, Options{Steps: vocabulary(steps.Target{URL: base + "/produce", AccessKey: testKey}), Tags: "@required"})
	want := map[string]Status{
		"A purchase signed with the wrong key is refused": Passed, "A call signed 120 seconds ago is refused": Passed,
		"A call without its signature is refused": Passed, "A call signed 60 seconds ago is still accepted": Passed,
		// Its precondition is a purchase acknowledged: blocked.
		"A release signed with the wrong key is refused": Blocked,
	}
	for _, s := range r.Scenarios {
		if w, ok := want[s.Name]; ok && s.Status != w {
			t.Errorf("%s: %s, want %s: %s", s.Name, s.Status, w, s.Error)
		}
		delete(want, s.Name)
	}
	if len(want) > 0 {
		t.Errorf("not run: %v\n%s", want, out)
	}
}
