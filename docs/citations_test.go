// Package docs holds kgsim's documentation. Its test keeps the citations
// in the code, the README, the scenarios and the certification hints
// pointing at sections that exist here.
package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var (
	// heading is a numbered heading: "## 5. Activities", "### 5.14 …",
	// or a numbered open question under one: "#### Q7 …".
	heading = regexp.MustCompile(`(?m)^#{1,6}[ \t]+(Q?[0-9]+(?:\.[0-9]+)*)\.?[ \t]`)
	// wrap joins a comment or paragraph broken over lines, so that a
	// citation wrapped after its file name is still read whole.
	wrap = regexp.MustCompile(`[ \t]*\n[ \t]*(?:(?://|#|\*|--)[ \t]*)?`)
	// citation is a document name with the sections cited after it:
	// "callbacks.md §3.2, §4.2 and §7", "callbacks.md §8 (TIMEOUT), §15 Q5".
	// "spec §8" is one too, naming no document: it never resolves.
	section  = `§[0-9]+(?:\.[0-9]+)*(?: Q[0-9]+)?(?: notes)?(?: ?\([^()§]*\))?`
	citation = regexp.MustCompile(`\b([a-z][a-z-]*\.md|spec)((?:(?:\s*,\s*and\s+|\s*,\s*|\s+and\s+|\s+)` + section + `)*)`)
	sections = regexp.MustCompile(`§([0-9]+(?:\.[0-9]+)*)(?: (Q[0-9]+))?`)
)

// anchors lists the sections of every document under root, by file name:
// "5.14" for a heading, "15 Q7" for an open question under §15.
func anchors(t *testing.T, root string) map[string]map[string]bool {
	t.Helper()
	docs := map[string]map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".md") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		name := filepath.Base(path)
		if docs[name] != nil {
			t.Errorf("two documents named %s: a citation names a document by its file name alone", name)
		}
		ids := map[string]bool{}
		top := ""
		for _, m := range heading.FindAllStringSubmatch(string(b), -1) {
			id := m[1]
			if strings.HasPrefix(id, "Q") {
				id = top + " " + id
			} else {
				top, _, _ = strings.Cut(id, ".")
			}
			if ids[id] {
				t.Errorf("%s: section %s twice", path, id)
			}
			ids[id] = true
		}
		docs[name] = ids
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// cited is what the repository's text files cite, by file and document.
func cited(t *testing.T, root string) map[string][]string {
	t.Helper()
	refs := map[string][]string{}
	texts := []string{".go", ".md", ".feature", ".sql", ".html", ".tmpl", ".sh"}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		// This file's own examples are not citations.
		if !slices.Contains(texts, filepath.Ext(path)) || d.Name() == "citations_test.go" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		text := wrap.ReplaceAllString(string(b), " ")
		for _, m := range citation.FindAllStringSubmatch(text, -1) {
			switch {
			case m[2] == "" && m[1] == "spec":
				continue // the word, not a citation
			case m[2] == "":
				refs[path] = append(refs[path], m[1])
				continue
			}
			for _, s := range sections.FindAllStringSubmatch(m[2], -1) {
				ref := m[1] + " §" + s[1]
				if s[2] != "" {
					ref += " " + s[2]
				}
				refs[path] = append(refs[path], ref)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return refs
}

// resolves reports whether ref ("callbacks.md §5.14", "callbacks.md §15
// Q7" or just "identity.md") names a document and section under docs/.
func resolves(docs map[string]map[string]bool, ref string) bool {
	name, sec, cites := strings.Cut(ref, " §")
	ids, ok := docs[name]
	return ok && (!cites || ids[sec])
}

// TestCitationsResolve fails on a citation of a document or section that
// docs/ does not have: the code cites the protocol by section, and a
// reader with only the repository must find what it cites.
func TestCitationsResolve(t *testing.T) {
	docs := anchors(t, ".")
	n := 0
	for path, refs := range cited(t, "..") {
		for _, ref := range refs {
			n++
			if !resolves(docs, ref) {
				t.Errorf("%s cites %s, which no heading under docs/ is", path, ref)
			}
		}
	}
	// The walk found the code's citations: hundreds, not a handful.
	if n < 300 {
		t.Errorf("found %d citations; the pattern no longer matches how the code cites", n)
	}
	t.Logf("%d citations checked", n)
}

// TestCitationPattern checks the reader on the forms the code uses, and
// that a missing section fails.
func TestCitationPattern(t *testing.T) {
	docs := map[string]map[string]bool{
		"callbacks.md": {"3": true, "3.2": true, "4.2": true, "7": true, "8": true, "15": true, "15 Q5": true},
		"identity.md":  {"3.1": true},
	}
	dir := t.TempDir()
	src := "package x\n\n// a (callbacks.md §3.2, §4.2 and §7), wrapped: callbacks.md\n// §8 (TIMEOUT), §15 Q5; identity.md §3.1; RFC 6749 §10.12 and identity.md\n// the spec's words; spec §8\n"
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	got := cited(t, dir)[filepath.Join(dir, "x.go")]
	want := []string{"callbacks.md §3.2", "callbacks.md §4.2", "callbacks.md §7", "callbacks.md §8", "callbacks.md §15 Q5", "identity.md §3.1", "identity.md", "spec §8"}
	if !slices.Equal(got, want) {
		t.Fatalf("cited %q, want %q", got, want)
	}
	for _, ref := range want[:len(want)-1] {
		if !resolves(docs, ref) {
			t.Errorf("%s does not resolve", ref)
		}
	}
	for _, ref := range []string{"callbacks.md §3.3", "callbacks.md §15 Q6", "open-api.md", "identity.md §3", "spec §8"} {
		if resolves(docs, ref) {
			t.Errorf("%s resolves, but names nothing", ref)
		}
	}
}

// TestHeadings checks the reading of headings on a document.
func TestHeadings(t *testing.T) {
	dir := t.TempDir()
	doc := "# Title\n\n## 5. Activities\n\n### 5.14 Check\n\n## 15. Open questions\n\n#### Q7 Body-Sign\n\n##5 no space\n"
	if err := os.WriteFile(filepath.Join(dir, "a.md"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	got := anchors(t, dir)["a.md"]
	for _, id := range []string{"5", "5.14", "15", "15 Q7"} {
		if !got[id] {
			t.Errorf("section %s not read from %q", id, doc)
		}
	}
	if len(got) != 4 {
		t.Errorf("read %v", got)
	}
}
