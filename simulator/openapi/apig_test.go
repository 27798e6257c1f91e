package openapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/openapi"
	"github.com/kgsim/kgsim/simulator/vectors"
)

// vectorRequest is an identity.json APIG vector as a request.
func vectorRequest(v gjson.Result) request {
	in := v.Get("inputs")
	req := request{method: in.Get("method").String(), path: in.Get("path").String(), body: []byte(in.Get("body").String())}
	for _, p := range in.Get("query").Array() {
		req.query = append(req.query, [2]string{p.Get("0").String(), p.Get("1").String()})
	}
	in.Get("headers").ForEach(func(k, v gjson.Result) bool {
		if strings.EqualFold(k.String(), "Host") {
			req.host = v.String()
		} else {
			req.header = append(req.header, [2]string{k.String(), v.String()})
		}
		return true
	})
	return req
}

// The test's own signer reproduces every APIG vector, so that what it
// signs below is signed as the spec says.
func TestIndependentSignerReproducesVectors(t *testing.T) {
	for _, v := range vectors.Of(t, "identity.json", "apig-sdk-hmac-sha256") {
		t.Run(v.Get("id").String(), func(t *testing.T) {
			req := vectorRequest(v)
			if got := canonicalRequest(req); got != v.Get("expected.canonicalRequest").String() {
				t.Errorf("canonical request\n%s\nwant\n%s", got, v.Get("expected.canonicalRequest"))
			}
			if got := signAPIG(v.Get("inputs.ak").String(), v.Get("inputs.sk").String(), req); got != v.Get("expected.authorization").String() {
				t.Errorf("Authorization %s\nwant %s", got, v.Get("expected.authorization"))
			}
		})
	}
	if got := usageSignature("xxxxxxx", "1716363778801", "RLLUammMSInlrNWb", []byte(vectors.Of(t, "identity.json", "usage-push-body-signature")[0].Get("inputs.body").String())); got != vectors.Of(t, "identity.json", "usage-push-body-signature")[0].Get("expected").String() {
		t.Errorf("U1 = %s", got)
	}
}

// kgsim accepts the vectors' requests byte for byte as the vectors give
// them, Authorization included: A3 (an order query) is answered, A4 (a
// usage push whose body is U1's) passes both signatures and is refused
// only for its begin_time, two years before the vector's X-Sdk-Date.
func TestVectorsAccepted(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	w.check(w.store.PutSeller(ctx, simulator.Seller{ID: "VEC-A3", Name: "A3", AK: "2CNBVV3R4B1H2JZ6AHAT", SK: "kgsim-demo-sk"}))
	w.check(w.store.PutSeller(ctx, simulator.Seller{ID: "VEC-A4", Name: "A4", AK: "AKDEMO0000000000000", SK: "kgsim-demo-sk"}))
	w.check(w.store.PutProduct(ctx, simulator.Product{ID: "P-U1", SKUCode: "s", Name: "U1", ChargingMode: simulator.OnDemand,
		URL: "http://127.0.0.1:1/", Protocol: simulator.V2, AccessKey: "xxxxxxx", SellerID: "VEC-A4"}))
	w.check(w.store.PutInstance(ctx, simulator.Instance{Key: "K-U1", ID: "7f141bf1-aec8-4859-8323-fb3a8ad50721", ProductID: "P-U1", State: simulator.Active}))
	for _, c := range []struct {
		id     string
		status int
		code   string
	}{
		{"A3", http.StatusOK, "resultCode:MKT.0000"},
		{"A4", http.StatusInternalServerError, "error_code:MKT.9004"},
	} {
		t.Run(c.id, func(t *testing.T) {
			var v gjson.Result
			for _, x := range vectors.Of(t, "identity.json", "apig-sdk-hmac-sha256") {
				if x.Get("id").String() == c.id {
					v = x
				}
			}
			req := vectorRequest(v)
			w.wall, _ = time.Parse("20060102T150405Z", v.Get("inputs.headers.X-Sdk-Date").String())
			r := w.httpRequest(req)
			r.Header.Set("Authorization", v.Get("expected.authorization").String())
			a := w.do(r)
			field, want, _ := strings.Cut(c.code, ":")
			if a.status != c.status || a.json.Get(field).String() != want {
				t.Errorf("answer %d %s, want %d with %s", a.status, a.body, c.status, c.code)
			}
		})
	}
	if n := len(w.stored()); n != 0 {
		t.Errorf("%d records stored from a refused push", n)
	}
}

func orderQuery(id string) request {
	return request{method: http.MethodGet, path: openapi.OrderQueryPath, query: [][2]string{{"orderId", id}}, header: [][2]string{{"Content-Type", "application/json"}}}
}

// refusedAuth checks an APIG refusal: status, code, the message of the
// spec, and an explanation that names the problem and never the SK.
func refusedAuth(t *testing.T, a answer, status int, code, msg, problem string) {
	t.Helper()
	if a.status != status || a.json.Get("error_code").String() != code || a.json.Get("error_msg").String() != msg {
		t.Errorf("answer %d %s\nwant %d %s %q", a.status, a.body, status, code, msg)
	}
	if !strings.Contains(a.json.Get("kgsim.problem").String()+" "+a.json.Get("kgsim.likely_cause").String(), problem) {
		t.Errorf("explanation %s does not say %q", a.json.Get("kgsim"), problem)
	}
	if a.json.Get("request_id").String() == "" {
		t.Errorf("no request_id in %s", a.body)
	}
	for _, sk := range []string{sk1, sk2} {
		if strings.Contains(a.body, sk) {
			t.Errorf("the answer shows an SK: %s", a.body)
		}
	}
}

const verifyFail = "Incorrect IAM authentication information: verify aksk signature fail"

func TestAPIGRefusals(t *testing.T) {
	expired := "Incorrect IAM authentication information: ak " + ak1 + " signature expired"
	for _, c := range []struct {
		name    string
		req     func() request
		ak, sk  string
		tamper  func(*http.Request)
		status  int
		code    string
		msg     string
		problem string
	}{
		{"missing Authorization", func() request { return orderQuery("MOCKONDEMAND") }, ak1, sk1,
			func(r *http.Request) { r.Header.Del("Authorization") }, 401, "APIGW.0301", verifyFail, "header is missing"},
		{"garbled Authorization", func() request { return orderQuery("MOCKONDEMAND") }, ak1, sk1,
			func(r *http.Request) { r.Header.Set("Authorization", "SDK-HMAC-SHA256 Access="+ak1) }, 401, "APIGW.0301", verifyFail, "SignedHeaders is missing"},
		{"another scheme", func() request { return orderQuery("MOCKONDEMAND") }, ak1, sk1,
			func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+sk1) }, 401, "APIGW.0301", verifyFail, `the scheme "Bearer" is not`},
		{"unknown AK", func() request { return orderQuery("MOCKONDEMAND") }, "AK-NOBODY", sk1, nil, 401, "APIGW.0301", verifyFail, "not the AK of any seller"},
		{"X-Sdk-Date 16 minutes old", func() request {
			r := orderQuery("MOCKONDEMAND")
			r.header = append(r.header, [2]string{"X-Sdk-Date", start.Add(-16 * time.Minute).Format("20060102T150405Z")})
			return r
		}, ak1, sk1, nil, 401, "APIGW.0301", expired, "960 s old"},
		{"X-Sdk-Date 16 minutes ahead", func() request {
			r := orderQuery("MOCKONDEMAND")
			r.header = append(r.header, [2]string{"X-Sdk-Date", start.Add(16 * time.Minute).Format("20060102T150405Z")})
			return r
		}, ak1, sk1, nil, 401, "APIGW.0301", expired, "in the future"},
		{"X-Sdk-Date in Beijing time", func() request {
			r := orderQuery("MOCKONDEMAND")
			r.header = append(r.header, [2]string{"X-Sdk-Date", start.Add(8 * time.Hour).Format("20060102T150405Z")})
			return r
		}, ak1, sk1, nil, 401, "APIGW.0301", expired, "local time (UTC+8)"},
		{"X-Sdk-Date missing", func() request { return orderQuery("MOCKONDEMAND") }, ak1, sk1,
			func(r *http.Request) { r.Header.Del("X-Sdk-Date") }, 401, "APIGW.0301", expired, "X-Sdk-Date: header is missing"},
		{"host not signed", func() request { return orderQuery("MOCKONDEMAND") }, ak1, sk1, func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "host;", "", 1))
		}, 401, "APIGW.0301", verifyFail, "does not include host"},
		{"wrong method", func() request { r := orderQuery("MOCKONDEMAND"); r.method = http.MethodPost; return r }, ak1, sk1, nil,
			404, "APIGW.0101", "The API does not exist or has not been published in the environment", "this path takes GET"},
		{"unknown path", func() request { r := orderQuery("MOCKONDEMAND"); r.path += "s"; return r }, ak1, sk1, nil,
			404, "APIGW.0101", "The API does not exist or has not been published in the environment", "no open API"},
		{"path sent with the canonical URI's slash", func() request { r := orderQuery("MOCKONDEMAND"); r.path += "/"; return r }, ak1, sk1, nil,
			404, "APIGW.0101", "The API does not exist or has not been published in the environment", `the path ends with "/"`},
		{"2 MiB body", func() request {
			return newPush(`{"usage_records":[`+strings.Repeat(" ", 2<<20)+`]}`, key1)
		}, ak1, sk1, nil, 413, "APIGW.0201", "Request entity too large", "over 1048576 bytes"},
		{"SK of the other seller", func() request { return orderQuery("MOCKONDEMAND") }, ak1, sk2, nil, 401, "APIGW.0301", verifyFail,
			"the SK of seller S2"},
		{"Host signed for the marketplace", func() request {
			r := orderQuery("MOCKONDEMAND")
			r.host = "mkt.myhuaweicloud.com"
			return r
		}, ak1, sk1, func(r *http.Request) { r.Host = strings.TrimPrefix(r.URL.Host, "http://") }, 401, "APIGW.0301", verifyFail,
			`host was signed as "mkt.myhuaweicloud.com"`},
		{"body hashed before it was indented", func() request {
			return newPush(`{"usage_records":[{"instance_id":"i-demand-1"}]}`, key1)
		}, ak1, sk1, func(r *http.Request) {
			body := "{\n  \"usage_records\": [\n    {\n      \"instance_id\": \"i-demand-1\"\n    }\n  ]\n}"
			r.Body, r.ContentLength = readCloser(body), int64(len(body))
		}, 401, "APIGW.0301", verifyFail, "the body compacted"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			a := w.send(c.req(), c.ak, c.sk, c.tamper)
			refusedAuth(t, a, c.status, c.code, c.msg, c.problem)
			if n := len(w.stored()); n != 0 {
				t.Errorf("%d usage records stored", n)
			}
		})
	}
}

// One byte changed after signing, in each part the signature covers, is
// refused, and the refusal shows the canonical request kgsim computed
// with the changed byte, for the merchant to compare with its own.
func TestOneByteChangedAnywhere(t *testing.T) {
	body := `{"usage_records":[{"begin_time":"20250301T060000Z","end_time":"20250301T070000Z","instance_id":"i-demand-1","metering_sn":"sn-1","record_time":"20250301T071000Z","usage_value":"1.5"}]}`
	for _, c := range []struct {
		name   string
		tamper func(*http.Request)
		shown  string // in the canonical request kgsim shows
	}{
		{"path", func(r *http.Request) { r.URL.Path = strings.Replace(r.URL.Path, "/global/", "/globaL/", 1) }, ""},
		{"query", func(r *http.Request) { r.URL.RawQuery = "lang=zh_CM" }, "lang=zh_CM"},
		{"a signed header", func(r *http.Request) { r.Header.Set("nonce", "RLLUammMSInlrNWc") }, "nonce:RLLUammMSInlrNWc"},
		{"X-Sdk-Date", func(r *http.Request) {
			r.Header.Set("X-Sdk-Date", strings.Replace(r.Header.Get("X-Sdk-Date"), "30Z", "31Z", 1))
		}, "x-sdk-date:20250301T075931Z"},
		{"body", func(r *http.Request) {
			b := strings.Replace(body, `"1.5"`, `"1.6"`, 1)
			r.Body, r.ContentLength = readCloser(b), int64(len(b))
		}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			w.wall = start.Add(-30 * time.Second)
			req := newPush(body, key1)
			req.query = [][2]string{{"lang", "zh_CN"}}
			a := w.send(req, ak1, sk1, c.tamper)
			if c.name == "path" {
				// Another path is another API: the gateway answers it
				// before checking any signature.
				refusedAuth(t, a, 404, "APIGW.0101", "The API does not exist or has not been published in the environment", "no open API")
				return
			}
			refusedAuth(t, a, 401, "APIGW.0301", verifyFail, "the request differs from the one that was signed (path, query, a signed header or the body)")
			canonical := a.json.Get("kgsim.canonical_request").String()
			if !strings.Contains(canonical, c.shown) || !strings.HasPrefix(a.json.Get("kgsim.string_to_sign").String(), "SDK-HMAC-SHA256\n") {
				t.Errorf("explanation shows\n%s\nwant the changed %q", a.json.Get("kgsim"), c.shown)
			}
			if a.json.Get("kgsim.received_signature").String() == "" {
				t.Errorf("the received signature is not shown: %s", a.body)
			}
			if n := len(w.stored()); n != 0 {
				t.Errorf("%d usage records stored", n)
			}
		})
	}
}

// A request signed by the test's own signer, not protocol.SignAPIG, is
// accepted, whatever headers it chooses to sign.
func TestIndependentlySignedAccepted(t *testing.T) {
	w := newWorld(t)
	req := orderQuery("MOCKPERIODYEARNEW")
	req.query = append(req.query, [2]string{"orderLineId", "MOCKPERIODYEARNEW-000001"}, [2]string{"empty", ""}, [2]string{"é ~", "a b/c"})
	req.header = append(req.header, [2]string{"x-stage", " RELEASE "})
	if a := w.send(req, ak1, sk1, nil); a.status != http.StatusOK || a.json.Get("resultCode").String() != "MKT.0000" {
		t.Fatalf("answer %d %s", a.status, a.body)
	}
	// Only host and x-sdk-date signed: Content-Type is then free.
	req = orderQuery("MOCKONDEMAND")
	req.header = nil
	if a := w.send(req, ak2, sk2, func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }); a.status != http.StatusOK {
		t.Fatalf("answer %d %s", a.status, a.body)
	}
}

// A signer's usual mistakes in the canonical request are named.
func TestSignerMistakesNamed(t *testing.T) {
	for _, c := range []struct {
		name    string
		mistake func(canonical string) string
		cause   string
	}{
		{"query space signed as +", func(c string) string { return strings.Replace(c, "a%20b", "a+b", 1) }, `signed as "+"; encode them as %20`},
		{"no slash after the path", func(c string) string { return strings.Replace(c, "/order/query/\n", "/order/query\n", 1) }, `must end with "/"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			req := orderQuery("MOCKONDEMAND")
			req.query = append(req.query, [2]string{"trace", "a b"})
			a := w.send(req, ak1, sk1, func(r *http.Request) {
				req.host = r.Host
				req.header = append(req.header, [2]string{"X-Sdk-Date", r.Header.Get("X-Sdk-Date")})
				r.Header.Set("Authorization", "SDK-HMAC-SHA256 Access="+ak1+", SignedHeaders="+signedNames(req)+", Signature="+
					signatureOfCanonical(sk1, r.Header.Get("X-Sdk-Date"), c.mistake(canonicalRequest(req))))
			})
			refusedAuth(t, a, 401, "APIGW.0301", verifyFail, c.cause)
		})
	}
}
