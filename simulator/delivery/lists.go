package delivery

import (
	"strings"

	"github.com/tidwall/gjson"
)

// Unlisted returns the instances a queryInstance asked for (its
// instanceId, comma-separated) that its answer has no info[] entry for.
// The marketplace accepts such an answer, info[] being optional
// (callbacks.md §5.9), but the buyer's resource details then show nothing
// of those instances: kgsim certify fails it and kgsim replay says so, by
// this one rule.
func Unlisted(asked string, body []byte) []string {
	var out []string
	info := gjson.GetBytes(body, "info")
	for id := range strings.SplitSeq(asked, ",") {
		id = strings.TrimSpace(id)
		found := false
		info.ForEach(func(_, entry gjson.Result) bool {
			found = entry.Get("instanceId").String() == id
			return !found
		})
		if id != "" && !found {
			out = append(out, id)
		}
	}
	return out
}
