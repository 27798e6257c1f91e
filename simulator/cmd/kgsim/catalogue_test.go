package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kgsim/kgsim/fixtures/merchant"
)

// A V1 merchant that sells only the products of its catalogue refuses
// kgsim's sample product: certified without its catalogue it fails; with
// the catalogue kgsim serve reads (fixtures/products.json, whose url,
// protocol and accessKey the flags override), the scenarios buy its
// products and it passes, the modes being the catalogue's.
func TestCertifyWithACatalogue(t *testing.T) {
	base := sampleMerchant(t, merchant.Config{Defect: merchant.DefectOwnCatalogueOnly})
	args := []string{"certify", "--merchant-url", base + "/produce/v1", "--protocol", "v1", "--access-key", merchantKey}
	if r := kgsim(t, "", args...); r.code != exitInvalid || !strings.Contains(r.stdout, "is not a product of this merchant") {
		t.Errorf("without the catalogue: exit %d, want 1 naming the refused product:\n%s", r.code, r.stdout)
	}
	r := kgsim(t, "", append(args, "--catalogue", filepath.Join("..", "..", "..", "fixtures", "products.json"))...)
	if r.code != exitOK || r.stderr != "" || !strings.Contains(r.stdout, "modes period,trial,on-demand,") {
		t.Errorf("with the catalogue: exit %d, stderr %q, want 0 with the catalogue's modes:\n%s", r.code, r.stderr, r.stdout)
	}
}

// A catalogue that cannot be read, has an unknown member, is empty, lists
// nothing, or has no product for a declared mode: exit 2, one line.
func TestCertifyBadCatalogue(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	period := `{"productId":"P1","skuCode":"s1","name":"monthly","chargingMode":"PERIOD","periodType":"month"}`
	good := file("good.json", "["+period+"]")
	u := "http://127.0.0.1:1/produce"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--catalogue", filepath.Join(dir, "none.json")}, "--catalogue: cannot read " + filepath.Join(dir, "none.json")},
		{[]string{"--catalogue", file("typo.json", `[{"productId":"P1","chargingMod":"PERIOD"}]`)}, `--catalogue: ` + filepath.Join(dir, "typo.json") + `: json: unknown field "chargingMod"`},
		{[]string{"--catalogue", file("empty.json", "")}, "--catalogue: " + filepath.Join(dir, "empty.json") + ": is empty: want a JSON array of products"},
		{[]string{"--catalogue", file("nothing.json", "[]")}, "--catalogue: " + filepath.Join(dir, "nothing.json") + ": lists no product"},
		{[]string{"--catalogue", good, "--modes", "period,package"}, "--catalogue: " + good + ": no ON_DEMAND_PKG product, but the merchant declares package (--modes)"},
		{[]string{"--catalogue", good, "--modes", "trial"}, `no PERIOD product with "trial": true`},
		{[]string{"--catalogue", file("bad.json", `[{"productId":"P1","skuCode":"s1","name":"n","chargingMode":"WEEKLY"}]`)}, `entry 1 (P1): chargingMode: "WEEKLY" is not one of PERIOD`},
	} {
		wantCouldNotRun(t, kgsim(t, "", append([]string{"certify", "--merchant-url", u, "--access-key", "k"}, tc.args...)...), tc.want)
	}
}

// A catalogue with a product on the generic order notification: its
// orderNotify checks buy it, signed with its orderNotifyKey, and pass for
// the sample merchant given that key, fail for one that verifies
// orderNotify with the basic key; --order-notify-key runs them with
// kgsim's sample product instead (callbacks.md §5.15).
func TestCertifyAGenericProduct(t *testing.T) {
	const notifyKey = "kgsim-generic-key-5e0d"
	catalogue := filepath.Join(t.TempDir(), "products.json")
	products := `[{"productId":"P1","skuCode":"s1","name":"monthly","chargingMode":"PERIOD","periodType":"month"},` +
		`{"productId":"G1","skuCode":"g1","name":"generic","chargingMode":"ONE_TIME","interfaceType":"generic","orderNotifyKey":"` + notifyKey + `"}]`
	if err := os.WriteFile(catalogue, []byte(products), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		defect merchant.Defect
		args   []string
		code   int
		want   string
	}{
		{"catalogue", "", []string{"--catalogue", catalogue}, exitOK, "PASS  An order notification signed with the basic interfaces' access key is refused"},
		{"flag", "", []string{"--order-notify-key", notifyKey}, exitOK, "PASS  An order notification sent again is acknowledged again"},
		{"basic key", merchant.DefectOrderNotifyBasicKey, []string{"--catalogue", catalogue}, exitInvalid, "FAIL  An order notification is acknowledged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := sampleMerchant(t, merchant.Config{OrderNotifyKey: notifyKey, Defect: tc.defect})
			args := append([]string{"certify", "--merchant-url", base + "/produce", "--access-key", merchantKey, "--tags", "@order-notify"}, tc.args...)
			r := kgsim(t, "", args...)
			if r.code != tc.code || !strings.Contains(r.stdout, tc.want) || !strings.Contains(r.stdout, "3 scenarios") || strings.Contains(r.stdout, notifyKey) {
				t.Errorf("exit %d, want %d with %q, 3 scenarios, the key never shown:\n%s", r.code, tc.code, tc.want, r.stdout)
			}
		})
	}
	dir := t.TempDir()
	only := filepath.Join(dir, "only.json")
	if err := os.WriteFile(only, []byte(`[{"productId":"G1","skuCode":"g1","name":"generic","chargingMode":"ONE_TIME","interfaceType":"generic","orderNotifyKey":"`+notifyKey+`"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	u := "http://127.0.0.1:1/produce"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--catalogue", only}, "--catalogue: " + only + ": lists only products on the generic order notification"},
		{[]string{"--order-notify-key", "k"}, "--order-notify-key: is the --access-key"},
		{[]string{"--order-notify-key", notifyKey, "--protocol", "v1"}, "--order-notify-key: only with --protocol v2"},
		{[]string{"--catalogue", catalogue, "--access-key", notifyKey}, "orderNotifyKey: equals accessKey"},
	} {
		wantCouldNotRun(t, kgsim(t, "", append([]string{"certify", "--merchant-url", u, "--access-key", "k"}, tc.args...)...), tc.want)
	}
}
