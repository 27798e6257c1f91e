package protocol

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tidwall/gjson"
)

// vectors returns the test vectors of one kind from a file in
// testdata/vectors (copies of the spec's vector files, kept here so the
// repository is self-contained). It fails the test when there are none, so a
// renamed kind cannot silently skip its table.
func vectors(t *testing.T, file, kind string) []gjson.Result {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "vectors", file))
	if err != nil {
		t.Fatal(err)
	}
	all := gjson.ParseBytes(data)
	if v := all.Get("vectors"); v.Exists() {
		all = v
	}
	var out []gjson.Result
	for _, v := range all.Array() {
		if v.Get("kind").String() == kind {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no vectors of kind %q", file, kind)
	}
	return out
}
