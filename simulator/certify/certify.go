// Package certify runs the certification suite (a Vocabulary: the
// scenarios of package features with the step definitions of package
// steps) in-process with godog against a merchant's production interface,
// and reports it: on a terminal while it runs, as JUnit XML, cucumber JSON
// and HTML.
//
// Each scenario gets a world of its own (in-memory store, virtual clock),
// so scenarios run in parallel and hours of retries take milliseconds.
package certify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"
	"github.com/kgsim/kgsim/simulator"
)

// Options is a certification run.
type Options struct {
	// Steps are the scenarios and step definitions, bound to the merchant
	// under test.
	Steps Vocabulary
	// OpenAPI serves the open APIs while the run lasts, for the
	// scenarios of the merchant's calls to them (@open-api); its zero
	// value serves none and leaves those out.
	OpenAPI OpenAPI
	// Tags selects scenarios with godog's tag expressions ("@required &&
	// ~@retries, @v1"), on top of what Steps leaves out: the other
	// protocol's scenarios and the charging modes the merchant does not
	// declare.
	Tags string
	// Formats are the reports: "pretty" (the terminal report, always
	// written to Out), "junit:PATH", "cucumber:PATH", "html:PATH".
	Formats []string
	// Strict counts a failed recommended check as a failure, not a warning.
	Strict bool
	// Features is a directory of the merchant's own .feature files, run
	// after kgsim's with the same steps, tags and levels; "" for none.
	Features string
	Out      io.Writer // progress and the terminal report; nil discards
}

// parallel is how many scenarios run at once. Scenarios share nothing
// but the merchant, which must take concurrent calls anyway; running
// them in parallel keeps the suite's wall time to its slowest scenarios.
const parallel = 8

// Run certifies the merchant of o.Steps. It returns an error only when the suite could
// not run: a bad tag expression or format, no scenario selected, the
// merchant unreachable before the first scenario, a report file that
// cannot be written, or ctx cancelled.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := o.Steps.Check(); err != nil {
		return Result{}, err
	}
	reports, err := parseFormats(o.Formats)
	if err != nil {
		return Result{}, err
	}
	s, err := loadSuite(o.Steps, o.Features)
	if err != nil {
		return Result{}, err
	}
	if o.OpenAPI.Addr != "" {
		stop, err := serveOpenAPI(ctx, o.OpenAPI, o.Steps)
		if err != nil {
			return Result{}, err
		}
		defer stop()
	}
	filter, err := tagFilter(o.Steps.Excluded(), o.Tags)
	if err != nil {
		return Result{}, err
	}
	planned, err := plan(s, filter)
	if err != nil {
		return Result{}, err
	}
	info := describe(o.Steps)
	if o.OpenAPI.Addr != "" {
		info.OpenAPI = "http://" + o.OpenAPI.Addr
	}
	if len(planned) == 0 {
		return Result{}, simulator.Errorf(simulator.EINVALID, "tags", "%q selects no scenario for this merchant (%s, modes %s)", o.Tags, info.Protocol, info.Modes)
	}
	if err := preflight(ctx, info.URL, info.timeout); err != nil {
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("interrupted before the first scenario: %w", ctx.Err())
		}
		return Result{}, err
	}
	if err := createReports(reports); err != nil {
		return Result{}, err
	}

	out := &pretty{w: o.Out, total: len(planned), strict: o.Strict}
	if out.w == nil {
		out.w = io.Discard
	}
	out.header(info)
	rec := &recorder{planned: planned, out: out, rootCause: o.Steps.RootCause}
	var cucumber bytes.Buffer
	suite := godog.TestSuite{
		Name: "kgsim certify",
		ScenarioInitializer: func(sc *godog.ScenarioContext) {
			rec.hook(sc, func() { o.Steps.Register(sc) })
		},
		Options: &godog.Options{
			FS: s.fsys, Paths: s.paths, Tags: filter,
			Format: godogFormat(reports), Output: &cucumber, NoColors: true,
			// Undefined, pending and ambiguous steps fail: a check that
			// did not run must not pass.
			Strict:         true,
			Concurrency:    parallel,
			DefaultContext: ctx,
		},
	}
	started := time.Now()
	if suite.Run() == 2 {
		return Result{}, fmt.Errorf("godog could not run the suite (report files %v)", o.Formats)
	}
	r := rec.result(o.Strict, time.Since(started))
	if err := ctx.Err(); err != nil {
		return r, fmt.Errorf("interrupted after %d of %d scenarios: %w", out.done, len(planned), err)
	}
	if err := writeReports(reports, cucumber.Bytes(), r, info); err != nil {
		return r, err
	}
	out.summary(r, reports)
	return r, nil
}

// plan returns the scenarios the filter selects, in the order they run.
func plan(s suite, filter string) ([]Scenario, error) {
	fts, err := godog.TestSuite{Options: &godog.Options{FS: s.fsys, Paths: s.paths, Tags: filter}}.RetrieveFeatures()
	if err != nil {
		return nil, fmt.Errorf("the features do not parse: %w", err)
	}
	var out []Scenario
	for _, ft := range fts {
		for _, p := range ft.Pickles {
			s := scenarioOf(p)
			s.Feature = ft.Feature.Name
			out = append(out, s)
		}
	}
	return out, nil
}

// scenarioOf is what a pickle says of its scenario before it runs.
func scenarioOf(p *godog.Scenario) Scenario {
	s := Scenario{Name: p.Name, URI: p.Uri}
	if p.Location != nil {
		s.Line = int(p.Location.Line)
	}
	for _, t := range p.Tags {
		s.Tags = append(s.Tags, t.Name)
	}
	s.Level = levelOf(s.Tags)
	return s
}

// recorder collects each scenario's outcome as it finishes.
type recorder struct {
	planned   []Scenario
	out       *pretty
	rootCause func(error) (cause string, blocked bool)
	mu        sync.Mutex
	done      []Scenario
}

// hook wraps a scenario's step registration with the hooks that time it
// and record where it failed: registered first and last, they see the
// scenario's whole run, the steps' own hooks included.
func (rec *recorder) hook(sc *godog.ScenarioContext, register func()) {
	var (
		start     time.Time
		step, msg string
		skipped   bool
		cause     string // the root cause of the step that failed
		blocked   bool   // the step that failed was a precondition
		notes     []string
	)
	sc.Before(func(ctx context.Context, _ *godog.Scenario) (context.Context, error) {
		start = time.Now()
		return ctx, ctx.Err()
	})
	register()
	sc.StepContext().After(func(ctx context.Context, st *godog.Step, status godog.StepResultStatus, err error) (context.Context, error) {
		for _, a := range godog.Attachments(ctx) {
			if a.MediaType == "text/plain" {
				notes = append(notes, strings.TrimRight(string(a.Body), "\n"))
			}
		}
		switch {
		case status == godog.StepSkipped && errors.Is(err, godog.ErrSkip):
			skipped = true
		case step == "" && status != godog.StepPassed && status != godog.StepSkipped:
			step, msg = keyword(st)+" "+st.Text, stepError(status, err)
			// A precondition that fails blocks the check: it was not made.
			cause, blocked = rec.rootCause(err)
			blocked = blocked || keyword(st) == "Given"
			if cause == "" {
				cause = firstLine("", msg)
			}
		}
		return ctx, nil
	})
	sc.After(func(ctx context.Context, p *godog.Scenario, err error) (context.Context, error) {
		s := rec.find(p)
		s.Duration, s.Notes = time.Since(start), notes
		switch {
		case step != "":
			s.Status, s.Step, s.Error, s.Cause = Failed, step, msg, cause
			if blocked {
				s.Status = Blocked
			}
		case err != nil && !errors.Is(err, godog.ErrSkip):
			s.Status, s.Error, s.Cause = Failed, err.Error(), firstLine("", err.Error())
		case skipped:
			s.Status = Skipped
		default:
			s.Status = Passed
		}
		rec.mu.Lock()
		rec.done = append(rec.done, s)
		rec.mu.Unlock()
		rec.out.scenario(s)
		return ctx, nil
	})
}

// find returns the planned scenario a pickle is, or what the pickle says
// of itself.
func (rec *recorder) find(p *godog.Scenario) Scenario {
	s := scenarioOf(p)
	for _, pl := range rec.planned {
		if pl.URI == s.URI && pl.Line == s.Line && pl.Name == s.Name {
			return pl
		}
	}
	return s
}

// result puts the finished scenarios in plan order; a planned scenario
// that never finished is a failure.
func (rec *recorder) result(strict bool, elapsed time.Duration) Result {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	r := Result{Strict: strict, Elapsed: elapsed}
	done := slices.Clone(rec.done)
	for _, pl := range rec.planned {
		i := slices.IndexFunc(done, func(s Scenario) bool { return s.URI == pl.URI && s.Line == pl.Line && s.Name == pl.Name })
		if i < 0 {
			pl.Status, pl.Error, pl.Cause = Failed, "the scenario did not run", "a scenario did not run"
			r.Scenarios = append(r.Scenarios, pl)
			continue
		}
		r.Scenarios = append(r.Scenarios, done[i])
		done = slices.Delete(done, i, i+1)
	}
	return r
}

// keyword is the Gherkin keyword of a step's kind (pickles keep the kind,
// not the "And" or "But" written).
func keyword(st *godog.Step) string {
	switch st.Type.String() {
	case "Context":
		return "Given"
	case "Action":
		return "When"
	case "Outcome":
		return "Then"
	}
	return "*"
}

// stepError explains a step that did not pass.
func stepError(status godog.StepResultStatus, err error) string {
	switch status {
	case godog.StepUndefined:
		return "this step has no definition in this kgsim build: the features and steps packages disagree"
	case godog.StepPending:
		return "this step's definition is not written yet"
	case godog.StepAmbiguous:
		return fmt.Sprintf("more than one step definition matches: %v", err)
	}
	if err == nil {
		return "failed"
	}
	return err.Error()
}

// targetInfo is what reports say of the merchant under test: never its
// access key.
type targetInfo struct {
	URL, Protocol, Modes, EncryptType string
	Joint                             string // the joint-operation checks run: kit, login...; none
	OpenAPI                           string // where the open APIs are served; none
	timeout                           time.Duration
}

func describe(v Vocabulary) targetInfo {
	info := targetInfo{OpenAPI: "none"}
	info.URL, info.timeout = v.Merchant()
	info.Protocol, info.Modes, info.EncryptType, info.Joint = v.Declares()
	return info
}
