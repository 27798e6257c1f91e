package certify

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// The JUnit report is written from the Result, not by godog: a CI reads
// <failure> as "the build fails", so only what fails the run (a required
// check, or a recommended one under --strict) is one. A warning is a
// passing test case that says so in its properties and system-out, where
// CI report views show it; a check that did not apply is <skipped>.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
	duration time.Duration
}

type junitCase struct {
	Name       string          `xml:"name,attr"`
	Classname  string          `xml:"classname,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Failure    *junitFailure   `xml:"failure,omitempty"`
	Skipped    *junitSkipped   `xml:"skipped,omitempty"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// junitTime is a duration as JUnit writes it: seconds, without a unit.
func junitTime(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// junitOf lays r out as JUnit: a suite per feature, in feature order.
func junitOf(r Result) junitSuites {
	out := junitSuites{Name: "kgsim certify", Time: junitTime(r.Elapsed)}
	index := map[string]int{}
	for _, s := range r.Scenarios {
		i, ok := index[s.Feature]
		if !ok {
			i = len(out.Suites)
			index[s.Feature] = i
			out.Suites = append(out.Suites, junitSuite{Name: s.Feature})
		}
		suite := &out.Suites[i]
		c := junitCase{
			Name: s.Name, Classname: fmt.Sprintf("%s:%d", s.URI, s.Line), Time: junitTime(s.Duration),
			Properties: []junitProperty{{"level", string(s.Level)}, {"status", string(s.Status)}, {"tags", strings.Join(s.Tags, " ")}},
		}
		if s.Cause != "" {
			c.Properties = append(c.Properties, junitProperty{"cause", s.Cause})
		}
		switch {
		case s.Fails(r.Strict):
			c.Failure = &junitFailure{Message: firstLine(s.Step, s.Error), Type: string(s.Level), Text: s.Step + "\n" + s.Error}
			suite.Failures++
		case s.Warns(r.Strict):
			c.Properties = append(c.Properties, junitProperty{"warning", firstLine(s.Step, s.Error)})
			c.SystemOut = "WARNING: a recommended check failed; it does not fail the run (--strict would count it).\n" + s.Step + "\n" + s.Error
			if s.Level == Informational {
				c.SystemOut = "WARNING: an informational check failed; nothing counts it, not even --strict.\n" + s.Step + "\n" + s.Error
			}
		case s.Status == Skipped:
			c.Skipped = &junitSkipped{Message: "not applicable to this merchant"}
			suite.Skipped++
		}
		if len(s.Notes) > 0 {
			c.SystemOut = strings.TrimLeft(c.SystemOut+"\n"+strings.Join(s.Notes, "\n"), "\n")
		}
		suite.Tests++
		suite.duration += s.Duration
		suite.Cases = append(suite.Cases, c)
	}
	for i := range out.Suites {
		s := &out.Suites[i]
		s.Time = junitTime(s.duration)
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Skipped += s.Skipped
	}
	return out
}

// writeJUnit writes r as JUnit XML to w.
func writeJUnit(w io.Writer, r Result) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitOf(r)); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
