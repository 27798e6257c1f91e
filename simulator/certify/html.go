package certify

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"time"
)

// reportHTML is the HTML report's template: one self-contained page, no
// scripts, no external styles.
//
//go:embed report.html
var reportHTML string

// The cucumber JSON the HTML report is rendered from: the members godog's
// cucumber formatter writes that the report shows.
type (
	cukeFeature struct {
		URI      string        `json:"uri"`
		Name     string        `json:"name"`
		Elements []cukeElement `json:"elements"`
	}
	cukeElement struct {
		Name  string     `json:"name"`
		Line  int        `json:"line"`
		Tags  []cukeTag  `json:"tags"`
		Steps []cukeStep `json:"steps"`
	}
	cukeTag  struct{ Name string }
	cukeStep struct {
		Keyword string `json:"keyword"`
		Name    string `json:"name"`
		Result  struct {
			Status   string `json:"status"`
			Error    string `json:"error_message"`
			Duration int64  `json:"duration"` // nanoseconds
		} `json:"result"`
		// Embeddings are the step's attachments: its notes.
		Embeddings []struct {
			MimeType string `json:"mime_type"`
			Data     []byte `json:"data"` // base64 in the JSON
		} `json:"embeddings"`
	}
)

// The page's data.
type (
	htmlPage struct {
		Target                                 targetInfo
		Generated                              string
		Strict                                 bool
		Verdict                                string
		Passed, Failed, Warnings, Skipped, All int
		Elapsed                                string
		Features                               []htmlFeature
		// Causes are the root causes of what failed or warned, the one
		// to fix first first (causes.go).
		Causes []htmlCause
	}
	htmlCause struct {
		Cause, Count string
		Fails        bool // the cause fails the run; else it warns
		Scenarios    []htmlScenario
	}
	htmlFeature struct {
		Name, URI string
		Scenarios []htmlScenario
	}
	htmlScenario struct {
		Name, Where, Level, Outcome, Duration string
		ID                                    string // the anchor of its section
		Tags                                  []string
		Steps                                 []htmlStep
	}
	htmlStep struct {
		Keyword, Name, Status, Duration, Error string
		Notes                                  []string
	}
)

// renderHTML writes the HTML report of a run from godog's cucumber JSON.
func renderHTML(w io.Writer, cucumber []byte, r Result, t targetInfo) error {
	var features []cukeFeature
	if err := json.Unmarshal(cucumber, &features); err != nil {
		return fmt.Errorf("reading godog's cucumber JSON: %w", err)
	}
	tally := r.tally()
	page := htmlPage{
		Target: t, Generated: time.Now().UTC().Format(time.RFC3339), Strict: r.Strict,
		Passed: total(tally.passed), Failed: len(r.Failures()), Warnings: len(r.Warnings()),
		Skipped: total(tally.skipped), All: len(r.Scenarios), Elapsed: seconds(r.Elapsed),
		Verdict: "PASS",
	}
	if page.Failed > 0 {
		page.Verdict = "FAIL"
	}
	page.Features, page.Causes = arrange(features, r)
	tmpl, err := template.New("report").Parse(reportHTML)
	if err != nil {
		return err
	}
	return tmpl.Execute(w, page)
}

// arrange lays the scenarios out: those that failed, were blocked or
// warned first, in the order they ran, then the others by feature; and
// the causes of the first, each with its scenarios.
func arrange(features []cukeFeature, r Result) ([]htmlFeature, []htmlCause) {
	key := func(uri string, line int, name string) string { return fmt.Sprintf("%s:%d %s", uri, line, name) }
	byKey := map[string]htmlScenario{}
	for _, f := range features {
		for _, e := range f.Elements {
			byKey[key(f.URI, e.Line, e.Name)] = htmlScenarioOf(f, e, r)
		}
	}
	notPassed := htmlFeature{Name: "Failed, blocked and warnings, in the order they ran"}
	shown := map[string]bool{}
	for _, s := range r.Scenarios {
		if k := key(s.URI, s.Line, s.Name); (s.Fails(r.Strict) || s.Warns(r.Strict)) && !shown[k] {
			notPassed.Scenarios, shown[k] = append(notPassed.Scenarios, byKey[k]), true
		}
	}
	var out []htmlFeature
	if len(notPassed.Scenarios) > 0 {
		out = append(out, notPassed)
	}
	for _, f := range features {
		hf := htmlFeature{Name: f.Name, URI: f.URI}
		for _, e := range f.Elements {
			if k := key(f.URI, e.Line, e.Name); !shown[k] {
				hf.Scenarios = append(hf.Scenarios, byKey[k])
			}
		}
		if len(hf.Scenarios) > 0 {
			out = append(out, hf)
		}
	}
	var causes []htmlCause
	for _, failing := range []bool{true, false} {
		for _, g := range r.causes(failing) {
			c := htmlCause{Cause: g.Cause, Count: g.count(), Fails: failing}
			for _, s := range g.Scenarios {
				c.Scenarios = append(c.Scenarios, byKey[key(s.URI, s.Line, s.Name)])
			}
			causes = append(causes, c)
		}
	}
	return out, causes
}

// htmlScenarioOf is a scenario of the cucumber JSON with its outcome as
// the run recorded it (a skip, a level decided by the tags).
func htmlScenarioOf(f cukeFeature, e cukeElement, r Result) htmlScenario {
	s := Scenario{Name: e.Name, URI: f.URI, Line: e.Line, Status: Passed}
	for _, t := range e.Tags {
		if !slices.Contains(s.Tags, t.Name) { // godog repeats the feature's tags
			s.Tags = append(s.Tags, t.Name)
		}
	}
	s.Level = levelOf(s.Tags)
	// The level is shown once, with the place: not among the tags.
	hs := htmlScenario{Name: e.Name, Level: string(s.Level), ID: fmt.Sprintf("s-%s-%d", f.URI, e.Line),
		Tags: slices.DeleteFunc(slices.Clone(s.Tags), func(t string) bool { return t == "@"+string(s.Level) })}
	for _, st := range e.Steps {
		d := time.Duration(st.Result.Duration)
		s.Duration += d
		step := htmlStep{Keyword: st.Keyword, Name: st.Name, Status: st.Result.Status, Duration: seconds(d), Error: st.Result.Error}
		for _, e := range st.Embeddings {
			if e.MimeType == "text/plain" {
				step.Notes = append(step.Notes, string(e.Data))
			}
		}
		hs.Steps = append(hs.Steps, step)
		if st.Result.Status != "passed" && st.Result.Status != "skipped" {
			s.Status = Failed
		}
	}
	if i := slices.IndexFunc(r.Scenarios, func(x Scenario) bool { return x.URI == s.URI && x.Line == s.Line && x.Name == s.Name }); i >= 0 {
		s.Status, s.Duration = r.Scenarios[i].Status, r.Scenarios[i].Duration
	}
	hs.Where, hs.Duration = where(s), seconds(s.Duration)
	hs.Outcome = map[string]string{"WARN": "warning", "FAIL": "failed", "SKIP": "skipped", "PASS": "passed", "BLOCKED": "blocked", "NOTE": "note"}[mark(s, r.Strict)]
	return hs
}
