package steps_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/kgsim/kgsim/fixtures"
	"github.com/kgsim/kgsim/fixtures/merchant"
	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/steps"
)

// A merchant that sells only its own products refuses kgsim's sample
// product (the defect table); certified with its catalogue, the scenarios
// buy its products and it passes. Its catalogue has one on-demand product,
// so the V1 order of two on-demand specifications cannot be built and is
// skipped, not failed.
func TestOwnCatalogue(t *testing.T) {
	c, err := fixtures.Default()
	if err != nil {
		t.Fatal(err)
	}
	modes, trial, license := steps.CatalogueModes(c.Products)
	if !slices.Equal(modes, []simulator.ChargingMode{simulator.Period, simulator.OnDemand}) || !trial || license {
		t.Fatalf("the sample catalogue's modes: %v, trial %v, license %v", modes, trial, license)
	}
	target := steps.Target{Protocol: simulator.V1, Products: c.Products}
	r := runSuite(t, merchant.Config{Defect: merchant.DefectOwnCatalogueOnly}, target)
	for _, o := range r.failed() {
		if !slices.Contains(knownWarnings(simulator.V1), o.name) {
			t.Errorf("scenario %q failed:\n%v", o.name, o.err)
		}
	}
	const twoSpecs = "One on-demand order for two specifications gets two instances"
	for _, o := range r.scenarios {
		switch {
		case o.name == twoSpecs && (!o.skipped || o.err == nil || !strings.Contains(o.err.Error(), "needs two")):
			t.Errorf("%q: skipped %v, %v; want skipped for want of a second on-demand product", o.name, o.skipped, o.err)
		case slices.Contains(o.tags, "@on-demand") && !slices.Contains(o.tags, "@open-api") && o.name != twoSpecs && o.skipped:
			t.Errorf("%q was skipped: the catalogue sells on-demand", o.name)
		}
	}
	if r.ran() < 30 {
		t.Errorf("only %d scenarios ran:\n%s", r.ran(), r.output)
	}
}

func TestCheckCatalogue(t *testing.T) {
	period := simulator.Product{ID: "P1", SKUCode: "s1", Name: "monthly", ChargingMode: simulator.Period, PeriodType: "month"}
	trial := period
	trial.ID, trial.Trial = "P2", true
	onDemand := simulator.Product{ID: "D1", SKUCode: "d1", Name: "by use", ChargingMode: simulator.OnDemand}
	license := period
	license.ID, license.License = "L1", true
	noSKU := onDemand
	noSKU.SKUCode = ""
	base := steps.Target{URL: "http://127.0.0.1:8081/produce", AccessKey: "k"}
	with := func(products []simulator.Product, modes []simulator.ChargingMode, trial, license bool) steps.Target {
		t := base
		t.Products, t.Modes, t.Trial, t.License = products, modes, trial, license
		return t
	}
	for _, tc := range []struct {
		name   string
		target steps.Target
		want   string // "" passes
	}{
		{"no catalogue", base, ""},
		{"modes from the catalogue", with([]simulator.Product{trial, onDemand, license}, nil, false, false), ""},
		{"url, protocol and key from the target", with([]simulator.Product{period}, []simulator.ChargingMode{simulator.Period}, false, false), ""},
		{"empty", with([]simulator.Product{}, nil, false, false), "catalogue: lists no product"},
		{"no product for a declared mode", with([]simulator.Product{period}, []simulator.ChargingMode{simulator.Period, simulator.OnDemand}, false, false),
			"catalogue: no ON_DEMAND product, but the merchant declares on-demand (--modes)"},
		{"no package", with([]simulator.Product{period}, []simulator.ChargingMode{simulator.OnDemandPkg}, false, false), "no ON_DEMAND_PKG product, but the merchant declares package"},
		{"no trial", with([]simulator.Product{period}, []simulator.ChargingMode{simulator.Period}, true, false), `no PERIOD product with "trial": true`},
		{"no License", with([]simulator.Product{period}, []simulator.ChargingMode{simulator.Period}, false, true), `no product with "license": true`},
		{"an invalid product", with([]simulator.Product{period, noSKU}, nil, false, false), "catalogue: entry 2 (D1): skuCode: is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.target.CheckCatalogue()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || simulator.ErrorCode(err) != simulator.EINVALID):
				t.Errorf("err %v; want %q", err, tc.want)
			}
		})
	}
}
