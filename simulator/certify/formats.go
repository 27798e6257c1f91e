package certify

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kgsim/kgsim/simulator"
)

// report is one requested report file.
type report struct {
	kind string // junit, cucumber or html
	path string
}

// parseFormats checks the requested formats. "pretty", the terminal
// report, is always written to Options.Out; the others are files.
func parseFormats(formats []string) ([]report, error) {
	var out []report
	for _, f := range formats {
		kind, path, hasPath := strings.Cut(f, ":")
		switch {
		case kind == "pretty" && !hasPath:
			continue
		case kind != "junit" && kind != "cucumber" && kind != "html":
			return nil, simulator.Errorf(simulator.EINVALID, "format", "%q: want pretty, junit:PATH, cucumber:PATH or html:PATH", f)
		case path == "":
			return nil, simulator.Errorf(simulator.EINVALID, "format", "%q: want %s:PATH, the file to write the report to", f, kind)
		}
		if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
			return nil, simulator.Errorf(simulator.EINVALID, "format", "%q: the directory %s does not exist", f, filepath.Dir(path))
		}
		out = append(out, report{kind, path})
	}
	return out, nil
}

// godogFormat is godog's Format option: its cucumber formatter into
// Options.Output, which the HTML report is rendered from, and into the
// requested cucumber files. HTML and JUnit are kgsim's own (writeReports).
func godogFormat(reports []report) string {
	format := []string{"cucumber"}
	for _, r := range reports {
		if r.kind == "cucumber" {
			format = append(format, r.kind+":"+r.path)
		}
	}
	return strings.Join(format, ",")
}

// createReports makes sure every report file can be written before the
// suite runs: godog would otherwise report a file it cannot create on the
// process's standard error and skip the run.
func createReports(reports []report) error {
	for _, r := range reports {
		f, err := os.Create(r.path)
		if err != nil {
			return simulator.Errorf(simulator.EINVALID, "format", "%s:%s: %v", r.kind, r.path, err)
		}
		f.Close()
	}
	return nil
}

// writeReports writes the reports kgsim renders itself from the result:
// HTML, and JUnit.
func writeReports(reports []report, cucumber []byte, r Result, t targetInfo) error {
	for _, rep := range reports {
		var render func(io.Writer) error
		switch rep.kind {
		case "html":
			render = func(w io.Writer) error { return renderHTML(w, cucumber, r, t) }
		case "junit":
			render = func(w io.Writer) error { return writeJUnit(w, r) }
		default:
			continue
		}
		f, err := os.Create(rep.path)
		if err != nil {
			return fmt.Errorf("%s report %s: %w", rep.kind, rep.path, err)
		}
		err = render(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s report %s: %w", rep.kind, rep.path, err)
		}
	}
	return nil
}
