package certify

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html/template"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/fixtures/merchant"
	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
	"github.com/kgsim/kgsim/steps"
)

// testKey is the access key of the merchants of these tests: long enough
// that redacting it in a report cannot touch ordinary words.
const testKey = "certify-test-access-key-5f2c"

// sampleMerchant serves the sample merchant, configured by c, on loopback.
func sampleMerchant(t testing.TB, c merchant.Config) string {
	t.Helper()
	c.AccessKey = testKey
	srv := httptest.NewServer(merchant.New(c))
	t.Cleanup(srv.Close)
	return srv.URL
}

// everyMode is a target that declares every charging mode, so that the
// whole suite runs.
// vocabulary is the steps' vocabulary for target, each scenario's
// marketplace in a private in-memory SQLite database unless it says
// otherwise.
func vocabulary(target steps.Target) *steps.Certification {
	if target.OpenStore == nil {
		target.OpenStore = func(ctx context.Context) (simulator.Store, error) { return sqlite.Open(ctx, ":memory:") }
	}
	return steps.NewCertification(target)
}

func everyMode(url string, p simulator.Protocol) steps.Target {
	return steps.Target{
		URL: url, AccessKey: testKey, Protocol: p,
		Modes: []simulator.ChargingMode{simulator.Period, simulator.OnDemand, simulator.OnDemandPkg}, Trial: true, License: true,
	}
}

func run(t testing.TB, o Options) (Result, string) {
	t.Helper()
	var out bytes.Buffer
	o.Out = &out
	r, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	return r, out.String()
}

// Every required check passes against the sample merchant, as V2 and as
// V1, in well under the 10 s the issue allows; the time of each scenario is
// logged, slowest first. Recommended checks that depend on where a
// merchant is deployed (https, a domain name) warn on loopback.
func TestSampleMerchantPassesTheWholeSuite(t *testing.T) {
	base := sampleMerchant(t, merchant.Config{})
	for _, tc := range []struct {
		protocol simulator.Protocol
		path     string
	}{{simulator.V2, "/produce"}, {simulator.V1, "/produce/v1"}} {
		t.Run(string(tc.protocol), func(t *testing.T) {
			r, out := run(t, Options{Steps: vocabulary(everyMode(base+tc.path, tc.protocol))})
			if r.ExitCode() != 0 {
				t.Fatalf("exit %d, want 0:\n%s", r.ExitCode(), out)
			}
			for _, s := range r.Scenarios {
				if s.Status == Failed && s.Level == Required {
					t.Errorf("%s (%s:%d): %s %s", s.Name, s.URI, s.Line, s.Status, s.Error)
				}
				if slices.Contains(s.Tags, map[simulator.Protocol]string{simulator.V2: "@v1", simulator.V1: "@v2"}[tc.protocol]) {
					t.Errorf("%s is tagged for the other protocol but ran", s.Name)
				}
			}
			// The 10 s target is measured by BenchmarkSuite, not here: a
			// race-instrumented test sharing the machine says nothing of it.
			t.Logf("%d scenarios in %s wall time; slowest:", len(r.Scenarios), r.Elapsed.Round(time.Millisecond))
			for _, s := range r.Slowest(len(r.Scenarios)) {
				t.Logf("  %7s  %s (%s:%d)", s.Duration.Round(time.Millisecond), s.Name, s.URI, s.Line)
			}
			if !strings.Contains(out, "PASS: every required check passed") {
				t.Errorf("the report does not end in a pass:\n%s", out)
			}
		})
	}
}

// A merchant that creates a new instance for a repeated newInstance fails
// the run, and the report names the idempotency scenario and says why.
func TestRequiredCheckFailureFailsTheRun(t *testing.T) {
	base := sampleMerchant(t, merchant.Config{Defect: merchant.DefectNewInstanceNotIdempotent})
	r, out := run(t, Options{Steps: vocabulary(steps.Target{URL: base + "/produce", AccessKey: testKey})})
	if r.ExitCode() != 1 {
		t.Fatalf("exit %d, want 1:\n%s", r.ExitCode(), out)
	}
	failures := r.Failures()
	i := slices.IndexFunc(failures, func(s Scenario) bool {
		return s.URI == "idempotency.feature" && strings.Contains(s.Error, "instanceId")
	})
	if i < 0 {
		t.Fatalf("no idempotency failure about the instanceId among %+v", failures)
	}
	f := failures[i]
	if f.Level != Required || f.Step == "" || f.Error == "" {
		t.Errorf("failure %+v: want a required scenario with its step and error", f)
	}
	for _, want := range []string{"FAIL  " + f.Name, "Failures (required checks):", "step: " + f.Step, "FAIL: "} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, testKey) {
		t.Error("the report shows the access key")
	}
}

// A recommended check that fails is a warning: the run passes. --strict
// makes the same failure fail the run. The merchant is correct; the
// recommended answer time is lowered to 1 ns so that the recommended
// answer-time check fails too.
func TestRecommendedFailureIsAWarningUnlessStrict(t *testing.T) {
	base := sampleMerchant(t, merchant.Config{})
	target := steps.Target{URL: base + "/produce", AccessKey: testKey, SlowAfter: time.Nanosecond}

	r, out := run(t, Options{Steps: vocabulary(target)})
	warnings := r.Warnings()
	if r.ExitCode() != 0 || len(warnings) == 0 || len(r.Failures()) != 0 {
		t.Fatalf("exit %d, %d warnings, %d failures; want 0 with warnings only:\n%s", r.ExitCode(), len(warnings), len(r.Failures()), out)
	}
	if !slices.ContainsFunc(warnings, func(w Scenario) bool { return strings.Contains(w.Error, "more than the recommended 1ns") }) {
		t.Errorf("no warning about the recommended answer time:\n%s", out)
	}
	for _, w := range warnings {
		if w.Level != Recommended {
			t.Errorf("warning %s is %s", w.Name, w.Level)
		}
		if !strings.Contains(out, "WARN  "+w.Name) {
			t.Errorf("no WARN line for %s:\n%s", w.Name, out)
		}
	}
	if !strings.Contains(out, "PASS: every required check passed, with") {
		t.Errorf("the verdict is not a pass with warnings:\n%s", out)
	}

	strict, out := run(t, Options{Steps: vocabulary(target), Strict: true})
	if strict.ExitCode() != 1 || len(strict.Warnings()) != 0 {
		t.Fatalf("strict: exit %d, %d warnings; want 1 and none:\n%s", strict.ExitCode(), len(strict.Warnings()), out)
	}
	var names []string
	for _, f := range strict.Failures() {
		names = append(names, f.Name)
	}
	for _, w := range warnings {
		if !slices.Contains(names, w.Name) {
			t.Errorf("strict: %s is not a failure (failures: %v)", w.Name, names)
		}
	}
}

// A merchant that is not listening is reported once, before any scenario.
func TestUnreachableMerchantDoesNotRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	var out bytes.Buffer
	report := filepath.Join(t.TempDir(), "report.xml")
	_, err = Run(context.Background(), Options{Steps: vocabulary(steps.Target{URL: "http://" + addr + "/produce", AccessKey: testKey}), Out: &out, Formats: []string{"junit:" + report}})
	if err == nil || !strings.Contains(err.Error(), "merchant unreachable at the start") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err %v; want merchant unreachable at the start", err)
	}
	if out.Len() != 0 {
		t.Errorf("something ran:\n%s", out.String())
	}
	if _, err := os.Stat(report); err == nil {
		t.Error("a report was written for a run that did not happen")
	}
}

// Any HTTP answer shows a service is there, a 404 or 405 included.
func TestPreflightAcceptsAnyHTTPAnswer(t *testing.T) {
	srv := httptest.NewServer(nil) // 404 for everything
	defer srv.Close()
	if err := preflight(context.Background(), srv.URL+"/produce", time.Second); err != nil {
		t.Errorf("404: %v", err)
	}
	if err := preflight(context.Background(), "ftp://host/x", time.Second); err == nil {
		t.Error("an ftp URL passed")
	}
}

// The report files: JUnit XML that parses with counts matching the
// result, cucumber JSON that parses with every scenario, and an HTML page
// that shows the failure text.
func TestReportFiles(t *testing.T) {
	base := sampleMerchant(t, merchant.Config{Defect: merchant.DefectNewInstanceNotIdempotent})
	dir := t.TempDir()
	junitPath, cukePath, htmlPath := filepath.Join(dir, "r.xml"), filepath.Join(dir, "r.json"), filepath.Join(dir, "r.html")
	r, out := run(t, Options{
		Steps:   vocabulary(steps.Target{URL: base + "/produce", AccessKey: testKey}),
		Formats: []string{"pretty", "junit:" + junitPath, "cucumber:" + cukePath, "html:" + htmlPath},
	})
	failed := 0
	for _, s := range r.Scenarios {
		if s.Status == Failed {
			failed++
		}
	}
	if failed == 0 {
		t.Fatalf("the defect failed nothing:\n%s", out)
	}

	var junit struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Suites   []struct {
			Cases []struct {
				Name       string `xml:"name,attr"`
				Properties []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"properties>property"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
				SystemOut string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	data, err := os.ReadFile(junitPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(data, &junit); err != nil {
		t.Fatalf("JUnit XML does not parse: %v\n%s", err, data)
	}
	// Only what fails the run is a <failure>: a CI reading JUnit must agree
	// with the exit status. Warnings say so without failing.
	warnings := r.Warnings()
	if len(warnings) == 0 || len(r.Failures()) == failed {
		t.Fatalf("the run has %d warnings and %d failures of %d failed: the test needs both kinds", len(warnings), len(r.Failures()), failed)
	}
	if junit.Tests != len(r.Scenarios) || junit.Failures != len(r.Failures()) || junit.Errors != 0 {
		t.Errorf("JUnit: %d tests, %d failures, %d errors; the result has %d scenarios, %d failing the run", junit.Tests, junit.Failures, junit.Errors, len(r.Scenarios), len(r.Failures()))
	}
	firstFailure := r.Failures()[0]
	found, warned := false, 0
	for _, s := range junit.Suites {
		for _, c := range s.Cases {
			found = found || c.Name == firstFailure.Name && c.Failure != nil && strings.Contains(c.Failure.Message, firstLine("", firstFailure.Error))
			for _, w := range warnings {
				if c.Name != w.Name {
					continue
				}
				if c.Failure != nil || !strings.Contains(c.SystemOut, "WARNING") {
					t.Errorf("warning %q in JUnit: failure %v, system-out %q", w.Name, c.Failure, c.SystemOut)
				}
				for _, p := range c.Properties {
					if p.Name == "warning" && p.Value != "" {
						warned++
					}
				}
			}
		}
	}
	if !found {
		t.Errorf("JUnit has no failure for %q with its message", firstFailure.Name)
	}
	if warned != len(warnings) {
		t.Errorf("%d of %d warnings carry a warning property", warned, len(warnings))
	}

	data, err = os.ReadFile(cukePath)
	if err != nil {
		t.Fatal(err)
	}
	var cuke []cukeFeature
	if err := json.Unmarshal(data, &cuke); err != nil {
		t.Fatalf("cucumber JSON does not parse: %v", err)
	}
	elements := 0
	for _, f := range cuke {
		elements += len(f.Elements)
	}
	if elements != len(r.Scenarios) {
		t.Errorf("cucumber JSON has %d scenarios, the result %d", elements, len(r.Scenarios))
	}

	data, err = os.ReadFile(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	page := string(data)
	for _, want := range []string{"<!DOCTYPE html>", "FAIL</span>", template.HTMLEscapeString(firstFailure.Name), template.HTMLEscapeString(firstLine("", firstFailure.Error)), `class="failed" open>`} {
		if !strings.Contains(page, want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
	for _, notWanted := range []string{"<script", "<link", "<img", testKey} {
		if strings.Contains(page, notWanted) {
			t.Errorf("HTML report has %q: it must be self-contained and never show the key", notWanted)
		}
	}
	for _, p := range []string{junitPath, cukePath, htmlPath} {
		if !strings.Contains(out, "written to "+p) {
			t.Errorf("the terminal report does not mention %s", p)
		}
	}
}

func TestTagFilter(t *testing.T) {
	v2 := steps.Target{}
	const noAPI = " && ~@open-api && ~@license-software && ~@order-notify"
	const noJoint = " && ~@kit && ~@login && ~@refresh && ~@logout && ~@cas" + noAPI
	kit := steps.Target{KitKey: "kk", PublicKeyPEM: "pem"}
	joint := steps.Target{KitKey: "kk", PublicKeyPEM: "pem", LoginURL: "u", RedirectURI: "u", RefreshURL: "u", LogoutURL: "u", CASLoginURL: "u", CASService: "u"}
	tests := []struct {
		name   string
		target steps.Target
		tags   string
		want   string
	}{
		{"v2 default modes", v2, "", "~@v1 && ~@on-demand && ~@package && ~@license && ~@upgrade" + noJoint},
		{"v1 every mode", steps.Target{Protocol: simulator.V1, Modes: []simulator.ChargingMode{simulator.Period, simulator.OnDemand, simulator.OnDemandPkg}, Trial: true, License: true, Upgrade: true}, "", "~@v2" + noJoint},
		{"on-demand only", steps.Target{Modes: []simulator.ChargingMode{simulator.OnDemand}}, "", "~@v1 && ~@period && ~@trial && ~@package && ~@license && ~@upgrade" + noJoint},
		{"user and", v2, "@required&&~@retries", "@required && ~@retries && ~@v1 && ~@on-demand && ~@package && ~@license && ~@upgrade" + noJoint},
		{"user or", v2, "required, @recommended", "@required && ~@v1 && ~@on-demand && ~@package && ~@license && ~@upgrade" + noJoint + ", @recommended && ~@v1 && ~@on-demand && ~@package && ~@license && ~@upgrade" + noJoint},
		{"kit syncs", kit, "", "~@v1 && ~@on-demand && ~@package && ~@license && ~@upgrade && ~@login && ~@refresh && ~@logout && ~@cas" + noAPI},
		{"every joint check", joint, "", "~@v1 && ~@on-demand && ~@package && ~@license && ~@upgrade" + noAPI},
		{"open APIs", steps.Target{OpenAPI: &steps.OpenAPI{}}, "", "~@v1 && ~@on-demand && ~@package && ~@license && ~@upgrade && ~@kit && ~@login && ~@refresh && ~@logout && ~@cas && ~@license-software && ~@order-notify"},
		{"open APIs and the License software", steps.Target{OpenAPI: &steps.OpenAPI{}, LicenseURL: "u"}, "", "~@v1 && ~@on-demand && ~@package && ~@license && ~@upgrade && ~@kit && ~@login && ~@refresh && ~@logout && ~@cas && ~@order-notify"},
		{"the generic order notification's key", steps.Target{OrderNotifyKey: "nk"}, "", "~@v1 && ~@on-demand && ~@package && ~@license && ~@upgrade && ~@kit && ~@login && ~@refresh && ~@logout && ~@cas && ~@open-api && ~@license-software"},
		{"a generic product in the catalogue", steps.Target{Products: []simulator.Product{{InterfaceType: simulator.GenericInterface, OrderNotifyKey: "nk"}}}, "", "~@v1 && ~@on-demand && ~@package && ~@license && ~@upgrade && ~@kit && ~@login && ~@refresh && ~@logout && ~@cas && ~@open-api && ~@license-software"},
		{"login without the kit", steps.Target{LoginURL: "u", RedirectURI: "u", CASLoginURL: "u", CASService: "u"}, "", "~@v1 && ~@on-demand && ~@package && ~@license && ~@upgrade" + noJoint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tagFilter(vocabulary(tt.target).Excluded(), tt.tags)
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	for _, bad := range []string{"@a &&", "@a and not @b", ",@a", "~", "@a && (@b)"} {
		if _, err := tagFilter(vocabulary(v2).Excluded(), bad); err == nil || !strings.Contains(err.Error(), "want tags joined by &&") {
			t.Errorf("%q: err %v", bad, err)
		}
	}
}

// Bad options are refused before anything runs.
func TestRunRefusesBadOptions(t *testing.T) {
	base := sampleMerchant(t, merchant.Config{})
	target := steps.Target{URL: base + "/produce", AccessKey: testKey}
	tests := []struct {
		o    Options
		want string
	}{
		{Options{Steps: vocabulary(target), Tags: "@no-such-tag"}, `tags: "@no-such-tag" selects no scenario for this merchant (V2, modes period,trial)`},
		{Options{Steps: vocabulary(target), Tags: "@v1"}, "selects no scenario"},
		{Options{Steps: vocabulary(target), Formats: []string{"xml:r.xml"}}, `format: "xml:r.xml": want pretty, junit:PATH, cucumber:PATH or html:PATH`},
		{Options{Steps: vocabulary(target), Formats: []string{"junit"}}, `format: "junit": want junit:PATH`},
		{Options{Steps: vocabulary(target), Formats: []string{"html:/no/such/dir/r.html"}}, "the directory /no/such/dir does not exist"},
		{Options{Steps: vocabulary(steps.Target{URL: "127.0.0.1:8081/produce", AccessKey: testKey})}, "want an absolute http(s) URL"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		tt.o.Out = &out
		_, err := Run(context.Background(), tt.o)
		if err == nil || !strings.Contains(err.Error(), tt.want) || simulator.ErrorCode(err) != simulator.EINVALID {
			t.Errorf("%+v: err %v; want %q", tt.o.Formats, err, tt.want)
		}
		if out.Len() != 0 {
			t.Errorf("something ran: %s", out.String())
		}
	}
}

// BenchmarkSuite is the whole V2 suite against the sample merchant.
func BenchmarkSuite(b *testing.B) {
	base := sampleMerchant(b, merchant.Config{})
	for b.Loop() {
		r, err := Run(context.Background(), Options{Steps: vocabulary(everyMode(base+"/produce", simulator.V2))})
		if err != nil || r.ExitCode() != 0 {
			b.Fatalf("exit %d, %v", r.ExitCode(), err)
		}
	}
}

// The run's tag filter selects exactly the scenarios the steps accept for
// the target (steps.Target.Applies): a scenario the filter let through but
// the steps skip would be reported as skipped instead of left out.
func TestSelectionAgreesWithTheSteps(t *testing.T) {
	s, err := loadSuite(vocabulary(steps.Target{}), "")
	if err != nil {
		t.Fatal(err)
	}
	all, err := plan(s, "")
	if err != nil {
		t.Fatal(err)
	}
	key := func(s Scenario) string { return fmt.Sprintf("%s:%d %s", s.URI, s.Line, s.Name) }
	targets := map[string]steps.Target{
		"default":                   {},
		"v1":                        {Protocol: simulator.V1},
		"on-demand and trial":       {Modes: []simulator.ChargingMode{simulator.OnDemand}, Trial: true},
		"period without trial":      {Modes: []simulator.ChargingMode{simulator.Period}},
		"package, license, upgrade": {Modes: []simulator.ChargingMode{simulator.OnDemandPkg, simulator.Period}, License: true, Upgrade: true},
		"order notification":        {OrderNotifyKey: "nk"},
		"order notification in v1":  {Protocol: simulator.V1, OrderNotifyKey: "nk"},
	}
	for name, target := range targets {
		filter, err := tagFilter(vocabulary(target).Excluded(), "")
		if err != nil {
			t.Fatal(err)
		}
		selected, err := plan(s, filter)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, s := range selected {
			got[key(s)] = true
		}
		for _, s := range all {
			if want := target.Applies(s.Tags); got[key(s)] != want {
				t.Errorf("%s: %s (%v): selected %v, the steps accept it: %v", name, key(s), s.Tags, got[key(s)], want)
			}
		}
	}
}
