package openapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// record is a new-API usage record of i-demand-1 for the hour before
// start, with fields changed by edits ("" deletes one).
func record(edits ...string) map[string]any {
	r := map[string]any{
		"instance_id": "i-demand-1", "record_time": "20250301T071000Z", "begin_time": "20250301T060000Z",
		"end_time": "20250301T070000Z", "usage_value": "1.5", "metering_sn": "sn-1",
	}
	for i := 0; i+1 < len(edits); i += 2 {
		if edits[i+1] == "" {
			delete(r, edits[i])
		} else {
			r[edits[i]] = edits[i+1]
		}
	}
	return r
}

// oldRecord is record for the old API: product_id instead of metering_sn.
func oldRecord(edits ...string) map[string]any {
	return record(append([]string{"metering_sn", "", "product_id", "P1-DEMAND"}, edits...)...)
}

// body is a push of records in canonical form (members sorted, compact).
func body(records ...map[string]any) string {
	b, err := json.Marshal(map[string]any{"usage_records": append([]map[string]any{}, records...)})
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestUsageAccepted(t *testing.T) {
	w := newWorld(t)
	push := body(record(), record("metering_sn", "sn-2", "usage_value", "0.0001", "begin_time", "20250210T080000Z"))
	for range 2 { // the second push repeats the first: nothing is stored twice
		if a := w.usagePush(push, key1, ak1, sk1); a.status != http.StatusOK || a.body != `{"error_code":"MKT.0000","error_msg":"success"}`+"\n" {
			t.Fatalf("answer %d %s", a.status, a.body)
		}
	}
	want := []simulator.UsageRecord{
		{SellerID: "S1", API: simulator.UsageNew, InstanceKey: "K1", InstanceID: "i-demand-1", ProductID: "P1-DEMAND",
			RecordTime: "20250301T071000Z", BeginTime: "20250301T060000Z", EndTime: "20250301T070000Z", UsageValue: "1.5", MeteringSN: "sn-1", AcceptedAt: start},
		{SellerID: "S1", API: simulator.UsageNew, InstanceKey: "K1", InstanceID: "i-demand-1", ProductID: "P1-DEMAND",
			RecordTime: "20250301T071000Z", BeginTime: "20250210T080000Z", EndTime: "20250301T070000Z", UsageValue: "0.0001", MeteringSN: "sn-2", AcceptedAt: start},
	}
	if got := w.stored(); !equalRecords(got, want) {
		t.Errorf("stored\n%+v\nwant\n%+v", got, want)
	}
	if a, d := w.usageMetric("accepted"), w.usageMetric("duplicate"); a != 2 || d != 2 {
		t.Errorf("kgsim_usage_records_total accepted %v, duplicate %v; want 2, 2", a, d)
	}

	// The old API deduplicates on instance and span.
	old := body(oldRecord(), oldRecord("begin_time", "20250301T070000Z", "end_time", "20250301T073000Z"))
	for range 2 {
		if a := w.send(oldPush(old), ak1, sk1, nil); a.status != http.StatusOK || a.json.Get("error_code").String() != "MKT.0000" {
			t.Fatalf("old API answer %d %s", a.status, a.body)
		}
	}
	if got := w.stored(); len(got) != 4 || got[2].API != simulator.UsageOld || got[2].MeteringSN != "" || got[3].EndTime != "20250301T073000Z" {
		t.Errorf("stored after the old pushes: %+v", got)
	}

	// Package usage names its package instance.
	pkg := body(record("instance_id", "i-pkg-1", "relate_pkg_instance", "i-pkg-1", "metering_sn", "sn-p"),
		record("relate_pkg_instance", "i-pkg-1", "metering_sn", "sn-3"))
	if a := w.usagePush(pkg, key1, ak1, sk1); a.status != http.StatusOK {
		t.Fatalf("package usage: %d %s", a.status, a.body)
	}
	if got := w.stored(); len(got) != 6 || got[4].RelatePkgInstance != "i-pkg-1" || got[4].InstanceKey != "K2" {
		t.Errorf("stored after the package push: %+v", got)
	}
}

func equalRecords(got, want []simulator.UsageRecord) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.AcceptedAt.Equal(w.AcceptedAt) {
			return false
		}
		g.AcceptedAt, w.AcceptedAt = time.Time{}, time.Time{}
		g.ID = "" // the store's
		if g != w {
			return false
		}
	}
	return true
}

func TestUsageBadInput(t *testing.T) {
	many := make([]map[string]any, 1001)
	for i := range many {
		many[i] = record("metering_sn", "sn-"+strings.Repeat("x", i%50)+string(rune('a'+i%26)))
	}
	for _, c := range []struct {
		name   string
		req    request
		key    string // signs the body; key1 when empty
		status int
		code   string
		says   string
	}{
		{"wrong content type", func() request { r := newPush(body(record()), key1); r.header[0][1] = "text/plain"; return r }(), "", 400, "MKT.0199", "Content-Type"},
		{"malformed JSON", newPush(`{"usage_records":[`, key1), "", 400, "MKT.0199", "not a JSON object"},
		{"no usage_records", newPush(`{}`, key1), "", 400, "MKT.0101", "usage_records: is required"},
		{"usage_records not a list", newPush(`{"usage_records":{}}`, key1), "", 400, "MKT.0101", "usage_records: is required"},
		{"unknown member", newPush(`{"records":[]}`, key1), "", 400, "MKT.0101", "records: unknown member"},
		{"no record", newPush(body(), key1), "", 500, "MKT.9002", "is empty"},
		{"1001 records", newPush(body(many...), key1), "", 500, "MKT.9003", "holds 1001 records"},
		{"a record not an object", newPush(`{"usage_records":["x"]}`, key1), "", 400, "MKT.0101", "must be a JSON object"},
		{"unknown record member", newPush(body(record("amount", "1")), key1), "", 400, "MKT.0101", "usage_records[0].amount: unknown member"},
		{"usage_value a number", newPush(`{"usage_records":[{"begin_time":"20250301T060000Z","end_time":"20250301T070000Z","instance_id":"i-demand-1","metering_sn":"sn-1","record_time":"20250301T071000Z","usage_value":1.5}]}`, key1), "", 400, "MKT.0101", "usage_value: 1.5 is not a JSON string"},
		{"no metering_sn", newPush(body(record("metering_sn", "")), key1), "", 400, "MKT.0101", "metering_sn: is required"},
		{"no instance_id", newPush(body(record("instance_id", "")), key1), "", 400, "MKT.0101", "instance_id: is required"},
		{"metering_sn of 65 characters", newPush(body(record("metering_sn", strings.Repeat("s", 65))), key1), "", 500, "MKT.0100", "at most 64"},
		{"negative usage", newPush(body(record("usage_value", "-1")), key1), "", 500, "MKT.9002", "not a decimal number above 0"},
		{"zero usage", newPush(body(record("usage_value", "0.0000")), key1), "", 500, "MKT.9002", "is zero"},
		{"usage with 5 decimals", newPush(body(record("usage_value", "1.00001")), key1), "", 500, "MKT.9002", "5 fraction digits"},
		{"usage with an exponent", newPush(body(record("usage_value", "1e3")), key1), "", 500, "MKT.9002", "not a decimal number"},
		{"end before begin", newPush(body(record("end_time", "20250301T055959Z")), key1), "", 500, "MKT.0100", "is not after begin_time"},
		{"end equal to begin", newPush(body(record("end_time", "20250301T060000Z")), key1), "", 500, "MKT.0100", "is not after begin_time"},
		{"time not in the basic format", newPush(body(record("record_time", "2025-03-01T07:10:00Z")), key1), "", 500, "MKT.0100", "record_time: \"2025-03-01T07:10:00Z\" is not a UTC time"},
		{"begin 22 days ago", newPush(body(record("begin_time", "20250207T080000Z")), key1), "", 500, "MKT.9004", "older than 21 days"},
		{"end in Beijing time", newPush(body(record("begin_time", "20250301T140000Z", "end_time", "20250301T150000Z")), key1), "", 500, "MKT.0100", "7h0m0s ahead"},
		{"unknown instance", newPush(body(record("instance_id", "i-nobody")), key1), "", 500, "MKT.9001", "no instance has the instanceId \"i-nobody\""},
		{"another seller's instance", newPush(body(record("instance_id", "i-demand-2")), key1), "", 401, "MKT.0150", "not of a product of seller S1"},
		{"a period instance", newPush(body(record("instance_id", "i-period-1")), key1), "", 400, "MKT.0101", "sold PERIOD"},
		{"package usage without its package", newPush(body(record("instance_id", "i-pkg-1")), key1), "", 400, "MKT.0101", "relate_pkg_instance: is required"},
		{"package that is no package", newPush(body(record("relate_pkg_instance", "i-demand-1")), key1), "", 400, "MKT.0101", "not a package"},
		{"metering_sn twice in one push", newPush(body(record(), record("usage_value", "2")), key1), "", 400, "MKT.0101", "also the metering_sn of record 0"},
		{"no ts header", func() request { r := newPush(body(record()), key1); r.header = r.header[:1]; return r }(), "", 400, "MKT.0102", "ts: header is missing"},
		{"body signed with another seller's key", newPush(body(record()), key2), "", 400, "MKT.0102", "matches no access key"},
		{"old: product_id of another product", oldPush(body(oldRecord("product_id", "P1-PKG"))), "", 400, "MKT.0101", "is not the product of instance i-demand-1"},
		{"old: metering_sn", oldPush(body(oldRecord("metering_sn", "sn-1"))), "", 400, "MKT.0101", "metering_sn: unknown member"},
		{"old: the same span twice", oldPush(body(oldRecord(), oldRecord("usage_value", "3"))), "", 400, "MKT.0101", "same instance and span"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			a := w.send(c.req, ak1, sk1, nil)
			if a.status != c.status || a.json.Get("error_code").String() != c.code || !strings.Contains(a.json.Get("kgsim.problem").String(), c.says) {
				t.Errorf("answer %d %s\nwant %d %s saying %q", a.status, a.body, c.status, c.code, c.says)
			}
			if a.json.Get("error_msg").String() == "" || a.json.Get("kgsim.spec").String() == "" {
				t.Errorf("no error_msg or spec in %s", a.body)
			}
			if n := len(w.stored()); n != 0 {
				t.Errorf("%d records stored from a refused push", n)
			}
			if w.usageMetric("refused") < 1 || w.usageMetric("accepted") != 0 {
				t.Errorf("metrics: refused %v, accepted %v", w.usageMetric("refused"), w.usageMetric("accepted"))
			}
		})
	}
}

// The body signature covers the canonical body: a body sent in another
// form and signed as sent is refused with that cause and the string kgsim
// signed.
func TestUsageBodySignatureExplained(t *testing.T) {
	w := newWorld(t)
	sent := `{"usage_records":[{"instance_id":"i-demand-1","record_time":"20250301T071000Z","begin_time":"20250301T060000Z","end_time":"20250301T070000Z","usage_value":"1.5","metering_sn":"sn-1"}]}`
	a := w.usagePush(sent, key1, ak1, sk1)
	if a.status != 400 || a.json.Get("error_code").String() != "MKT.0102" || a.json.Get("error_msg").String() != "Invalid body sign" ||
		!strings.Contains(a.json.Get("kgsim.likely_cause").String(), "not in canonical form") ||
		!strings.HasPrefix(a.json.Get("kgsim.string_to_sign").String(), `ts=1716363778801&nonce=RLLUammMSInlrNWb&body={"usage_records":[{"begin_time"`) {
		t.Errorf("answer %d %s", a.status, a.body)
	}
	if strings.Contains(a.body, key1) {
		t.Errorf("the answer shows the access key: %s", a.body)
	}
}
