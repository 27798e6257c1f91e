package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kgsim/kgsim/simulator/schedule"
)

// IDs are checked where they enter: a customer or product ID that is too
// long, or holds NUL, CR/LF or an invisible character, is a 400 naming the
// field, and nothing is stored (no Location header of 100 KB).
func TestIDsCheckedWhereTheyEnter(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	for name, id := range map[string]string{"100 KB": strings.Repeat("c", 100<<10), "CR LF": "c\r\n1", "zero-width": "c\u200b1", "NUL": "c\u00001"} {
		body, _ := json.Marshal(map[string]string{"customerId": id, "customerName": "Acme"})
		a := w.call("POST", "/admin/v1/customers", string(body))
		if a.status != http.StatusBadRequest || a.get("error.field").String() != "customerId" || a.header.Get("Location") != "" {
			t.Errorf("customer ID %s: %d %.200s", name, a.status, a.body)
		}
	}
	a := w.call("PUT", "/admin/v1/products/p%00x", w.productJSON("p1", "")[0:1]+`"productId":"p`+"\\u0000"+`x",`+w.productJSON("p1", "")[1:])
	if a.status != http.StatusBadRequest || a.get("error.field").String() != "productId" {
		t.Errorf("product ID with NUL: %d %s", a.status, a.body)
	}
	if got := w.must(http.StatusOK, "GET", "/admin/v1/customers", "").get("customers").Array(); len(got) != 0 {
		t.Errorf("customers stored: %v", got)
	}
}
