package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator/openapi"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/kgsim/kgsim/simulator/schedule"
)

const sellerSK = "seller-sk-5e0b7c2a91d4f368"

func TestSellersAdmin(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.secrets = append(w.secrets, sellerSK)
	a := w.must(http.StatusCreated, "PUT", "/admin/v1/sellers/s1", `{"name":"Seller one","ak":"AK-S1","sk":"`+sellerSK+`"}`)
	if a.get("sellerId").String() != "s1" || a.get("ak").String() != "AK-S1" || a.get("sk").String() != "****68" {
		t.Errorf("PUT answered %s", a.body)
	}
	// Put back as read: the masked SK keeps the stored one.
	w.must(http.StatusOK, "PUT", "/admin/v1/sellers/s1", `{"name":"Seller 1","ak":"AK-S1","sk":"****68"}`)
	w.must(http.StatusCreated, "PUT", "/admin/v1/sellers/s2", `{"name":"Seller two","ak":"AK-S2","sk":"other-sk-0123456789"}`)
	w.secrets = append(w.secrets, "other-sk-0123456789")
	if a := w.must(http.StatusOK, "GET", "/admin/v1/sellers", ""); a.get("sellers.#").Int() != 2 || a.get("sellers.0.name").String() != "Seller 1" {
		t.Errorf("listing %s", a.body)
	}
	w.must(http.StatusOK, "GET", "/admin/v1/sellers/s2", "")
	for _, c := range []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"unknown seller", "GET", "/admin/v1/sellers/s9", "", 404, "sellerId"},
		{"AK of another seller", "PUT", "/admin/v1/sellers/s3", `{"name":"x","ak":"AK-S1","sk":"abc"}`, 409, "ak"},
		{"no SK", "PUT", "/admin/v1/sellers/s3", `{"name":"x","ak":"AK-S3"}`, 400, "sk"},
		{"masked SK of a new seller", "PUT", "/admin/v1/sellers/s3", `{"name":"x","ak":"AK-S3","sk":"****68"}`, 400, "sk"},
		{"AK with a comma", "PUT", "/admin/v1/sellers/s3", `{"name":"x","ak":"AK,S3","sk":"abc"}`, 400, "ak"},
		{"no name", "PUT", "/admin/v1/sellers/s3", `{"ak":"AK-S3","sk":"abc"}`, 400, "name"},
		{"ID differs from the path", "PUT", "/admin/v1/sellers/s3", `{"sellerId":"s4","name":"x","ak":"AK-S3","sk":"abc"}`, 400, "sellerId"},
		{"unknown member", "PUT", "/admin/v1/sellers/s3", `{"name":"x","ak":"AK-S3","sk":"abc","secret":"x"}`, 400, "secret"},
		{"product of an unknown seller", "PUT", "/admin/v1/products/p9", w.productJSON("p9", `,"sellerId":"s9"`), 400, "sellerId"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := w.call(c.method, c.path, c.body)
			if a.status != c.status || a.get("error.field").String() != c.field {
				t.Errorf("%d %s, want %d on %q", a.status, a.body, c.status, c.field)
			}
		})
	}
	w.must(http.StatusNotFound, "GET", "/admin/v1/sellers/s3", "")
}

// A merchant signs its open-API calls with its seller's AK/SK, without
// the admin token and under a host name of its own; what it pushed is at
// /admin/v1/usage.
func TestOpenAPIBesideTheGuardedAdminAPI(t *testing.T) {
	w := newGuardedWorld(t, schedule.NewVirtual(t0), Access{Token: "admin-token-7d1f0e9c3b"})
	w.secrets = append(w.secrets, sellerSK)
	w.must(http.StatusCreated, "PUT", "/admin/v1/sellers/s1", `{"name":"Seller one","ak":"AK-S1","sk":"`+sellerSK+`"}`)
	w.must(http.StatusCreated, "PUT", "/admin/v1/products/p1", strings.Replace(w.productJSON("p1", `,"sellerId":"s1"`), `"PERIOD","periodType":"year"`, `"ON_DEMAND"`, 1))
	w.must(http.StatusCreated, "POST", "/admin/v1/customers", `{"customerId":"c1","customerName":"Acme Ltd"}`)
	order := w.must(http.StatusCreated, "POST", "/admin/v1/orders", `{"productId":"p1","customerId":"c1"}`).get("order")
	w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"1m"}`)
	instanceID := "ins-" + order.Get("orderId").String()

	now := time.Now().UTC()
	body := `{"usage_records":[{"begin_time":"` + now.Add(-2*time.Hour).Format("20060102T150405Z") + `","end_time":"` +
		now.Add(-time.Hour).Format("20060102T150405Z") + `","instance_id":"` + instanceID + `","metering_sn":"sn-1","record_time":"` +
		now.Format("20060102T150405Z") + `","usage_value":"12.5"}]}`
	call := func(method, path, query string, body string, extra map[string]string) answer {
		t.Helper()
		return w.openAPI("AK-S1", sellerSK, method, path, query, body, extra)
	}
	ts, nonce := "1716363778801", "n-1"
	a := call("POST", openapi.UsagePath, "", body, map[string]string{"ts": ts, "nonce": nonce, "signature": protocol.UsageSignature(accessKey, ts, nonce, []byte(body))})
	if a.status != http.StatusOK || a.get("error_code").String() != "MKT.0000" {
		t.Fatalf("usage push: %d %s", a.status, a.body)
	}
	a = call("GET", openapi.OrderQueryPath, "?orderId="+order.Get("orderId").String(), "", nil)
	if a.status != http.StatusOK || a.get("orderInfo.orderLine.0.chargingMode").String() != "ON_DEMAND" {
		t.Fatalf("order query: %d %s", a.status, a.body)
	}
	u := w.must(http.StatusOK, "GET", "/admin/v1/usage?instanceId="+instanceID, "")
	if u.get("records.#").Int() != 1 || u.get("records.0.usageValue").String() != "12.5" || u.get("records.0.meteringSn").String() != "sn-1" ||
		u.get("records.0.acceptedAt").String() != t0.Add(time.Minute).Format(time.RFC3339) {
		t.Errorf("usage listing %s", u.body)
	}
	if a := w.must(http.StatusOK, "GET", "/admin/v1/usage?instanceId=nobody", ""); string(a.get("records").Raw) != "[]" {
		t.Errorf("usage of an unknown instance: %s", a.body)
	}
	w.must(http.StatusBadRequest, "GET", "/admin/v1/usage?instance=x", "")
	m := w.must(http.StatusOK, "GET", "/metrics", "")
	if !strings.Contains(string(m.body), `kgsim_usage_records_total{result="accepted"} 1`) {
		t.Errorf("metrics lack the accepted record")
	}
}

// openAPI makes an open-API call as a merchant does, signed with ak/sk
// over every header it sends, under a host name of its own (one the
// admin API would refuse).
func (w *world) openAPI(ak, sk, method, path, query, body string, extra map[string]string) answer {
	w.t.Helper()
	req, err := http.NewRequest(method, w.api.URL+path+query, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Host = "mkt.merchant-lab.example:8443"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Sdk-Date", time.Now().UTC().Format("20060102T150405Z"))
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	q, _ := url.ParseQuery(strings.TrimPrefix(query, "?"))
	h := req.Header.Clone()
	h.Set("Host", req.Host)
	var names []string
	for k := range h {
		names = append(names, k)
	}
	req.Header.Set("Authorization", protocol.SignAPIG(ak, sk, &protocol.APIGRequest{Method: method, Path: path, Query: q, Header: h, Body: []byte(body)}, names))
	return w.do(req)
}
