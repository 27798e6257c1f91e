// Package features holds the certification scenarios: Gherkin a
// merchant's product owner can read, embedded into the kgsim binary and run
// by simulator/certify with the step definitions of package steps.
//
// Tags: @v1 or @v2 for scenarios of one protocol (untagged ones run for
// both); @required for the checks the marketplace fails a call for or the
// spec says must, @recommended for best practice (a warning),
// @informational for what the docs leave to the merchant (reported, never
// counted; an outline's Examples may each have a level of their own);
// @period, @trial, @on-demand, @package for the checks of one charging
// mode (one mode per scenario: a check of several is an outline with an
// Examples table per mode), and @license and @upgrade for License products and paid upgrades, run only
// when the merchant declares them (callbacks.md §13); @kit, @login,
// @refresh, @logout and @cas for joint operation (kit-sync.md,
// identity.md), run only when the merchant gives their settings
// (steps.Target.Joint); @open-api for the merchant's calls to the open
// APIs (open-api.md), run only when the certification serves them, and
// @license-software for the License software's, only when the merchant
// gives its entry; @order-notify for the generic order notification
// (callbacks.md §5.15), only when the merchant has a product on it.
package features

import "embed"

// FS is the scenarios, one feature file per concern.
//
//go:embed *.feature
var FS embed.FS
