package certify

import (
	"bytes"
	"context"
	"html"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/fixtures/merchant"
	"github.com/kgsim/kgsim/simulator"
)

// The seller's pair of these runs.
const runAK, runSK = "CERTIFY-AK-0001", "certify-sk-7e21d0"

// freeAddr is a loopback address nothing listens on, for a run's open
// APIs: the merchant must know it before the run starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// openAPIRun certifies the sample merchant in its open-API mode, signing
// with sk, against open APIs served for runAK/runSK; it returns the
// result and the terminal, JUnit and HTML reports.
func openAPIRun(t *testing.T, sk string) (Result, string, string, string) {
	t.Helper()
	// The address is free when picked and may be taken by another test
	// process before the run listens on it: pick again then.
	for range 4 {
		r, out, junit, page, err := openAPIRunAt(t, sk, freeAddr(t))
		if err != nil && strings.Contains(err.Error(), "address already in use") {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return r, out, junit, page
	}
	t.Fatal("no free loopback address for the open APIs in four tries")
	return Result{}, "", "", ""
}

// openAPIRunAt is openAPIRun serving the open APIs at addr.
func openAPIRunAt(t *testing.T, sk, addr string) (Result, string, string, string, error) {
	t.Helper()
	c := merchant.Config{AccessKey: testKey, MarketURL: "http://" + addr, AK: runAK, SK: sk, QueryOrders: true, UsageEvery: 100 * time.Millisecond}
	if sk != runSK {
		c.SK = runSK
		c.Defect = merchant.DefectWrongSK // the same merchant, another SK
	}
	h := merchant.New(c)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go merchant.PushUsage(ctx, h)
	srv := httptest.NewServer(h)
	defer srv.Close()
	target := everyMode(srv.URL+"/produce", simulator.V2)
	target.LicenseURL = srv.URL + "/license"
	dir := t.TempDir()
	junitPath, htmlPath := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "report.html")
	var out bytes.Buffer
	r, err := Run(ctx, Options{Steps: vocabulary(target), OpenAPI: OpenAPI{Addr: addr, AK: runAK, SK: runSK}, Out: &out,
		Formats: []string{"junit:" + junitPath, "html:" + htmlPath}})
	if err != nil {
		return Result{}, "", "", "", err
	}
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return r, out.String(), read(junitPath), read(htmlPath), nil
}

func scenarioNamed(r Result, name string) (Scenario, bool) {
	i := slices.IndexFunc(r.Scenarios, func(s Scenario) bool { return s.Name == name })
	if i < 0 {
		return Scenario{}, false
	}
	return r.Scenarios[i], true
}

// The sample merchant in its order-query mode passes, and every report
// shows the order query it made with kgsim's verdict, the usage it pushed
// and the License calls of its software.
func TestCertifyWithTheOpenAPIs(t *testing.T) {
	r, out, junit, page := openAPIRun(t, runSK)
	if r.ExitCode() != 0 {
		t.Fatalf("the sample merchant failed:\n%s", out)
	}
	for _, c := range []struct{ scenario, note string }{
		{"A V2 purchase is provisioned from the order query", "order query: GET /api/mkp-openapi-public/global/v1/order/query?orderId="},
		{"The usage the merchant pushes is accepted (on-demand product)", "usage push: POST /api/mkp-openapi-public/global/v1/isv/usage-data: accepted (200 MKT.0000)"},
		{"The usage the merchant pushes is accepted (package product)", "usage push: POST /api/mkp-openapi-public/global/v1/isv/usage-data: accepted (200 MKT.0000)"},
		{"The License software activates a code and checks it", "License heartbeat: POST /api/mkp-openapi-public/global/v1/license/heartbeat: accepted (200 92020000)"},
	} {
		s, ok := scenarioNamed(r, c.scenario)
		if !ok || s.Status != Passed {
			t.Errorf("scenario %q: %+v", c.scenario, s)
			continue
		}
		notes := strings.Join(s.Notes, "\n")
		if !strings.Contains(notes, c.note) || c.scenario[0] == 'A' && !strings.Contains(notes, "accepted (200 MKT.0000)") {
			t.Errorf("scenario %q notes %q, want %q", c.scenario, notes, c.note)
		}
		for name, report := range map[string]string{"terminal": out, "JUnit": junit, "HTML": page} {
			if !strings.Contains(report, c.note) {
				t.Errorf("the %s report does not show %q", name, c.note)
			}
		}
	}
	if !strings.Contains(out, "open APIs http://") {
		t.Errorf("the terminal report's header does not say where the open APIs are:\n%s", out[:min(len(out), 300)])
	}
}

// The same merchant given another SK fails on the order query, and the
// report shows the gateway's refusal with the likely cause and the
// canonical request and string to sign kgsim computed, never the SK.
func TestCertifyWithAnotherSK(t *testing.T) {
	r, out, junit, page := openAPIRun(t, "another-sk")
	if r.ExitCode() != 1 {
		t.Fatalf("exit %d; the merchant signing with another SK passed:\n%s", r.ExitCode(), out)
	}
	s, ok := scenarioNamed(r, "A V2 purchase is provisioned from the order query")
	if !ok || s.Status != Failed || s.Step != "Then the merchant queried the order it was sent" {
		t.Fatalf("the order-query scenario: %+v", s)
	}
	for _, want := range []string{"refused (401 APIGW.0301", "cause:", "kgsim's canonical request", "kgsim's string to sign", "| SDK-HMAC-SHA256"} {
		if !strings.Contains(s.Error, want) {
			t.Errorf("the failure does not show %q:\n%s", want, s.Error)
		}
		for name, report := range map[string]string{"terminal": out, "JUnit": junit, "HTML": page} {
			if !strings.Contains(report, want) && !strings.Contains(report, html.EscapeString(want)) {
				t.Errorf("the %s report does not show %q", name, want)
			}
		}
	}
	for name, report := range map[string]string{"terminal": out, "JUnit": junit, "HTML": page} {
		if strings.Contains(report, runSK) || strings.Contains(report, "not-"+runSK) {
			t.Errorf("the %s report shows the SK", name)
		}
	}
}

// The open APIs need the seller's pair and an address they can listen on.
func TestOpenAPIOptionsRefused(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	target := everyMode(sampleMerchant(t, merchant.Config{})+"/produce", simulator.V2)
	for _, c := range []struct {
		o     OpenAPI
		field string
	}{
		{OpenAPI{Addr: freeAddr(t), AK: runAK}, "ak"},
		{OpenAPI{Addr: freeAddr(t), AK: "AK with spaces", SK: runSK}, "ak"},
		{OpenAPI{Addr: busy.Addr().String(), AK: runAK, SK: runSK}, "open-api-addr"},
	} {
		_, err := Run(context.Background(), Options{Steps: vocabulary(target), OpenAPI: c.o})
		if e, ok := err.(*simulator.Error); !ok || e.Field != c.field {
			t.Errorf("%+v: %v, want an error on %s", c.o, err, c.field)
		}
	}
}
