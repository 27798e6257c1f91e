package main

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/fixtures/merchant"
)

// The seller's pair of these runs.
const sellerAK, sellerSK = "CMD-CERTIFY-AK", "cmd-certify-sk-93b1"

// kgsim certify --open-api-addr serves the open APIs to the sample
// merchant in its order-query mode, which passes; signing with another
// SK, it fails on the order query with the gateway's cause in the report.
func TestCertifyWithTheOpenAPIs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		defect merchant.Defect
		code   int
		says   []string
	}{
		{"its SK", "", exitOK, []string{"PASS: every", "order query: GET /api/mkp-openapi-public/global/v1/order/query?orderId=", "accepted (200 MKT.0000)",
			"License activation: POST /api/mkp-openapi-public/global/v1/license/activate: accepted (200 92020000)"}},
		{"another SK", merchant.DefectWrongSK, exitInvalid, []string{"FAIL  A V2 purchase is provisioned from the order query",
			"refused (401 APIGW.0301", "cause:", "kgsim's canonical request (compare with the merchant's):"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := freeAddr(t)
			h := merchant.New(merchant.Config{AccessKey: merchantKey, MarketURL: "http://" + addr, AK: sellerAK, SK: sellerSK,
				QueryOrders: true, UsageEvery: 100 * time.Millisecond, Defect: tc.defect})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go merchant.PushUsage(ctx, h)
			srv := httptest.NewServer(h)
			defer srv.Close()
			t.Setenv(skEnv, sellerSK)
			r := kgsim(t, "", "certify", "--merchant-url", srv.URL+"/produce", "--access-key", merchantKey, "--modes", "period,on-demand,package,license",
				"--open-api-addr", addr, "--ak", sellerAK, "--license-url", srv.URL+"/license", "--usage-wait", "5s", "--tags", "@open-api")
			if r.code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q, stdout:\n%s", r.code, tc.code, r.stderr, r.stdout)
			}
			for _, want := range append(tc.says, "open APIs http://"+addr+")") {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("the report does not say %q:\n%s", want, r.stdout)
				}
			}
			if strings.Contains(r.stdout, sellerSK) {
				t.Errorf("the report shows the SK")
			}
		})
	}
}

func TestCertifyOpenAPIBadFlags(t *testing.T) {
	u := "http://127.0.0.1:1/produce"
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--ak", "AK"}, "--ak: only with --open-api-addr"},
		{[]string{"--license-url", "http://127.0.0.1:1/license"}, "--license-url: only with --open-api-addr"},
		{[]string{"--open-api-addr", "127.0.0.1", "--ak", "AK", "--sk", "SK"}, `--open-api-addr: "127.0.0.1": want HOST:PORT with a fixed port`},
		{[]string{"--open-api-addr", "127.0.0.1:0", "--ak", "AK", "--sk", "SK"}, `--open-api-addr: "127.0.0.1:0": want HOST:PORT with a fixed port`},
		{[]string{"--open-api-addr", "127.0.0.1:8090", "--sk", "SK"}, "--ak: required with --open-api-addr"},
		{[]string{"--open-api-addr", "127.0.0.1:8090", "--ak", "AK"}, "--sk: required with --open-api-addr (or KGSIM_SK)"},
		{[]string{"--open-api-addr", "127.0.0.1:8090", "--ak", "AK", "--sk", "SK", "--usage-wait", "never"}, `--usage-wait: "never": want a positive duration`},
		{[]string{"--open-api-addr", "127.0.0.1:8090", "--ak", "AK", "--sk", "SK", "--license-url", "license"}, `--license-url: "license": want an absolute http(s) URL`},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Setenv(skEnv, "")
			wantCouldNotRun(t, kgsim(t, "", append([]string{"certify", "--merchant-url", u, "--access-key", "k"}, tt.args...)...), tt.want)
		})
	}
}
