// Package vectors holds the specification's test vectors (from the real
// docs and independent implementations), embedded so that every package's
// tests read the same single copy.
package vectors

import (
	"embed"
	"testing"

	"github.com/tidwall/gjson"
)

//go:embed callbacks.json identity.json
var files embed.FS

// Of returns the vectors of one kind in file (callbacks.json or
// identity.json). It fails the test when there are none, so that a renamed
// kind cannot silently skip a table.
func Of(tb testing.TB, file, kind string) []gjson.Result {
	tb.Helper()
	data, err := files.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	all := gjson.ParseBytes(data)
	if v := all.Get("vectors"); v.Exists() {
		all = v // callbacks.json wraps its list; identity.json does not
	}
	var out []gjson.Result
	for _, v := range all.Array() {
		if v.Get("kind").String() == kind {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		tb.Fatalf("%s: no vectors of kind %q", file, kind)
	}
	return out
}
