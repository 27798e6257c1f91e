// Package steps is the step vocabulary of the certification scenarios in
// package features. Each scenario gets a world of its own: a private
// in-memory store, a virtual scheduling clock and a marketplace selling one
// product whose production interface is the merchant under test, reached
// through a proxy that can make the merchant look down.
package steps

import (
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/delivery"
)

// Target is the merchant under test: its production interface and what
// it declares to sell.
type Target struct {
	URL       string // the production interface, http(s)
	AccessKey string
	Protocol  simulator.Protocol // V2 when empty
	// EncryptType is the AES variant the merchant's appInfo uses: "1"
	// (AES-256, the default) or "2".
	EncryptType string
	// Modes are the charging modes the merchant sells; PERIOD (with a
	// trial) when empty. Checks of other modes are not run (callbacks.md §13).
	Modes []simulator.ChargingMode
	// Trial: the PERIOD product offers a trial. License: the merchant sells
	// License products (V1 getLicense, V2 getLicenseAsync); the SaaS
	// scenarios still run. Upgrade: the product offers paid upgrades,
	// which are optional for a merchant (callbacks.md §2.1).
	Trial, License, Upgrade bool
	Timeout                 time.Duration // the marketplace's limit; 20 s when 0
	SlowAfter               time.Duration // the recommended limit; 5 s when 0
}

// DefaultSlowAfter is the recommended answer time (callbacks.md §8, §15 Q5).
const DefaultSlowAfter = 5 * time.Second

// withDefaults fills the zero fields.
func (t Target) withDefaults() Target {
	if t.Protocol == "" {
		t.Protocol = simulator.V2
	}
	if len(t.Modes) == 0 {
		t.Modes = []simulator.ChargingMode{simulator.Period}
		t.Trial = true
	}
	if t.Timeout == 0 {
		t.Timeout = delivery.DefaultTimeout
	}
	if t.SlowAfter == 0 {
		t.SlowAfter = DefaultSlowAfter
	}
	return t
}
