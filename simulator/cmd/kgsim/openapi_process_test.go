package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kgsim/kgsim/fixtures/merchant"
	"github.com/kgsim/kgsim/simulator/openapi"
	"github.com/kgsim/kgsim/simulator/protocol"
)

// sampleFixtures copies the embedded catalogue (with its sample seller)
// into a directory for kgsim serve --fixtures; merchant, when not empty,
// replaces the sample products' production interface address.
func sampleFixtures(t *testing.T, merchant ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"products.json", "customers.json", "sellers.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "..", "fixtures", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range merchant {
			b = bytes.ReplaceAll(b, []byte("http://127.0.0.1:8081"), []byte(m))
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// The README's open-API walkthrough, run as written against a real kgsim
// serve: the sample seller's order query answered, another SK refused with
// the explanation.
func TestREADMEOpenAPIWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs kgsim serve")
	}
	lines, _ := sampleWalkthrough(t, "open-api", 2)
	stdout := strings.Join(lines, "\n")
	if order := gjson.Parse(lines[0]); order.Get("orderInfo.orderId").String() != "MOCKPERIODYEARNEW" {
		t.Errorf("the order query answered %s", lines[0])
	}
	refusal := gjson.Parse(lines[1])
	if refusal.Get("error_code").String() != "APIGW.0301" || !strings.HasPrefix(refusal.Get("kgsim.canonical_request").String(), "GET\n/api/mkp-openapi-public/global/v1/order/query/\n") {
		t.Errorf("the wrong SK was answered %s", lines[1])
	}
	if strings.Contains(stdout, "kgsim-sample-sk") {
		t.Errorf("an answer shows the SK:\n%s", stdout)
	}
}

// Usage answered 2xx is never lost when kgsim is killed right after, and a
// refused push leaves nothing behind.
func TestAcceptedUsageSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs kgsim serve")
	}
	m := httptest.NewServer(merchant.New(merchant.Config{AccessKey: "kgsim-sample-access-key"}))
	t.Cleanup(m.Close)
	bin, db, dir := buildKgsim(t), filepath.Join(t.TempDir(), "kgsim.db"), sampleFixtures(t, m.URL)
	p := startServe(t, bin, db, dir)
	p.call(t, "POST", "/admin/v1/orders", `{"productId":"OFFI000000000000000003","customerId":"68cbc86abc2018ab880d92f36422fa0e"}`)
	p.call(t, "POST", "/admin/v1/clock/advance", `{"by":"1m"}`)
	instanceID := p.call(t, "GET", "/admin/v1/instances?productId=OFFI000000000000000003", "").Get("instances.0.instanceId").String()
	if instanceID == "" {
		t.Fatalf("the sample merchant did not provision the instance:\n%s", p.logText())
	}

	push := func(sn string, value string) {
		now := time.Now().UTC()
		body := fmt.Sprintf(`{"usage_records":[{"begin_time":%q,"end_time":%q,"instance_id":%q,"metering_sn":%q,"record_time":%q,"usage_value":%q}]}`,
			now.Add(-2*time.Hour).Format("20060102T150405Z"), now.Add(-time.Hour).Format("20060102T150405Z"), instanceID, sn,
			now.Format("20060102T150405Z"), value)
		req, err := http.NewRequest("POST", p.base+openapi.UsagePath, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Sdk-Date", now.Format("20060102T150405Z"))
		req.Header.Set("ts", "1716363778801")
		req.Header.Set("nonce", sn)
		req.Header.Set("signature", protocol.UsageSignature("kgsim-sample-access-key", "1716363778801", sn, []byte(body)))
		h := req.Header.Clone()
		h.Set("Host", req.URL.Host)
		req.Header.Set("Authorization", protocol.SignAPIG("KGSIMSAMPLEAK0000001", "kgsim-sample-sk",
			&protocol.APIGRequest{Method: "POST", Path: openapi.UsagePath, Query: url.Values{}, Header: h, Body: []byte(body)},
			[]string{"content-type", "host", "x-sdk-date", "ts", "nonce", "signature"}))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusOK != (value != "-1") {
			t.Fatalf("push %s of %s: %d %s", sn, value, res.StatusCode, b)
		}
	}
	const n = 30
	for i := range n {
		push(fmt.Sprintf("refused-%d", i), "-1")
		push(fmt.Sprintf("sn-%d", i), "2.5")
	}
	p.cmd.Process.Kill() // SIGKILL, right after the last 2xx
	p.cmd.Wait()

	p = startServe(t, bin, db, dir)
	records := p.call(t, "GET", "/admin/v1/usage?limit=1000&instanceId="+instanceID, "").Get("records")
	if got := len(records.Array()); got != n {
		t.Fatalf("%d records after the restart, want %d", got, n)
	}
	for i, r := range records.Array() {
		if r.Get("meteringSn").String() != fmt.Sprintf("sn-%d", i) || r.Get("usageValue").String() != "2.5" {
			t.Errorf("record %d: %s", i, r.Raw)
		}
	}
}

// The README's License walkthrough, run as written against a real kgsim
// serve: a code made through the admin API, claimed, activated and
// checked with the sample seller's AK/SK.
func TestREADMELicenseWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs kgsim serve")
	}
	lines, p := sampleWalkthrough(t, "license", 2)
	activation, heartbeat := gjson.Parse(lines[0]), gjson.Parse(lines[1])
	info := gjson.Parse(activation.Get("data.license_code_info").String())
	if activation.Get("error_code").String() != "92020000" || info.Get("status").String() != "ALIVE" || info.Get("product_id").String() != "LICENSE-DEMO" {
		t.Errorf("the activation answered %s", lines[0])
	}
	code := heartbeat.Get("data.license_code").String()
	if heartbeat.Get("error_code").String() != "92020000" || heartbeat.Get("data.status").String() != "ALIVE" || !strings.HasPrefix(code, "PL") {
		t.Errorf("the heartbeat answered %s", lines[1])
	}
	if l := p.call(t, "GET", "/admin/v1/licenses/"+code, ""); l.Get("state").String() != "ACTIVATED" {
		t.Errorf("the code after the walkthrough: %s", l.Raw)
	}
}

// sampleWalkthrough runs the README's block name against a real kgsim
// serve on the embedded catalogue, with kgsim on the PATH, and returns
// the n lines it must print, and the serve process.
func sampleWalkthrough(t *testing.T, name string, n int) ([]string, *process) {
	t.Helper()
	block := readmeBlock(t, name)
	bin := buildKgsim(t)
	p := startServe(t, bin, filepath.Join(t.TempDir(), "kgsim.db"), sampleFixtures(t))
	stdout := runWalkthrough(t, block, p, "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != n {
		t.Fatalf("the walkthrough printed %d lines, want %d:\n%s", len(lines), n, stdout.String())
	}
	return lines, p
}
