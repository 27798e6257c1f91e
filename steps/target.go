// Package steps is the step vocabulary of the certification scenarios in
// package features. Each scenario gets a world of its own: a private
// in-memory store, a virtual scheduling clock and a marketplace selling one
// product whose production interface is the merchant under test, reached
// through a proxy that can make the merchant look down.
package steps

import (
	"context"
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
	// OrderNotifyKey is the key bound to the generic order notification
	// (通用接口), never shown: with it the @order-notify scenarios run,
	// buying a product on the generic order notification (the
	// catalogue's first, or kgsim's sample product made one) whose
	// orderNotify it signs (callbacks.md §5.15).
	OrderNotifyKey string
	// Products are the merchant's own catalogue (kgsim certify
	// --catalogue): each scenario buys the first of them of its charging
	// mode and kind, with its productId and skuCode, instead of kgsim's
	// sample product. The target's URL, protocol, access key and
	// encryptType win over theirs. Nil: the sample product.
	Products  []simulator.Product
	Timeout   time.Duration // the marketplace's limit; 20 s when 0
	SlowAfter time.Duration // the recommended limit; 5 s when 0

	// Joint operation (kit-sync.md, identity.md). The kit sync scenarios
	// (@kit) run when KitKey and PublicKeyPEM are set: the kit syncs go to
	// {URL}/produceAPI/v2/{call}, signed with KitKey, and applicationSync
	// encrypts clientSecret with PublicKeyPEM.
	KitKey       string // the key bound to 联营SaaS同步接口; never shown
	PublicKeyPEM string // the RSA public key uploaded with the application
	// AppID is the application's appId in the seller center, which the
	// kit syncs carry; DefaultAppID when empty.
	AppID string
	// Login (@login, with the kit settings): LoginURL is the application's
	// entry that starts a login, opened with ?tenant={tenantId}; RedirectURI
	// the callback it registers. RefreshURL (@refresh) is an entry that
	// renews the logged-in user's access token; LogoutURL (@logout) one
	// that logs the user out.
	LoginURL, RedirectURI, RefreshURL, LogoutURL string
	// CAS (@cas, with the kit settings): the entry that starts a CAS login,
	// opened with ?tenant={tenantId}, and the service URL it registers.
	CASLoginURL, CASService string

	// The open APIs (open-api.md; @open-api): the run's, which the
	// merchant calls, its API base set to their address. UsageWait is how
	// long a scenario waits for the merchant to push an on-demand
	// instance's usage; DefaultUsageWait when 0. LicenseURL
	// (@license-software) is the merchant's License software, opened with
	// ?license={code} as a buyer enters a code.
	OpenAPI    *OpenAPI
	UsageWait  time.Duration
	LicenseURL string

	// OpenStore opens an empty store for one scenario's marketplace,
	// which closes it when the scenario ends: any back end will do.
	// Required: kgsim certify gives an in-memory SQLite database.
	OpenStore func(ctx context.Context) (simulator.Store, error)
}

// DefaultUsageWait is how long a scenario waits for usage when the
// target does not say.
const DefaultUsageWait = 10 * time.Second

// DefaultAppID is the appId of the application a certification registers
// when the target names none.
const DefaultAppID = "kgsim-certification-app"

// DefaultSlowAfter is the recommended answer time (callbacks.md §8, §15 Q5).
const DefaultSlowAfter = 5 * time.Second

// withDefaults fills the zero fields.
func (t Target) withDefaults() Target {
	if t.Protocol == "" {
		t.Protocol = simulator.V2
	}
	if len(t.Modes) == 0 && len(t.Products) > 0 {
		modes, trial, license := CatalogueModes(t.Products)
		t.Modes, t.Trial, t.License = modes, t.Trial || trial, t.License || license
	}
	if len(t.Modes) == 0 {
		t.Modes = []simulator.ChargingMode{simulator.Period}
		t.Trial = true
	}
	if t.Timeout == 0 {
		t.Timeout = delivery.DefaultTimeout
	}
	if t.UsageWait == 0 {
		t.UsageWait = DefaultUsageWait
	}
	if t.SlowAfter == 0 {
		t.SlowAfter = DefaultSlowAfter
	}
	if t.AppID == "" {
		t.AppID = DefaultAppID
	}
	return t
}

// Joint reports whether a joint-operation tag's scenarios run for t:
// @kit needs the kit key and public key; @login, @refresh, @logout and
// @cas need those and their entries. Any other tag is not a joint one
// (false, false).
func (t Target) Joint(tag string) (declared, known bool) {
	kit := t.KitKey != "" && t.PublicKeyPEM != ""
	switch tag {
	case "@kit":
		return kit, true
	case "@login":
		return kit && t.LoginURL != "" && t.RedirectURI != "", true
	case "@refresh":
		return kit && t.RefreshURL != "", true
	case "@logout":
		return kit && t.LogoutURL != "", true
	case "@cas":
		return kit && t.CASLoginURL != "" && t.CASService != "", true
	}
	return false, false
}

// JointTags are the joint-operation tags, in the order reports list them.
func JointTags() []string { return []string{"@kit", "@login", "@refresh", "@logout", "@cas"} }
