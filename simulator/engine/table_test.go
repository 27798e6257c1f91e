package engine

import (
	"slices"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
)

// Every call the engine builds carries the members its row of the
// activity table marks mandatory (callbacks.md §5), and a businessId
// when its row takes a fresh one on every attempt: the debugger's form is
// built by the same code as the live calls. Every row of a product's
// protocol is either offered by the debugger with those members or
// refused: a product without periods has no refreshInstance, whose
// expireTime is mandatory. The rich V2 newInstance is left out: the docs
// give it by example only, with no table of mandatory members (§5.8).
func TestCallsCarryTheirRequiredMembers(t *testing.T) {
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	e := &Engine{}
	for _, p := range []simulator.Product{
		{ID: "v1", SKUCode: "s1", ChargingMode: simulator.Period, PeriodType: "month", Protocol: simulator.V1},
		{ID: "v1-license", SKUCode: "s1", ChargingMode: simulator.Period, PeriodType: "year", Protocol: simulator.V1, License: true},
		{ID: "v2", SKUCode: "s2", ChargingMode: simulator.Period, PeriodType: "month", Protocol: simulator.V2},
		{ID: "v2-license", SKUCode: "s2", ChargingMode: simulator.Period, PeriodType: "year", Protocol: simulator.V2, License: true},
		{ID: "v2-generic", SKUCode: "s2", ChargingMode: simulator.OneTime, Protocol: simulator.V2, InterfaceType: simulator.GenericInterface},
		{ID: "v1-once", SKUCode: "s1", ChargingMode: simulator.OneTime, Protocol: simulator.V1},
		{ID: "v1-once-license", SKUCode: "s1", ChargingMode: simulator.OneTime, Protocol: simulator.V1, License: true},
		{ID: "v2-once", SKUCode: "s2", ChargingMode: simulator.OneTime, Protocol: simulator.V2},
		{ID: "v2-once-license", SKUCode: "s2", ChargingMode: simulator.OneTime, Protocol: simulator.V2, License: true},
		{ID: "v2-on-demand", SKUCode: "s2", ChargingMode: simulator.OnDemand, Protocol: simulator.V2},
		{ID: "v1-package", SKUCode: "s1", ChargingMode: simulator.OnDemandPkg, Protocol: simulator.V1},
	} {
		for _, name := range DebugActivities(p) {
			if _, ok := activity.Lookup(p.Protocol, name); !ok {
				t.Errorf("%s: the debugger offers %s, which the table has no %s row for", p.ID, name, p.Protocol)
			}
		}
		for _, spec := range activity.All() {
			name := string(spec.Name)
			if spec.Protocol != p.Protocol {
				continue
			}
			if !slices.Contains(DebugActivities(p), name) {
				if _, err := e.DebugParams(p, name, "i-1", now); simulator.ErrorCode(err) != simulator.EINVALID {
					t.Errorf("%s %s, which the debugger does not offer: err = %v, want EINVALID", p.ID, name, err)
				}
				continue
			}
			params, err := e.DebugParams(p, name, "i-1", now)
			if err != nil {
				t.Fatalf("%s %s: %v", p.ID, name, err)
			}
			for _, member := range spec.Request {
				if !gjson.GetBytes(params, member).Exists() {
					t.Errorf("%s %s (%s): no %s in %s", p.ID, name, spec.Section, member, params)
				}
			}
			hasBusinessID := gjson.GetBytes(params, "businessId").Exists() || gjson.GetBytes(params, "orderInfo.0.businessId").Exists()
			if hasBusinessID != spec.FreshBusinessID {
				t.Errorf("%s %s: businessId present %v, want %v (%s)", p.ID, name, hasBusinessID, spec.FreshBusinessID, spec.Section)
			}
		}
	}
}
