package identity

import (
	"os"
	"testing"

	"github.com/tidwall/gjson"
)

// vectors returns the spec's identity vectors of one kind. They are read from
// the protocol package's testdata, the single copy of the vectors kept in
// the repository. It fails the test when there are none, so a renamed kind
// cannot silently skip its table.
func vectors(t *testing.T, kind string) []gjson.Result {
	t.Helper()
	data, err := os.ReadFile("../protocol/testdata/vectors/identity.json")
	if err != nil {
		t.Fatal(err)
	}
	var out []gjson.Result
	for _, v := range gjson.ParseBytes(data).Array() {
		if v.Get("kind").String() == kind {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		t.Fatalf("identity.json: no vectors of kind %q", kind)
	}
	return out
}
