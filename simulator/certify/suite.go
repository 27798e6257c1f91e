package certify

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/cucumber/godog"
	"github.com/kgsim/kgsim/simulator"
)

// suite is the feature files a run parses, in the order they run: the
// vocabulary's, then the merchant's own (Options.Features) under a
// directory of their own in one file system.
type suite struct {
	fsys     fs.FS
	paths    []string
	matching func(text string) []string // the vocabulary's
	// dir is the merchant's directory as given, mount where its files are
	// in fsys; both empty without one.
	dir, mount string
}

// firstFeatures run first: a failed purchase blocks most checks, and its
// scenarios say why first.
var firstFeatures = []string{"purchase.feature", "answers.feature", "signature.feature"}

// loadSuite returns v's features and, when dir is not empty, a
// merchant's own, checked: every file parses, and every step is one of
// v's. Errors name the file and line, in one line, about the field
// "features".
func loadSuite(v Vocabulary, dir string) (suite, error) {
	base := v.Features()
	embedded, err := fs.Glob(base, "*.feature")
	if err != nil {
		return suite{}, err
	}
	slices.SortStableFunc(embedded, func(a, b string) int { return rank(a) - rank(b) })
	s := suite{fsys: base, paths: embedded, matching: v.Matching}
	if dir == "" {
		return s, nil
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return s, simulator.Errorf(simulator.EINVALID, "features", "%s is not a directory: want the directory of the merchant's .feature files", dir)
	}
	own := os.DirFS(dir)
	var files []string
	err = fs.WalkDir(own, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".feature") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return s, simulator.Errorf(simulator.EINVALID, "features", "reading %s: %v", dir, err)
	}
	if len(files) == 0 {
		return s, simulator.Errorf(simulator.EINVALID, "features", "%s has no .feature file", dir)
	}
	s.dir, s.mount = dir, mountPoint(dir)
	s.fsys = overlay{base: base, mount: s.mount, own: own}
	var mine []string
	for _, f := range files {
		mine = append(mine, s.mount+"/"+f)
	}
	if err := s.check(mine); err != nil {
		return s, err
	}
	s.paths = append(s.paths, mine...)
	return s, nil
}

// rank orders the embedded features: firstFeatures, then the rest.
func rank(name string) int {
	if i := slices.Index(firstFeatures, name); i >= 0 {
		return i
	}
	return len(firstFeatures)
}

// mountPoint is where a merchant's directory appears in the suite's file
// system, and so in the reports: the path as given when it is a plain
// relative one (features/own), else its last element.
func mountPoint(dir string) string {
	p := filepath.ToSlash(filepath.Clean(dir))
	if fs.ValidPath(p) && p != "." && !strings.HasSuffix(p, ".feature") {
		return p
	}
	abs, err := filepath.Abs(dir)
	if base := filepath.Base(abs); err == nil && fs.ValidPath(base) && base != "." && !strings.HasSuffix(base, ".feature") {
		return base
	}
	return "own"
}

// userPath is a suite path as the merchant knows it: its own directory
// as given, for its files.
func (s suite) userPath(p string) string {
	if rest, ok := strings.CutPrefix(p, s.mount+"/"); ok && s.mount != "" {
		return filepath.Join(s.dir, filepath.FromSlash(rest))
	}
	return p
}

// check parses the merchant's files and checks every step is defined:
// godog would only fail the scenario at run time, and silently skip the
// steps after it.
func (s suite) check(paths []string) error {
	fts, err := godog.TestSuite{Options: &godog.Options{FS: s.fsys, Paths: paths}}.RetrieveFeatures()
	if err != nil {
		msg := strings.Join(strings.Fields(err.Error()), " ")
		if m := parserError.FindStringSubmatch(msg); m != nil {
			msg = fmt.Sprintf("%s:%s: syntax error: %s", s.userPath(m[1]), m[2], m[3])
		}
		return simulator.Errorf(simulator.EINVALID, "features", "%s", msg)
	}
	for _, ft := range fts {
		for _, p := range ft.Pickles {
			for _, st := range p.Steps {
				line := int64(0)
				if ast := ft.FindStep(st.AstNodeIds[0]); ast != nil {
					line = ast.Location.Line
				}
				where := fmt.Sprintf("%s:%d", s.userPath(ft.Uri), line)
				switch match := s.matching(st.Text); {
				case st.Argument != nil:
					return simulator.Errorf(simulator.EINVALID, "features", "%s: %q has a table or doc string: kgsim's steps take none (kgsim steps lists them)", where, st.Text)
				case len(match) == 0:
					return simulator.Errorf(simulator.EINVALID, "features", "%s: undefined step %q: no step of kgsim's vocabulary matches it (kgsim steps lists them)", where, st.Text)
				case len(match) > 1:
					return simulator.Errorf(simulator.EINVALID, "features", "%s: %q matches %d steps: %s", where, st.Text, len(match), strings.Join(match, ", "))
				}
			}
		}
	}
	return nil
}

// parserError is how godog reports a Gherkin syntax error: the file, then
// the line and column of the first error.
var parserError = regexp.MustCompile(`^(\S+) - Parser errors: \((\d+):\d+\): (.*)$`)

// overlay is the embedded features with a merchant's directory mounted
// at mount.
type overlay struct {
	base  fs.FS
	mount string
	own   fs.FS
}

func (o overlay) Open(name string) (fs.File, error) {
	if rest, ok := strings.CutPrefix(name, o.mount+"/"); ok {
		return o.own.Open(rest)
	}
	if name == o.mount || strings.HasPrefix(o.mount, name+"/") {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.ErrUnsupported}
	}
	return o.base.Open(name)
}
