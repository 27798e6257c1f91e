package httpapi

import (
	"net/http"
	"testing"

	"github.com/kgsim/kgsim/simulator/openapi"
	"github.com/kgsim/kgsim/simulator/schedule"
)

// A seller's keys and a product's seller changed through the admin API
// hold from the very next open-API call: the ones they replaced are
// refused at once, though every call before read them.
func TestOpenAPIFollowsSellerChanges(t *testing.T) {
	const sk2, skB = "seller-sk-rotated-3c9e10d2", "seller-sk-of-b-8a61f0e4"
	w := newWorld(t, schedule.NewVirtual(t0))
	w.secrets = append(w.secrets, sellerSK, sk2, skB)
	w.must(http.StatusCreated, "PUT", "/admin/v1/sellers/s1", `{"name":"Seller one","ak":"AK-S1","sk":"`+sellerSK+`"}`)
	w.must(http.StatusCreated, "PUT", "/admin/v1/products/p1", w.productJSON("p1", `,"sellerId":"s1"`))
	w.must(http.StatusCreated, "POST", "/admin/v1/customers", `{"customerId":"c1","customerName":"Acme Ltd"}`)
	orderID := w.must(http.StatusCreated, "POST", "/admin/v1/orders", `{"productId":"p1","customerId":"c1"}`).get("order.orderId").String()
	query := func(ak, sk string) answer {
		t.Helper()
		return w.openAPI(ak, sk, "GET", openapi.OrderQueryPath, "?orderId="+orderID, "", nil)
	}
	ok := func(what string, a answer) {
		t.Helper()
		if a.status != http.StatusOK || a.get("resultCode").String() != "MKT.0000" || a.get("orderInfo.orderId").String() != orderID {
			t.Errorf("%s: %d %s", what, a.status, a.body)
		}
	}
	refused := func(what string, a answer, status int, code, field string) {
		t.Helper()
		got := a.get("error_code").String() + a.get("resultCode").String()
		if a.status != status || got != code || a.get("kgsim.field").String() != field {
			t.Errorf("%s: %d %s, want %d %s on %q", what, a.status, a.body, status, code, field)
		}
	}
	ok("the first query", query("AK-S1", sellerSK))
	ok("the second query", query("AK-S1", sellerSK))

	w.must(http.StatusOK, "PUT", "/admin/v1/sellers/s1", `{"name":"Seller one","ak":"AK-S1","sk":"`+sk2+`"}`)
	a := query("AK-S1", sellerSK)
	refused("signed with the replaced SK", a, http.StatusUnauthorized, "APIGW.0301", "")
	if a.get("kgsim.problem").String() == "" || a.get("kgsim.canonical_request").String() == "" {
		t.Errorf("the refusal does not explain itself: %s", a.body)
	}
	ok("signed with the new SK", query("AK-S1", sk2))

	w.must(http.StatusOK, "PUT", "/admin/v1/sellers/s1", `{"name":"Seller one","ak":"AK-S1-NEW","sk":"`+sk2+`"}`)
	refused("the replaced AK", query("AK-S1", sk2), http.StatusUnauthorized, "APIGW.0301", "Authorization")
	ok("the new AK", query("AK-S1-NEW", sk2))

	// The product moves to another seller: its orders go with it.
	w.must(http.StatusCreated, "PUT", "/admin/v1/sellers/s2", `{"name":"Seller two","ak":"AK-S2","sk":"`+skB+`"}`)
	w.must(http.StatusOK, "PUT", "/admin/v1/products/p1", w.productJSON("p1", `,"sellerId":"s2"`))
	refused("the product's former seller", query("AK-S1-NEW", sk2), http.StatusBadRequest, "MKT.0150", "orderId")
	ok("the product's new seller", query("AK-S2", skB))
}
