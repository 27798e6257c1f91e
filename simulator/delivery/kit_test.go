package delivery

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/kgsim/kgsim/simulator/vectors"
)

// Vector X1 (kit-sync.md §2): a tenantSync signed at 1680508066618 with
// its nonce, here in document order as the wire carries it.
func TestKitRequestSignsVectorX1AndVerifiesAtTheMerchant(t *testing.T) {
	x1 := vectors.Of(t, "identity.json", "kit-x-sign")[0]
	if x1.Get("id").String() != "X1" {
		t.Fatalf("first kit-x-sign vector is %s", x1.Get("id"))
	}
	in := x1.Get("inputs")
	body := []byte(`{"instanceId":"huaiweitest123456","orderId":"CS1906666666ABCDE","tenantId":"68cbc86****************880d92f36422fa0e",` +
		`"tenantCode":"huawei","name":"huaiweitest","domainName":"https://example.tenantaccount.com","flag":1,"testFlag":0,"timeStamp":"20220413093539534"}`)
	at := time.UnixMilli(in.Get("x-timestamp").Int())
	nonce := in.Get("x-nonce").String()
	srv := merchant(t, func(r *http.Request, got []byte) error {
		if r.Method != http.MethodPost || r.URL.Path != "/isv/produceAPI/v2/tenantSync" || r.URL.RawQuery != "x=1" {
			return errors.New("sent to " + r.Method + " " + r.URL.String())
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json;charset=UTF-8" {
			return errors.New("Content-Type " + ct)
		}
		want := `{"instanceId": "huaiweitest123456", "orderId": "CS1906666666ABCDE", "tenantId": "68cbc86****************880d92f36422fa0e", ` +
			`"tenantCode": "huawei", "name": "huaiweitest", "domainName": "https://example.tenantaccount.com", "flag": 1, "testFlag": 0, "timeStamp": "20220413093539534"}`
		if string(got) != want {
			return errors.New("body " + string(got))
		}
		return protocol.VerifyKit(in.Get("kitKey").String(), r.Header.Get("x-sign"), r.Header.Get("x-timestamp"), r.Header.Get("x-nonce"),
			got, at.Add(time.Second), protocol.FreshnessWindow)
	})
	req, err := NewKitRequest(srv.URL+"/isv/?x=1", "tenantSync", in.Get("kitKey").String(), body, at, nonce, KitDocument)
	if err != nil {
		t.Fatal(err)
	}
	if req.Signature != x1.Get("expected").String() {
		t.Errorf("x-sign %s, want X1's %s", req.Signature, x1.Get("expected"))
	}
	if want := "<kitKey>" + nonce + in.Get("x-timestamp").String() + in.Get("reqParams").String(); req.Canonical != want {
		t.Errorf("recorded signing input %q, want %q", req.Canonical, want)
	}
	a := NewSender(DefaultTimeout).Send(context.Background(), req)
	if j := Judge(Call{Protocol: simulator.Kit, Activity: "tenantSync"}, a); j.Verdict != simulator.Success {
		t.Fatalf("verdict %s: %s", j.Verdict, j.Detail)
	}
}

func TestKitLayoutSetting(t *testing.T) {
	for in, want := range map[string]KitLayout{"": KitDocument, "document": KitDocument, "canonical": KitCanonical} {
		if got, err := ParseKitLayout(in); err != nil || got != want {
			t.Errorf("%q: %s, %v; want %s", in, got, err, want)
		}
	}
	if _, err := ParseKitLayout("raw"); simulator.ErrorCode(err) != simulator.EINVALID {
		t.Errorf("raw: %v", err)
	}
}

// kit-sync.md §3 and §5: only a 200 with resultCode 000000 succeeds; no
// Body-Sign is needed.
func TestJudgeKit(t *testing.T) {
	kit := func(activity string) Call { return Call{Protocol: simulator.Kit, Activity: activity} }
	tests := []struct {
		name     string
		call     Call
		answer   Answer
		verdict  simulator.Verdict
		detail   string // a fragment of the detail
		warnings []string
	}{
		{"success without Body-Sign", kit("tenantSync"), answer(simulator.V2, `{"resultCode":"000000","resultMsg":"success"}`), simulator.Success, "", nil},
		{"success without resultMsg, as text/plain", kit("authSync"), answer(simulator.V2, `{"resultCode":"000000"}`, header("Content-Type", "text/plain")),
			simulator.Success, "", []string{"CONTENT_TYPE"}},
		{"clientSecret undecryptable", kit("applicationSync"), answer(simulator.V2, `{"resultCode":"000101","resultMsg":"something wrong with appSecret"}`),
			simulator.ResultCode, "the merchant could not decrypt the clientSecret", nil},
		{"000101 to a call without a secret", kit("authSync"), answer(simulator.V2, `{"resultCode":"000101"}`),
			simulator.ResultCode, "though this call carries none", nil},
		{"authentication failed", kit("allOrgSync"), answer(simulator.V2, `{"resultCode":"000001"}`), simulator.ResultCode, "rejected x-sign", nil},
		{"processing counts as failure", kit("tenantSync"), answer(simulator.V2, `{"resultCode":"000004"}`), simulator.ResultCode, "no polling", nil},
		{"unknown code", kit("tenantSync"), answer(simulator.V2, `{"resultCode":"999999"}`), simulator.ResultCode, "not a kit result code", nil},
		{"numeric resultCode", kit("tenantSync"), answer(simulator.V2, `{"resultCode":0}`), simulator.BodyParse, "no string member resultCode", nil},
		{"not JSON", kit("tenantSync"), answer(simulator.V2, `OK`), simulator.BodyParse, "not a JSON object", nil},
		{"HTTP 500", kit("singleOrgSync"), answer(simulator.V2, `{"resultCode":"000000"}`, func(a *Answer) { a.Status = 500 }), simulator.HTTPStatus, "HTTP status 500", nil},
		{"slow but in time", kit("tenantSync"), answer(simulator.V2, `{"resultCode":"000000"}`, func(a *Answer) { a.Elapsed = 6 * time.Second }),
			simulator.Success, "", []string{"SLOW_RESPONSE"}},
		{"unreachable", kit("tenantSync"), Answer{Err: errors.New("connection refused")}, simulator.Unreachable, "connection refused", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := Judge(tt.call, tt.answer)
			if j.Verdict != tt.verdict || !strings.Contains(j.Detail, tt.detail) {
				t.Errorf("verdict %s, detail %q; want %s with %q", j.Verdict, j.Detail, tt.verdict, tt.detail)
			}
			if len(j.Warnings) != len(tt.warnings) {
				t.Fatalf("warnings %q, want %q", j.Warnings, tt.warnings)
			}
			for i, w := range tt.warnings {
				if !strings.HasPrefix(j.Warnings[i], w) {
					t.Errorf("warning %q, want %s", j.Warnings[i], w)
				}
			}
		})
	}
}

func TestKitQueueNamesItsTenantAndApp(t *testing.T) {
	for _, c := range [][2]string{{"68cbc86abc2018ab880d92f36422fa0e", "APP-1"}, {"t/1", "a/b%c"}} {
		q := simulator.KitQueue(c[0], c[1])
		if tenant, app, ok := simulator.ParseKitQueue(q); !ok || tenant != c[0] || app != c[1] {
			t.Errorf("%v: queue %q reads back as %q %q %v", c, q, tenant, app, ok)
		}
	}
	for _, q := range []string{"CS1-000001", "kit/", "kit/t", "kit//a", "kit/%zz/a"} {
		if _, _, ok := simulator.ParseKitQueue(q); ok {
			t.Errorf("%q read as a kit queue", q)
		}
	}
}
