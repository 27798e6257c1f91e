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
