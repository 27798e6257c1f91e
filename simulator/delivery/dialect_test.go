package delivery

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/tidwall/gjson"
)

// Each protocol's request verifies under that protocol's rules, and only
// the purchases get a new businessId (callbacks.md §5.1, §5.8, §5.15).
func TestNewRequest(t *testing.T) {
	const key = "k3y"
	now := time.Date(2025, 1, 15, 2, 0, 0, 0, time.UTC)
	random := bytes.NewReader(bytes.Repeat([]byte{7}, 1024))
	for _, tt := range []struct {
		name       string
		m          simulator.Message
		businessID string // "" none; "old" kept; "new" renewed
	}{
		{"V1 newInstance", simulator.Message{Protocol: simulator.V1, Activity: "newInstance",
			Params: []byte(`{"activity":"newInstance","businessId":"old","orderId":"CS1"}`)}, "new"},
		{"V2 newInstance", simulator.Message{Protocol: simulator.V2, Activity: "newInstance",
			Params: []byte(`{"activity":"newInstance","orderId":"CS1","orderLineId":"CS1-000001","businessId":"old"}`)}, "new"},
		{"V2 orderNotify", simulator.Message{Protocol: simulator.V2, Activity: "orderNotify",
			Params: []byte(`{"activity":"orderNotify","orderId":"CS1","orderLineId":"CS1-000001"}`)}, ""},
		{"a release that happens to carry a businessId", simulator.Message{Protocol: simulator.V2, Activity: "releaseInstance",
			Params: []byte(`{"activity":"releaseInstance","instanceId":"i-1","businessId":"old"}`)}, "old"},
		{"kit tenantSync", simulator.Message{Protocol: simulator.Kit, Activity: "tenantSync",
			Params: []byte(`{"instanceId":"i-1","tenantId":"t","flag":1,"timeStamp":"20000101000000000"}`)}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.m.URL = "https://isv.example.com/produce"
			req, err := NewRequest(tt.m, key, now, random, KitCanonical)
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(req.URL)
			if err != nil {
				t.Fatal(err)
			}
			var sent gjson.Result
			switch tt.m.Protocol {
			case simulator.V1:
				if err := protocol.VerifyV1(key, u.RawQuery); err != nil {
					t.Errorf("V1: %v", err)
				}
				sent = gjson.Parse(`{"businessId":"` + u.Query().Get("businessId") + `"}`)
			case simulator.V2:
				if err := protocol.VerifyV2(key, u.Query(), req.Body, now, protocol.FreshnessWindow); err != nil {
					t.Errorf("V2: %v", err)
				}
				sent = gjson.ParseBytes(req.Body)
			case simulator.Kit:
				if !strings.HasSuffix(u.Path, "/produceAPI/v2/tenantSync") {
					t.Errorf("kit sync to %s", u.Path)
				}
				if err := protocol.VerifyKit(key, req.Header.Get(protocol.KitSignHeader), req.Header.Get(protocol.KitTimestampHeader),
					req.Header.Get(protocol.KitNonceHeader), req.Body, now, protocol.FreshnessWindow); err != nil {
					t.Errorf("kit: %v", err)
				}
				if got := gjson.GetBytes(req.Body, "timeStamp").Str; got != "20250115100000000" {
					t.Errorf("timeStamp %q, want the attempt's, 20250115100000000 in UTC+8 (kit-sync.md §4)", got)
				}
				sent = gjson.ParseBytes(req.Body)
			}
			id := sent.Get("businessId").Str
			switch {
			case tt.businessID == "" && sent.Get("businessId").Exists():
				t.Errorf("businessId %q sent, want none", id)
			case tt.businessID == "old" && id != "old":
				t.Errorf("businessId %q, want the call's own, old", id)
			case tt.businessID == "new" && (id == "old" || len(id) != 36):
				t.Errorf("businessId %q, want a new UUID", id)
			}
		})
	}
	if _, err := NewRequest(simulator.Message{Protocol: "v3", URL: "https://isv.example.com/", Params: []byte(`{}`)}, key, now, random, ""); err == nil {
		t.Error("protocol v3: no error")
	}
}
