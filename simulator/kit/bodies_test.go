package kit

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/delivery"
	"github.com/kgsim/kgsim/simulator/merchanttest"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/tidwall/gjson"
)

// member is one expected member of a body: its name and value as JSON.
// A value of "" only checks the JSON type given in kind.
type member struct {
	name, value string
	kind        gjson.Type
}

// checkBody checks a body member by member, in order, against the
// spec's table.
func checkBody(t *testing.T, call string, body []byte, want []member) {
	t.Helper()
	var got []string
	gjson.ParseBytes(body).ForEach(func(k, _ gjson.Result) bool {
		got = append(got, k.Str)
		return true
	})
	names := make([]string, len(want))
	for i, m := range want {
		names[i] = m.name
	}
	equal(t, call+" members in document order", got, names)
	for _, m := range want {
		v := gjson.GetBytes(body, m.name)
		switch {
		case v.Type != m.kind:
			t.Errorf("%s.%s is a %s (%s), want a %s", call, m.name, v.Type, v.Raw, m.kind)
		case m.value != "" && v.Raw != m.value:
			t.Errorf("%s.%s = %s, want %s", call, m.name, v.Raw, m.value)
		}
	}
}

var (
	kitTime   = regexp.MustCompile(`^"\d{17}"$`) // yyyyMMddHHmmssSSS
	hex32     = regexp.MustCompile(`^"[0-9a-f]{32}"$`)
	nonceForm = regexp.MustCompile(`^[0-9A-F]{64}$`)
)

func TestEveryBodyFollowsItsTableMemberByMember(t *testing.T) {
	w := newWorld(t)
	tn := w.acme()
	b, _ := w.bind("acme", "zhangsan01")
	before := time.Now()
	w.deliver()
	calls := w.merchant.Calls()
	if len(calls) != 4 {
		t.Fatalf("%d calls", len(calls))
	}
	str, num, arr := gjson.String, gjson.Number, gjson.JSON
	tenantID := `"` + tn.ID + `"`
	if !hex32.MatchString(tenantID) {
		t.Errorf("tenantId %s: want 32 hex digits", tenantID)
	}

	// §4.1
	checkBody(t, "tenantSync", calls[0].Body, []member{
		{"instanceId", `"inst-1"`, str}, {"orderId", `"CS0001"`, str}, {"tenantId", tenantID, str},
		{"tenantCode", `"acme"`, str}, {"name", `"Acme 有限公司"`, str},
		{"domainName", `"http://kgsim.test:8080/t/acme"`, str}, // identity.md §1: {simBase}/t/{tenantCode}
		{"flag", "1", num}, {"testFlag", "0", num}, {"timeStamp", "", str},
	})
	// §4.2
	checkBody(t, "applicationSync", calls[1].Body, []member{
		{"instanceId", `"inst-1"`, str}, {"tenantId", tenantID, str}, {"appId", `"APP-1"`, str},
		{"clientId", `"` + b.ClientID + `"`, str}, {"clientSecret", "", str},
		{"flag", "1", num}, {"testFlag", "0", num}, {"timeStamp", "", str},
	})
	ct, err := base64.StdEncoding.DecodeString(gjson.GetBytes(calls[1].Body, "clientSecret").String())
	if err != nil || len(ct) != 3072/8 {
		t.Errorf("clientSecret: %d bytes of standard Base64 (%v), want one 3072-bit RSA block", len(ct), err)
	}
	// §4.5: no flag; the top-level department has no parentCode.
	checkBody(t, "allOrgSync", calls[2].Body, []member{
		{"instanceId", `"inst-1"`, str}, {"tenantId", tenantID, str},
		{"orgInfoList", `[{"orgCode": "acme", "orgName": "Acme 有限公司"}, {"orgCode": "dev", "orgName": "研发部", "parentCode": "acme"}]`, arr},
		{"testFlag", "0", num}, {"timeStamp", "", str},
	})
	// §4.3: currentSyncTime is when the binding happened, 10:03:04.005
	// in Beijing.
	checkBody(t, "authSync", calls[3].Body, []member{
		{"instanceId", `"inst-1"`, str}, {"tenantId", tenantID, str}, {"appId", `"APP-1"`, str},
		{"userList", "", arr}, {"currentSyncTime", `"20250115100304005"`, str},
		{"flag", "1", num}, {"testFlag", "0", num}, {"timeStamp", "", str},
	})
	users := gjson.GetBytes(calls[3].Body, "userList").Array()
	if len(users) != 1 {
		t.Fatalf("userList %s, want zhangsan01 alone", gjson.GetBytes(calls[3].Body, "userList").Raw)
	}
	checkBody(t, "userList[0]", []byte(users[0].Raw), []member{
		{"userName", `"zhangsan01"`, str}, {"name", `"张三"`, str}, {"orgCode", `"dev"`, str},
		{"position", `"系统管理员"`, str}, {"employeeCode", `"E001"`, str}, {"employeeType", "1", num},
		{"role", `"admin"`, str}, {"enable", `"true"`, str}, {"mobile", `"13800000000"`, str},
		{"email", `"zhangsan@example.com"`, str},
	})

	for _, c := range calls {
		ts := gjson.GetBytes(c.Body, "timeStamp").Raw
		sent, err := time.ParseInLocation(`"20060102150405.000"`, ts[:15]+"."+ts[15:], time.FixedZone("UTC+8", 8*3600))
		if !kitTime.MatchString(ts) || err != nil || sent.Before(before.Truncate(time.Millisecond)) || sent.After(time.Now()) {
			t.Errorf("%s timeStamp %s (%v): want the time of the request as yyyyMMddHHmmssSSS in UTC+8", c.Activity, ts, err)
		}
		if ct := c.Header.Get("Content-Type"); ct != "application/json;charset=UTF-8" {
			t.Errorf("%s Content-Type %q", c.Activity, ct)
		}
		if n := c.Header.Get("x-nonce"); !nonceForm.MatchString(n) {
			t.Errorf("%s x-nonce %q: want 64 upper-case hex digits", c.Activity, n)
		}
		// Document layout: the table's order with ": " and ", " (§2.2).
		if want := `{"instanceId": "inst-1", `; !strings.HasPrefix(string(c.Body), want) {
			t.Errorf("%s body %.40s...: want it to start %s", c.Activity, c.Body, want)
		}
	}
}

func TestTheCanonicalLayoutSendsTheSignedBytes(t *testing.T) {
	w := newWorld(t)
	w.acme()
	w.deliverer.KitLayout = delivery.KitCanonical
	w.bind("acme", "zhangsan01")
	w.deliver()
	for _, c := range w.merchant.Calls() {
		canonical, err := protocol.CanonicalJSON(c.Body, protocol.SortAllLevels)
		if err != nil || string(canonical) != string(c.Body) || c.Code != merchanttest.CodeSuccess {
			t.Errorf("%s sent %s, answered %s (%v)", c.Activity, c.Body, c.Code, err)
		}
	}
}

func TestACredentialTestBindingCarriesTestDataWithoutAnInstance(t *testing.T) {
	w := newWorld(t)
	w.tenant("seller-test", "")
	_, sent, err := w.console.Bind(w.ctx, Binding{Tenant: "seller-test", AppID: w.app.ID})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "enqueued", activities(sent), []string{"tenantSync", "applicationSync", "allOrgSync"})
	w.deliver()
	for _, c := range w.merchant.Calls() {
		body := gjson.ParseBytes(c.Body)
		if body.Get("instanceId").Raw != `""` || body.Get("testFlag").Raw != "1" || c.Activity == "tenantSync" && body.Get("orderId").Raw != `""` {
			t.Errorf("%s: %s; want instanceId and orderId \"\" and testFlag 1 (kit-sync.md §7)", c.Activity, c.Body)
		}
	}
}

func TestAnAppWithoutKitAddressGetsNoSyncs(t *testing.T) {
	w := newWorld(t)
	app, err := w.console.AddApp(w.ctx, simulator.App{ID: "LOGIN-ONLY", ClientID: "fixed-client", ClientSecret: "fixed-secret-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	tn := w.tenant("acme", "")
	b, sent, err := w.console.Bind(w.ctx, Binding{Tenant: "acme", AppID: app.ID, InstanceID: "inst-9"})
	if err != nil || len(sent) != 0 {
		t.Fatalf("bind: %v, %d syncs; want none", err, len(sent))
	}
	stored, err := w.store.ClientByID(w.ctx, tn.ID, "fixed-client")
	if err != nil || stored.ClientSecret != "fixed-secret-0123456789" || b.ClientID != "fixed-client" {
		t.Errorf("binding %+v, stored %v: want the app's fixed pair", b, err)
	}
}
