package steps_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cucumber/godog"
	"github.com/kgsim/kgsim/features"
	"github.com/kgsim/kgsim/fixtures/merchant"
	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
	"github.com/kgsim/kgsim/steps"
	"github.com/tidwall/gjson"
)

const accessKey = "kgsim-sample-access-key"

// outcome is one scenario's result in a suite run.
type outcome struct {
	name     string
	tags     []string
	err      error // nil: passed
	skipped  bool
	duration time.Duration
}

func (o outcome) required() bool { return slices.Contains(o.tags, "@required") }

// run is a whole suite run.
type run struct {
	scenarios []outcome
	status    int
	output    string
	took      time.Duration
}

func (r run) failed() []outcome {
	var out []outcome
	for _, o := range r.scenarios {
		if o.err != nil && !o.skipped {
			out = append(out, o)
		}
	}
	return out
}

func (r run) ran() int {
	n := 0
	for _, o := range r.scenarios {
		if !o.skipped {
			n++
		}
	}
	return n
}

// runSuite runs the embedded features against a sample merchant served
// on loopback, quietly, and collects every scenario's result.
func runSuite(t testing.TB, c merchant.Config, target steps.Target) run {
	t.Helper()
	c.AccessKey, c.KitKey, c.PrivateKey = accessKey, merchant.SampleKitKey, merchant.SampleKey()
	if target.OrderNotifyKey != "" {
		c.OrderNotifyKey = orderNotifyKey
	}
	if c.QueryOrders || c.UsageEvery > 0 {
		target.OpenAPI, c.MarketURL, c.AK, c.SK = serveOpenAPI(t)
	}
	h := merchant.New(c)
	if c.UsageEvery > 0 {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go merchant.PushUsage(ctx, h)
	}
	return runSuiteOn(t, h, target)
}

// runSuiteOn runs the features against a merchant handler.
func runSuiteOn(t testing.TB, h http.Handler, target steps.Target) run {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	target.URL, target.AccessKey = srv.URL+"/produce", accessKey
	if target.OrderNotifyKey != "" {
		target.OrderNotifyKey = orderNotifyKey
	}
	if target.OpenAPI != nil {
		target.LicenseURL = srv.URL + "/license"
	}
	if target.Protocol == simulator.V1 {
		target.URL += "/v1"
	}
	if target.KitKey != "" {
		target.KitKey, target.PublicKeyPEM = merchant.SampleKitKey, merchant.SamplePublicKeyPEM()
		app := srv.URL + "/app"
		target.LoginURL, target.RedirectURI, target.RefreshURL, target.LogoutURL = app+"/login", app+"/callback", app+"/refresh", app+"/logout"
		target.CASLoginURL, target.CASService = app+"/cas/login", app+"/cas/callback"
	}
	return runTarget(t, target)
}

// memoryStore keeps a scenario's marketplace in a private in-memory
// SQLite database.
func memoryStore(ctx context.Context) (simulator.Store, error) {
	return sqlite.Open(ctx, ":memory:")
}

// runTarget runs the features against a target, its scenarios' stores in
// memory unless it says otherwise.
func runTarget(t testing.TB, target steps.Target) run {
	t.Helper()
	if target.OpenStore == nil {
		target.OpenStore = memoryStore
	}
	var (
		mu      sync.Mutex
		results []outcome
		out     bytes.Buffer
	)
	type startKey struct{}
	type skipKey struct{}
	suite := godog.TestSuite{
		Name: "certification",
		ScenarioInitializer: func(sc *godog.ScenarioContext) {
			sc.Before(func(ctx context.Context, _ *godog.Scenario) (context.Context, error) {
				return context.WithValue(context.WithValue(ctx, startKey{}, time.Now()), skipKey{}, new(error)), nil
			})
			steps.Register(sc, target)
			// A step that skips its scenario says why; the scenario's
			// After hook sees no error.
			sc.StepContext().After(func(ctx context.Context, _ *godog.Step, status godog.StepResultStatus, err error) (context.Context, error) {
				if skip, ok := ctx.Value(skipKey{}).(*error); ok && status == godog.StepSkipped && errors.Is(err, godog.ErrSkip) {
					*skip = err
				}
				return ctx, nil
			})
			sc.After(func(ctx context.Context, s *godog.Scenario, err error) (context.Context, error) {
				if skip, ok := ctx.Value(skipKey{}).(*error); ok && *skip != nil {
					err = *skip
				}
				start, _ := ctx.Value(startKey{}).(time.Time)
				var tags []string
				for _, tag := range s.Tags {
					tags = append(tags, tag.Name)
				}
				mu.Lock()
				// Register skips what the target does not declare; godog's
				// After hooks then see no error, so Applies tells.
				skipped := errors.Is(err, godog.ErrSkip) || !target.Applies(tags)
				results = append(results, outcome{name: s.Name, tags: tags, err: err, skipped: skipped, duration: time.Since(start)})
				mu.Unlock()
				return ctx, nil
			})
		},
		Options: &godog.Options{Format: "progress", Output: &out, FS: features.FS, Paths: []string{"."}, Strict: true, NoColors: true},
	}
	start := time.Now()
	status := suite.Run()
	return run{scenarios: results, status: status, output: out.String(), took: time.Since(start)}
}

// everything is a target that declares every mode and kind and joint
// operation, so that every scenario of its protocol runs; runSuiteOn fills
// in the sample merchant's joint-operation settings.
func everything(p simulator.Protocol) steps.Target {
	return steps.Target{Protocol: p, Modes: []simulator.ChargingMode{simulator.Period, simulator.OnDemand, simulator.OnDemandPkg},
		Trial: true, License: true, Upgrade: true, KitKey: "set by runSuiteOn", OrderNotifyKey: "set by runSuiteOn"}
}

// orderNotifyKey is the key of the generic order notification the sample
// merchant is given, not the basic interfaces' (callbacks.md §5.15).
const orderNotifyKey = "kgsim-sample-order-notify-key"

// knownWarnings are the recommended checks the sample merchant does not
// pass, by design: it is served on loopback over http (merchants certify
// local builds), and it does not check V1 timestamps, for which the docs
// give no window (callbacks.md §3.2).
func knownWarnings(p simulator.Protocol) []string {
	names := []string{"The production interface is served over https", "The production interface is reached by a domain name"}
	if p == simulator.V1 {
		names = append(names, "A V1 call signed an hour ago is refused")
	}
	return names
}

func TestSampleMerchantPasses(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    merchant.Config
		p    simulator.Protocol
	}{
		{"v2", merchant.Config{}, simulator.V2},
		{"v1", merchant.Config{}, simulator.V1},
		{"v2 asynchronous", merchant.Config{Async: true, ReadyAfter: 2}, simulator.V2},
		{"v2 quirks", merchant.Config{Quirks: true}, simulator.V2},
		{"v1 quirks", merchant.Config{Quirks: true}, simulator.V1},
		{"v1 AES-128", merchant.Config{EncryptType: "2"}, simulator.V1},
		{"v2 AES-128", merchant.Config{EncryptType: "2"}, simulator.V2},
	} {
		if raceDetector && tc.name != "v1" && tc.name != "v2" {
			continue // the plain V1 and V2 merchants are enough to find a race
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			target := everything(tc.p)
			target.EncryptType = tc.c.EncryptType
			r := runSuite(t, tc.c, target)
			known := knownWarnings(tc.p)
			for _, o := range r.failed() {
				if !slices.Contains(known, o.name) {
					t.Errorf("scenario %q failed:\n%v", o.name, o.err)
				}
			}
			for _, name := range known {
				if !slices.ContainsFunc(r.failed(), func(o outcome) bool { return o.name == name }) {
					t.Errorf("scenario %q passed for the sample merchant on http://127.0.0.1", name)
				}
			}
			if r.ran() < 30 {
				t.Errorf("only %d scenarios ran; the features did not load?\n%s", r.ran(), r.output)
			}
			report(t, r)
		})
	}
}

// report logs the run's time, per scenario and the slowest ones.
func report(t *testing.T, r run) {
	t.Helper()
	sorted := slices.Clone(r.scenarios)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].duration > sorted[j].duration })
	var b strings.Builder
	fmt.Fprintf(&b, "%d scenarios (%d run) in %s; slowest:", len(r.scenarios), r.ran(), r.took.Round(time.Millisecond))
	for _, o := range sorted[:min(5, len(sorted))] {
		fmt.Fprintf(&b, "\n  %7s  %s", o.duration.Round(100*time.Microsecond), o.name)
	}
	t.Log(b.String())
}

// defectCase is what certification must make of a merchant with one
// deliberate defect: the scenarios whose check the defect targets fail,
// and nothing else does, but for the consequences listed (or anything,
// for a defect that spoils every answer).
type defectCase struct {
	defect    merchant.Defect
	protocols []simulator.Protocol
	fails     []string // each must fail where it runs; at least one must run
	also      []string // may fail too
	anything  bool     // every answer is spoilt: any scenario may fail
	says      string   // the failure text of the first of fails names this
	tune      func(*merchant.Config, *steps.Target)
	// recommended: the defect's checks are recommended ones, so no
	// required scenario fails.
	recommended bool
	// joint: the defect's checks are joint-operation ones.
	joint bool
}

var (
	both   = []simulator.Protocol{simulator.V1, simulator.V2}
	v1Only = []simulator.Protocol{simulator.V1}
	v2Only = []simulator.Protocol{simulator.V2}
)

// defectCases covers merchant.Defects(), each with the scenarios of its
// check (the defects' comments name the checks).
func defectCases() []defectCase {
	const wellFormed = "Answers are JSON objects declared as application/json"
	return []defectCase{
		{defect: merchant.DefectForgedSignature, protocols: both, says: "accepted a newInstance call it should have refused",
			fails: []string{"A purchase signed with the wrong key is refused", "A purchase signed with the wrong key is refused as unauthenticated", "A release signed with the wrong key is refused",
				"An order notification signed with the basic interfaces' access key is refused"}},
		{defect: merchant.DefectStaleTimestamp, protocols: v2Only,
			fails: []string{"A call signed 120 seconds ago is refused", "A call signed 120 seconds ago is refused as unauthenticated", "A call signed 120 seconds ahead is refused"}},
		{defect: merchant.DefectNarrowWindow, protocols: v2Only,
			fails: []string{"A call signed 60 seconds ago is still accepted"}},
		// The marketplace never sends such a call: recommended checks.
		{defect: merchant.DefectMissingParamsAccepted, protocols: both, recommended: true,
			fails: []string{"A call without its orderId is refused", "A call without its orderId is refused with the documented code"}},
		{defect: merchant.DefectNewInstanceNotIdempotent, protocols: both, says: "store the instanceId per order",
			fails: []string{"newInstance sent again for the same order returns the same instance", "One on-demand order for two specifications gets two instances",
				"A purchase arriving after its instance was frozen names the same instance", "A purchase delivery delayed on its way is acknowledged with the same instance",
				"The purchase the resource details send again names the same instance"},
			// The retry is compared only with a late answer the proxy read.
			also: []string{"Two overlapping deliveries of one purchase yield one instance", "A purchase answered too late is acknowledged on the retry with the same instance"}},
		{defect: merchant.DefectPurchaseRace, protocols: both, says: "the second sent while the first was unanswered, got two instances",
			fails: []string{"Two overlapping deliveries of one purchase yield one instance"}},
		// Its purchases are slow, so the second of two overlapping
		// deliveries finds the first still being provisioned.
		{defect: merchant.DefectStuckAfterHangUp, protocols: both, says: "after its first attempt timed out, and the merchant did not acknowledge it",
			fails: []string{"A purchase answered too late is acknowledged on the retry with the same instance"},
			also:  []string{"Two overlapping deliveries of one purchase yield one instance"}},
		{defect: merchant.DefectFrozenPurchaseForgotten, protocols: both, says: "instanceId",
			fails: []string{"A purchase arriving after its instance was frozen names the same instance"}},
		// Two overlapping deliveries are signed a moment apart and may
		// arrive in either order.
		{defect: merchant.DefectDelayedCallRefused, protocols: both, says: "signed 40s before it left, delayed on its way",
			fails: []string{"A purchase delivery delayed on its way is acknowledged with the same instance"},
			also:  []string{"Two overlapping deliveries of one purchase yield one instance"}},
		{defect: merchant.DefectSharedInstanceID, protocols: both, says: "two different orders got the same instanceId",
			fails: []string{"Different orders get different instances", "One on-demand order for two specifications gets two instances"},
			also:  []string{"A query of two instances lists each of them"}},
		{defect: merchant.DefectPurchaseKeyedOnOrder, protocols: both,
			fails: []string{"One on-demand order for two specifications gets two instances"}},
		{defect: merchant.DefectNoInstanceID, protocols: both, anything: true, says: "MISSING_FIELD",
			fails: []string{"A purchase is acknowledged with its instanceId"}},
		{defect: merchant.DefectNoFrontEndURL, protocols: v1Only, anything: true, says: "appInfo.frontEndUrl",
			fails: []string{"A V1 purchase answer carries the buyer's access data"}},
		{defect: merchant.DefectLongInstanceID, protocols: both, anything: true, says: "FIELD_LENGTH",
			fails: []string{"A purchase is acknowledged with its instanceId"}},
		{defect: merchant.DefectRefreshFails, protocols: both, says: "RESULT_CODE",
			fails: []string{"A renewal is acknowledged", "A renewal sent twice succeeds both times", "Unsubscribing a renewal period that has not started is acknowledged",
				"A trial turned formal is acknowledged", "Expiry freezes the instance and a renewal unfreezes it", "Expiry freezes a V1 instance and a renewal renews it"},
			also: []string{"A renewal after expiry unfreezes a V1 instance", "A renewal that changes the specification is allowed, then applied"}},
		{defect: merchant.DefectFreezeFails, protocols: both,
			fails: []string{"A violation freezes the instance and lifting it unfreezes it (periodic product)",
				"A violation freezes the instance and lifting it unfreezes it (on-demand product)", "A violation freezes the instance and lifting it unfreezes it (package product)", "Expiry freezes the instance and a renewal unfreezes it",
				"Expiry freezes a V1 instance and a renewal renews it", "A renewal after expiry unfreezes a V1 instance",
				"An instance not renewed is released after the retention period", "A purchase arriving after its instance was frozen names the same instance"}},
		{defect: merchant.DefectReleaseNotRepeatable, protocols: both,
			fails: []string{"Releasing an instance twice succeeds both times"}},
		{defect: merchant.DefectUpgradeNotIdempotent, protocols: both,
			fails: []string{"An upgrade sent twice succeeds both times"}},
		{defect: merchant.DefectQueryFirstOnly, protocols: v2Only, says: "one of the two the query named",
			fails: []string{"A query of two instances lists each of them"}},
		{defect: merchant.DefectChangeCheckReversed, protocols: v2Only, says: "refused a change of specification of an instance it has",
			fails: []string{"A renewal that changes the specification is allowed, then applied", "A change check of an unknown instance is refused"}},
		{defect: merchant.DefectUnknownInstanceAccepted, protocols: both,
			fails: []string{"A freeze of an unknown instance is refused", "A renewal of an unknown instance is refused", "A change check of an unknown instance is refused",
				"A freeze of an unknown instance is answered 000003", "A renewal of an unknown instance is answered 000003"}},
		{defect: merchant.DefectWrongContentType, protocols: both, anything: true, says: "CONTENT_TYPE", fails: []string{wellFormed}},
		{defect: merchant.DefectNotJSON, protocols: both, anything: true, says: "BODY_PARSE", fails: []string{wellFormed}},
		{defect: merchant.DefectNumericResultCode, protocols: both, anything: true, says: "BODY_PARSE", fails: []string{wellFormed}},
		{defect: merchant.DefectNoBodySign, protocols: v1Only, anything: true, says: "BODY_SIGN_MISSING",
			fails: []string{"V1 answers carry a Body-Sign over the exact bytes sent"}},
		{defect: merchant.DefectBodySignReserialised, protocols: v1Only, anything: true, says: "matches the body re-serialised compactly",
			fails: []string{"V1 answers carry a Body-Sign over the exact bytes sent"}},
		{defect: merchant.DefectWrongEncryptType, protocols: both, says: "decrypts with encryptType 2 instead",
			fails: []string{"The buyer's account decrypts with the declared encryptType"}},
		{defect: merchant.DefectSlow, protocols: both, anything: true, says: "TIMEOUT",
			fails: []string{"Answers come within the marketplace's time limit"},
			tune: func(c *merchant.Config, t *steps.Target) {
				t.Timeout, t.SlowAfter, c.Delay = 50*time.Millisecond, 20*time.Millisecond, 80*time.Millisecond
			}},
		{defect: merchant.DefectAsyncNeverReady, protocols: v2Only, anything: true, says: "NOT_READY",
			fails: []string{"An asynchronous purchase is finished through queryInstance"}},
		{defect: merchant.DefectUsageWithoutTime, protocols: both, says: "usageInfo[].statisticalTime",
			fails: []string{"queryInstance reports an on-demand instance's usage", "queryInstance reports a package's usage"},
			also:  []string{"The buyer's resource details show the instance", "A V2 answer's Body-Sign, when there is one, covers the exact bytes sent", "The buyer's account decrypts with the declared encryptType", "A query of two instances lists each of them"}},
		// Correct for a merchant that sells only its own products, and
		// certified with its catalogue (TestOwnCatalogue); without it, the
		// purchase of kgsim's sample product fails first.
		// The buyer's name arrives with spaces at its edges.
		{defect: merchant.DefectTrimmedValues, protocols: v1Only, anything: true, says: "000001 (authentication failed) to a correctly signed call",
			fails: []string{"A purchase is acknowledged with its instanceId"}},
		{defect: merchant.DefectOwnCatalogueOnly, protocols: v1Only, anything: true, says: "is not a product of this merchant",
			fails: []string{"A purchase is acknowledged with its instanceId"}},
		// The order query is refused, so every V2 purchase fails.
		{defect: merchant.DefectWrongSK, protocols: v2Only, anything: true, says: "APIGW.0301",
			fails: []string{"A V2 purchase is provisioned from the order query"},
			tune:  func(c *merchant.Config, _ *steps.Target) { c.QueryOrders = true }},
		{defect: merchant.DefectOrderNotifyBasicKey, protocols: v2Only, says: "the key bound to the generic interface",
			fails: []string{"An order notification is acknowledged", "An order notification sent again is acknowledged again",
				"An order notification signed with the basic interfaces' access key is refused"}},
		{defect: merchant.DefectLicenseNotIdempotent, protocols: both, says: "store the License per order",
			fails: []string{"getLicense for the same order returns the same License", "The same License request gets the same License"}},

		// Kit syncs do not depend on the basic interfaces' protocol.
		{defect: merchant.DefectKitForgedSign, protocols: v2Only, joint: true, says: "accepted a tenantSync sync it should have refused",
			fails: []string{"A sync signed with the wrong kit key is refused", "A sync signed with the wrong kit key is refused as unauthenticated",
				"A sync signed with the basic interfaces' access key is refused", "A replayed sync is refused"}},
		// applicationSync fails, and the syncs queued behind it are held:
		// every scenario that binds the application fails with it.
		{defect: merchant.DefectKitSecretUndecryptable, protocols: v2Only, joint: true,
			says:  "notice:   [KooGallery simulator] applicationSync call failed: RESULT_CODE",
			fails: []string{"Binding the application to an enterprise is acknowledged", "The seller's credential test is acknowledged"},
			also:  bindingScenarios()},
		{defect: merchant.DefectKitNotIdempotent, protocols: v2Only, joint: true, says: "a sync sent again, and a delete of something unknown, are answered 000000 too",
			fails: []string{"Every sync of a binding sent again is acknowledged", "Deletes sent again are acknowledged",
				"A delete for an enterprise the merchant never heard of is acknowledged"},
			also: []string{"A replayed sync is refused"}},
		{defect: merchant.DefectLoginIgnoresState, protocols: v2Only, joint: true, says: "completed a login it did not start", recommended: true,
			fails: []string{"A callback with a state the application did not issue is refused"}},
		{defect: merchant.DefectRefreshSkipped, protocols: v2Only, joint: true, says: "did not renew the access token with the refresh token",
			fails: []string{"The application renews the access token with the refresh token"}},
		{defect: merchant.DefectLogoutLocalOnly, protocols: v2Only, joint: true, says: "did not send the browser to the marketplace's logout",
			fails: []string{"Logging out of the application ends the marketplace's session too"}},
		{defect: merchant.DefectCASServiceMismatch, protocols: v2Only, joint: true, says: "INVALID_SERVICE",
			fails: []string{"A user logs in to the application with a CAS ticket"}},
		{defect: merchant.DefectLoginLoopsOnTokenFailure, protocols: v2Only, joint: true, says: "redirect loop",
			fails: []string{"The application's login fails cleanly when the token endpoint fails"},
			also:  []string{"A failed login is answered with an error status"}},
		{defect: merchant.DefectLoginFailureOK, protocols: v2Only, joint: true, says: "answered the login with status 200", recommended: true,
			fails: []string{"A failed login is answered with an error status"}},
		{defect: merchant.DefectRotatedSecretIgnored, protocols: v2Only, joint: true, says: "flag 2 replaces it",
			fails: []string{"A client secret rotated by applicationSync is used at once"}},
	}
}

// bindingScenarios are the joint-operation scenarios that bind the
// application to an enterprise.
func bindingScenarios() []string {
	return []string{"Authorising, editing and revoking users is acknowledged", "Department changes are acknowledged",
		"Renaming the enterprise, rotating the client secret and unbinding are acknowledged",
		"A sync signed with the wrong kit key is refused", "A sync signed with the wrong kit key is refused as unauthenticated",
		"A sync signed with the basic interfaces' access key is refused", "A sync signed 120 seconds ago is refused", "A replayed sync is refused",
		"A clientSecret the merchant cannot decrypt is refused", "A clientSecret the merchant cannot decrypt is answered 000101",
		"Every sync of a binding sent again is acknowledged", "Deletes sent again are acknowledged",
		"A user logs in to the application through the marketplace", "A login started at the marketplace's unified login page reaches the application",
		"A callback with a state the application did not issue is refused", "The application renews the access token with the refresh token",
		"Logging out of the application ends the marketplace's session too", "A user logs in to the application with a CAS ticket",
		"The application's login fails cleanly when the token endpoint fails", "A failed login is answered with an error status",
		"A client secret rotated by applicationSync is used at once"}
}

func TestEachDefectFailsItsCheck(t *testing.T) {
	cases := defectCases()
	for _, d := range merchant.Defects() {
		if !slices.ContainsFunc(cases, func(c defectCase) bool { return c.defect == d }) {
			t.Errorf("defect %s has no entry in the table: which scenario must fail for it?", d)
		}
	}
	for i, dc := range cases {
		protocols := dc.protocols
		if raceDetector {
			if dc.anything || dc.joint && dc.defect != merchant.DefectKitSecretUndecryptable && dc.defect != merchant.DefectLogoutLocalOnly {
				continue // the same failure paths as the targeted defects
			}
			// One protocol per defect, alternating, to find races in both.
			protocols = protocols[i%len(protocols):][:1]
		}
		for _, p := range protocols {
			t.Run(string(dc.defect)+"/"+string(p), func(t *testing.T) {
				t.Parallel()
				c, target := merchant.Config{Defect: dc.defect}, everything(p)
				if raceDetector && !dc.joint {
					target.KitKey = "" // the joint scenarios run in the joint defects' runs
				}
				if dc.tune != nil {
					dc.tune(&c, &target)
				}
				r := runSuite(t, c, target)
				checkDefect(t, dc, p, r)
			})
		}
	}
}

// specSection is how a failure names the spec section of its check.
var specSection = regexp.MustCompile(`spec:     (callbacks|kit-sync|identity|open-api)\.md §`)

func checkDefect(t *testing.T, dc defectCase, p simulator.Protocol, r run) {
	t.Helper()
	byName := map[string]outcome{}
	for _, o := range r.scenarios {
		if !o.skipped {
			byName[o.name] = o
		}
	}
	ran, required := 0, false
	for _, name := range dc.fails {
		o, ok := byName[name]
		if !ok {
			continue
		}
		ran++
		switch {
		case o.err == nil:
			t.Errorf("scenario %q passed; it checks what %s breaks", name, dc.defect)
		case ran == 1 && dc.says != "" && !strings.Contains(o.err.Error(), dc.says):
			t.Errorf("scenario %q failed without naming %q:\n%v", name, dc.says, o.err)
		case dc.defect == merchant.DefectKitSecretUndecryptable && !strings.Contains(o.err.Error(), "it says: resultCode 000101: the merchant could not decrypt the clientSecret"):
			t.Errorf("scenario %q failed without its notice saying the merchant could not decrypt the clientSecret:\n%v", name, o.err)
		}
		required = required || o.err != nil && o.required()
	}
	if ran == 0 {
		t.Fatalf("none of the scenarios of %s ran for %s", dc.defect, p)
	}
	for _, o := range r.failed() {
		text := o.err.Error()
		if !specSection.MatchString(text) || strings.Contains(text, accessKey) || strings.Contains(text, merchant.SampleKitKey) || strings.Contains(text, orderNotifyKey) {
			t.Errorf("scenario %q failed without its spec section, or showing the access key, kit key or order-notification key:\n%s", o.name, text)
		}
	}
	switch {
	case !required && !dc.recommended:
		t.Errorf("no @required scenario failed for %s", dc.defect)
	case required && dc.recommended:
		t.Errorf("a @required scenario failed for %s, whose checks are recommended", dc.defect)
	}
	if dc.anything {
		return
	}
	for _, o := range r.failed() {
		if !slices.Contains(dc.fails, o.name) && !slices.Contains(dc.also, o.name) && !slices.Contains(knownWarnings(p), o.name) {
			t.Errorf("scenario %q failed, but %s should break only %q:\n%v", o.name, dc.defect, dc.fails, o.err)
		}
	}
}

// stateReporter is the sample merchant with a state member added to every
// queryInstance entry, and the Body-Sign made again over the new body.
func stateReporter(next http.Handler, state string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if gjson.GetBytes(body, "info").IsArray() {
			body = bytes.ReplaceAll(body, []byte(`{"instanceId":`), []byte(`{"status":"`+state+`","instanceId":`))
		}
		for name, values := range rec.Header() {
			w.Header()[name] = values
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Header().Set(protocol.BodySignHeaderName, protocol.BodySignHeader(protocol.BodySign(accessKey, body)))
		w.WriteHeader(rec.Code)
		w.Write(body)
	})
}

// The docs define no state in queryInstance: a merchant that reports none
// passes (the sample merchant above); one that reports a state must report
// the one the marketplace set.
func TestReportedStateMustAgree(t *testing.T) {
	const scenario = "A violation freezes the instance and lifting it unfreezes it (periodic product)"
	for _, tc := range []struct {
		state string
		want  string // in the failure; empty: passes
	}{
		{"FROZEN", `reports the instance's status as "FROZEN", but the marketplace has it in use`},
		{"NORMAL", `reports the instance's status as "NORMAL", but the marketplace has it frozen`},
		{"SOMETHING_ELSE", ""},
	} {
		t.Run(tc.state, func(t *testing.T) {
			t.Parallel()
			r := runSuiteOn(t, stateReporter(merchant.New(merchant.Config{AccessKey: accessKey}), tc.state), everything(simulator.V2))
			var found bool
			for _, o := range r.scenarios {
				if o.name != scenario || o.skipped { // the V1 example, in a V2 run
					continue
				}
				found = true
				switch {
				case tc.want == "" && o.err != nil:
					t.Errorf("failed for a state it cannot judge:\n%v", o.err)
				case tc.want != "" && (o.err == nil || !strings.Contains(o.err.Error(), tc.want)):
					t.Errorf("want a failure saying %q, got %v", tc.want, o.err)
				}
			}
			if !found {
				t.Fatalf("scenario %q did not run", scenario)
			}
		})
	}
}

func TestApplies(t *testing.T) {
	period := steps.Target{} // V2, PERIOD with a trial
	onDemand := steps.Target{Protocol: simulator.V1, Modes: []simulator.ChargingMode{simulator.OnDemand}}
	kit := steps.Target{KitKey: "kk", PublicKeyPEM: "pem"}
	login := steps.Target{KitKey: "kk", PublicKeyPEM: "pem", LoginURL: "u", RedirectURI: "u"}
	for _, tc := range []struct {
		t    steps.Target
		tags []string
		want bool
	}{
		{period, []string{"@required"}, true},
		{period, []string{"@required", "@v2"}, true},
		{period, []string{"@required", "@v1"}, false},
		{period, []string{"@required", "@trial"}, true},
		{period, []string{"@required", "@on-demand"}, false},
		{period, []string{"@required", "@period", "@on-demand"}, true},
		{period, []string{"@required", "@license"}, false},
		{period, []string{"@required", "@period", "@upgrade"}, false},
		{steps.Target{Upgrade: true}, []string{"@required", "@period", "@upgrade"}, true},
		{steps.Target{Modes: []simulator.ChargingMode{simulator.Period}}, []string{"@trial"}, false},
		{onDemand, []string{"@v1", "@required", "@on-demand"}, true},
		{onDemand, []string{"@period"}, false},
		{onDemand, []string{"@v2"}, false},
		{steps.Target{License: true}, []string{"@license", "@v2"}, true},
		{period, []string{"@kit", "@required"}, false},
		{kit, []string{"@kit", "@required"}, true},
		{steps.Target{KitKey: "kk"}, []string{"@kit"}, false},
		{kit, []string{"@login"}, false},
		{login, []string{"@login", "@required"}, true},
		{login, []string{"@login", "@refresh"}, false},
		{login, []string{"@cas"}, false},
		{steps.Target{LoginURL: "u", RedirectURI: "u"}, []string{"@login"}, false},
	} {
		if got := tc.t.Applies(tc.tags); got != tc.want {
			t.Errorf("%+v Applies(%v) = %v, want %v", tc.t, tc.tags, got, tc.want)
		}
	}
}

// A merchant that is not there, or that redirects, fails the purchase as
// the marketplace would fail it: unreachable, or HTTP status (redirects
// are not followed), and the failure says so.
func TestUnreachableAndRedirectingMerchants(t *testing.T) {
	const scenario = "A purchase is acknowledged with its instanceId"
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // nothing listens there any more
	for _, tc := range []struct {
		name string
		h    http.Handler
		url  string
		want string
	}{
		{"redirect", http.RedirectHandler("http://127.0.0.1:1/elsewhere", http.StatusFound), "", "HTTP_STATUS"},
		{"gone", nil, down.URL, "UNREACHABLE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := everything(simulator.V2)
			var r run
			if tc.h != nil {
				r = runSuiteOn(t, tc.h, target)
			} else {
				target.URL, target.AccessKey = tc.url, accessKey
				r = runTarget(t, target)
			}
			for _, o := range r.scenarios {
				if o.name == scenario && (o.err == nil || !strings.Contains(o.err.Error(), tc.want)) {
					t.Errorf("want a failure naming %s, got %v", tc.want, o.err)
				}
			}
		})
	}
}

// BenchmarkSuite is the whole suite against the sample merchant: what a
// merchant's CI waits for, the 3-hour retry scenarios included; with the
// open APIs, the merchant's order queries and usage (pushed every 100 ms)
// too.
func BenchmarkSuite(b *testing.B) {
	for _, tc := range []struct {
		name string
		p    simulator.Protocol
		c    merchant.Config
	}{
		{"v2", simulator.V2, merchant.Config{}},
		{"v1", simulator.V1, merchant.Config{}},
		{"v2-open-apis", simulator.V2, merchant.Config{QueryOrders: true, UsageEvery: 100 * time.Millisecond}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if r := runSuite(b, tc.c, everything(tc.p)); len(r.failed()) > len(knownWarnings(tc.p)) {
					b.Fatalf("%d scenarios failed", len(r.failed()))
				}
			}
		})
	}
}
