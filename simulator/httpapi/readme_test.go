package httpapi

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// README.md's table of the admin API describes every route the router
// serves under /admin/v1, and no other: the routes are listed once, in
// adminRoutes and identityRoutes, and the table is checked against them.
func TestREADMEDescribesEveryAdminRoute(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented, err := readmeRoutes(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	var served []string
	a := &api{}
	for _, rt := range append(a.adminRoutes(), a.identityRoutes()...) {
		served = append(served, rt.method+" /admin/v1"+rt.path)
	}
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("README.md's admin API table does not describe %s", r)
		}
	}
	for _, r := range documented {
		if strings.Contains(r, " /admin/v1/") && !slices.Contains(served, r) {
			t.Errorf("README.md's admin API table describes %s, which the router does not serve", r)
		}
	}
}

// The table's shorthand, as README.md writes it, read back as routes.
func TestREADMERoutesShorthand(t *testing.T) {
	table := "The routes:\n\n| route | does |\n|---|---|\n" +
		"| `GET\\|PUT /admin/v1/things/{id}` `{\"name\"}`, `GET /admin/v1/things/{id}/parts[/{part}]` `?limit` | things |\n" +
		"| `POST .../parts/{part}/a` \\| `b` `{\"x\"}` or `{\"y\"}`, `DELETE .../things/{id}` | more |\n" +
		"\nafter the table: `GET /admin/v1/unlisted`\n"
	got, err := readmeRoutes(table)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"GET /admin/v1/things/{id}", "PUT /admin/v1/things/{id}", "GET /admin/v1/things/{id}/parts", "GET /admin/v1/things/{id}/parts/{part}",
		"POST /admin/v1/things/{id}/parts/{part}/a", "POST /admin/v1/things/{id}/parts/{part}/b", "DELETE /admin/v1/things/{id}"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if _, err := readmeRoutes("no table here"); err == nil {
		t.Error("a README without the table was read as one")
	}
}

// readmeRoutes reads the routes of README.md's admin API table ("| route |
// does |"), each "METHOD PATH". Its first column writes them in code
// spans: "GET\|PUT /path" for several methods, "/path[/{id}]" for the path
// with and without its last segment, `.../rest` for the path before it
// up to rest's first segment, and `/path/a` \| `b` for /path/b as well; a
// span that is no route (a body, a query) is left alone.
func readmeRoutes(readme string) ([]string, error) {
	start := strings.Index(readme, "\n| route | does |\n")
	if start < 0 {
		return nil, errors.New(`no table headed "| route | does |"`)
	}
	var (
		out  []string
		last string // the last full path, which ".../" continues
	)
	span := regexp.MustCompile("`([^`]*)`")
	route := regexp.MustCompile(`^([A-Z]+(?:\|[A-Z]+)*) (/\S*|\.\.\./\S*)$`)
	for _, line := range strings.Split(readme[start+1:], "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		// The first column, its escaped bars kept as bars.
		cells := strings.Split(strings.ReplaceAll(line, `\|`, "\x00"), "|")
		first := strings.ReplaceAll(cells[1], "\x00", "|")
		var methods []string
		var base string // the last route's path, for an alternative's
		prev := 0
		for _, m := range span.FindAllStringSubmatchIndex(first, -1) {
			text, between := first[m[2]:m[3]], first[prev:m[0]]
			prev = m[1]
			var paths []string
			if r := route.FindStringSubmatch(text); r != nil {
				methods = strings.Split(r[1], "|")
				path := r[2]
				if rest, ok := strings.CutPrefix(path, "..."); ok {
					seg := rest[1:]
					if end := strings.IndexAny(seg, "/["); end >= 0 {
						seg = seg[:end]
					}
					i := strings.LastIndex(last, "/"+seg)
					if i < 0 {
						return nil, fmt.Errorf("%s continues no path before it (%s)", path, last)
					}
					path = last[:i] + rest
				}
				if short, ok := strings.CutSuffix(path, "]"); ok {
					i := strings.LastIndex(short, "[")
					paths = append(paths, short[:i], short[:i]+short[i+1:])
				} else {
					paths = append(paths, path)
				}
				base, last = paths[len(paths)-1], paths[len(paths)-1]
			} else if strings.Contains(between, "|") && base != "" && !strings.ContainsAny(text, "/{?\" ") {
				paths = append(paths, base[:strings.LastIndex(base, "/")+1]+text)
			}
			for _, p := range paths {
				for _, method := range methods {
					out = append(out, method+" "+p)
				}
			}
		}
	}
	return out, nil
}
