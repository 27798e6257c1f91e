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
	}
	htmlFeature struct {
		Name, URI string
		Scenarios []htmlScenario
	}
	htmlScenario struct {
		Name, Where, Level, Outcome, Duration string
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
		Passed: tally.passed[Required] + tally.passed[Recommended], Failed: len(r.Failures()), Warnings: len(r.Warnings()),
		Skipped: tally.skipped[Required] + tally.skipped[Recommended], All: len(r.Scenarios), Elapsed: seconds(r.Elapsed),
		Verdict: "PASS",
	}
	if page.Failed > 0 {
		page.Verdict = "FAIL"
	}
	for _, f := range features {
		hf := htmlFeature{Name: f.Name, URI: f.URI}
		for _, e := range f.Elements {
			hf.Scenarios = append(hf.Scenarios, htmlScenarioOf(f, e, r))
		}
		page.Features = append(page.Features, hf)
	}
	tmpl, err := template.New("report").Parse(reportHTML)
	if err != nil {
		return err
	}
	return tmpl.Execute(w, page)
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
	hs := htmlScenario{Name: e.Name, Level: string(s.Level), Tags: s.Tags}
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
	hs.Outcome = map[string]string{"WARN": "warning", "FAIL": "failed", "SKIP": "skipped", "PASS": "passed"}[mark(s, r.Strict)]
	return hs
}
