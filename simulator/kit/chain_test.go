package kit

import (
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/merchanttest"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/tidwall/gjson"
)

// zhangsan is to be authorised for the app as it is bound: one of the
// "initially authorised users" of kit-sync.md §7.
func (w *world) acme() simulator.Tenant {
	w.t.Helper()
	tn := w.tenant("acme", "Acme 有限公司")
	if _, _, _, err := w.console.PutDepartment(w.ctx, "acme", simulator.Department{OrgCode: "dev", Name: "研发部", ParentCode: "acme"}); err != nil {
		w.t.Fatal(err)
	}
	w.user("acme", simulator.User{
		UserName: "zhangsan01", Name: "张三", Role: RoleAdmin, OrgCode: "dev", Position: "系统管理员", EmployeeCode: "E001",
		EmployeeType: 1, Mobile: "13800000000", Email: "zhangsan@example.com",
	})
	w.user("acme", simulator.User{UserName: "lisi02", Name: "李四"})
	return tn
}

func TestBindingSendsItsChainInOrderWithTheSecretTheTokenEndpointTakes(t *testing.T) {
	w := newWorld(t)
	tn := w.acme()
	if got := w.merchant.Calls(); len(got) != 0 {
		t.Fatalf("before binding the merchant got %v", callNames(got))
	}
	b, sent := w.bind("acme", "zhangsan01")
	equal(t, "enqueued", activities(sent), []string{"tenantSync", "applicationSync", "allOrgSync", "authSync"})
	if w.wakes == 0 {
		t.Error("binding did not wake delivery")
	}
	if n := w.deliver(); n != 4 {
		t.Fatalf("%d attempts, want 4", n)
	}
	calls := w.merchant.Calls()
	equal(t, "received", callNames(calls), []string{"tenantSync", "applicationSync", "allOrgSync", "authSync"})
	for _, c := range calls {
		if c.Err != nil || c.Code != merchanttest.CodeSuccess {
			t.Errorf("%s: the merchant refused it: %s %v", c.Activity, c.Code, c.Err)
		}
	}
	equal(t, "outcomes", w.outcomes(sent), []simulator.Outcome{simulator.Succeeded, simulator.Succeeded, simulator.Succeeded, simulator.Succeeded})

	// What the merchant decrypted is what the token endpoint checks.
	stored, err := w.store.ClientByID(w.ctx, tn.ID, b.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if secret := calls[1].Secret; secret == "" || secret != stored.ClientSecret {
		t.Errorf("the merchant decrypted %q, the store holds %q for client %s", secret, stored.ClientSecret, stored.ClientID)
	}
	if got := gjson.GetBytes(calls[1].Body, "clientId").String(); got != stored.ClientID {
		t.Errorf("applicationSync clientId %q, the store's %q", got, stored.ClientID)
	}
	if len(stored.ClientSecret) != 32 || strings.Trim(stored.ClientSecret, protocol.Alphanumerics) != "" {
		t.Errorf("client secret %q: want 32 of [A-Za-z0-9] (kit-sync.md §6)", stored.ClientSecret)
	}
	if strings.Contains(string(calls[1].Body), stored.ClientSecret) {
		t.Error("applicationSync carries the secret in plaintext")
	}
}

func TestAFailedSyncHoldsTheRestOfItsChainUntilRestarted(t *testing.T) {
	w := newWorld(t)
	w.acme()
	w.merchant.Answer("tenantSync", merchanttest.Reply{Status: 500})
	_, sent := w.bind("acme", "zhangsan01")
	if n := w.deliver(); n != 1 {
		t.Fatalf("%d attempts, want 1: the chain stops at the failure", n)
	}
	equal(t, "outcomes after the failure", w.outcomes(sent),
		[]simulator.Outcome{simulator.Stopped, simulator.Held, simulator.Held, simulator.Held})

	// A change while the chain is stopped waits behind it too.
	granted, err := w.console.Grant(w.ctx, "acme", w.app.ID, []string{"lisi02"})
	if err != nil || len(granted) != 1 || granted[0].Outcome != simulator.Held {
		t.Fatalf("grant while stopped: %v %+v", err, granted)
	}
	w.clock.Advance(48 * time.Hour)
	if n := w.deliver(); n != 0 {
		t.Fatalf("%d attempts two days later: a kit sync is not retried by itself (kit-sync.md §8)", n)
	}
	if _, err := w.deliverer.Restart(w.ctx, sent[1].ID); simulator.ErrorCode(err) != simulator.ECONFLICT {
		t.Errorf("restart of a held sync: %v, want a conflict naming the failed one", err)
	}
	ns, err := w.store.Notices(w.ctx, simulator.NoticeFilter{MessageID: sent[0].ID})
	if err != nil || len(ns) != 1 {
		t.Fatalf("notices of the failed tenantSync: %v %+v, want 1", err, ns)
	}
	if n := ns[0]; n.Kind != simulator.NoticeAttemptFailed || n.ProductID != "P1" || len(n.To) != 1 || !strings.Contains(n.Body, "HTTP status 500") {
		t.Errorf("notice %s %s to %v:\n%s", n.Kind, n.ProductID, n.To, n.Body)
	}

	w.merchant.Answer("tenantSync")
	a, err := w.deliverer.Restart(w.ctx, sent[0].ID)
	if err != nil || a.Verdict != simulator.Success {
		t.Fatalf("restart: %v %s %s", err, a.Verdict, a.Detail)
	}
	if n := w.deliver(); n != 4 {
		t.Fatalf("%d attempts after the restart, want the 4 held", n)
	}
	equal(t, "received", callNames(w.merchant.Calls()),
		[]string{"tenantSync", "tenantSync", "applicationSync", "allOrgSync", "authSync", "authSync"})
	equal(t, "outcomes", w.outcomes(append(sent, granted...)), []simulator.Outcome{
		simulator.SucceededAfterRestart, simulator.Succeeded, simulator.Succeeded, simulator.Succeeded, simulator.Succeeded})
}

func TestAMerchantThatCannotDecryptTheSecretIsToldSo(t *testing.T) {
	w := newWorld(t)
	w.acme()
	w.merchant.OAEPHash = protocol.OAEPSHA1 // decrypts with the other hash: nothing decrypts
	_, sent := w.bind("acme", "zhangsan01")
	if n := w.deliver(); n != 2 {
		t.Fatalf("%d attempts, want tenantSync and the failing applicationSync", n)
	}
	calls := w.merchant.Named("applicationSync")
	if len(calls) != 1 || calls[0].Code != merchanttest.CodeSecretUndecryptable {
		t.Fatalf("applicationSync calls %+v, want one answered 000101", calls)
	}
	as, err := w.store.Attempts(w.ctx, sent[1].ID)
	if err != nil || len(as) != 1 {
		t.Fatalf("attempts: %v %d", err, len(as))
	}
	const said = "the merchant could not decrypt the clientSecret"
	if a := as[0]; a.Verdict != simulator.ResultCode || !strings.Contains(a.Detail, said) {
		t.Errorf("verdict %s, detail %q; want RESULT_CODE saying %q", a.Verdict, a.Detail, said)
	}
	ns, err := w.store.Notices(w.ctx, simulator.NoticeFilter{MessageID: sent[1].ID})
	if err != nil || len(ns) != 1 {
		t.Fatalf("notices: %v %d", err, len(ns))
	}
	if !strings.Contains(ns[0].Body, said) || !strings.Contains(ns[0].Subject, "applicationSync") {
		t.Errorf("the notice does not say %q:\n%s\n%s", said, ns[0].Subject, ns[0].Body)
	}
	if strings.Contains(ns[0].Body, kitKey) || strings.Contains(string(ns[0].Record), kitKey) {
		t.Error("the notice shows the kit key")
	}
	equal(t, "outcomes", w.outcomes(sent)[1:], []simulator.Outcome{simulator.Stopped, simulator.Held, simulator.Held})
}

func TestARestartResendsTheSameSyncFreshlySigned(t *testing.T) {
	w := newWorld(t)
	tn := w.acme()
	w.merchant.Answer("applicationSync", merchanttest.Reply{Code: "000005"})
	_, sent := w.bind("acme", "zhangsan01")
	w.deliver()
	w.merchant.Answer("applicationSync")
	if _, err := w.deliverer.Restart(w.ctx, sent[1].ID); err != nil {
		t.Fatal(err)
	}
	calls := w.merchant.Named("applicationSync")
	if len(calls) != 2 {
		t.Fatalf("%d applicationSync calls, want 2", len(calls))
	}
	first, again := calls[0], calls[1]
	for _, h := range []string{"x-nonce", "x-sign"} {
		if first.Header.Get(h) == again.Header.Get(h) {
			t.Errorf("%s is the same on the resend: %s", h, first.Header.Get(h))
		}
	}
	if again.Code != merchanttest.CodeSuccess || again.Secret != first.Secret {
		t.Errorf("resend answered %s, decrypted %q; first decrypted %q", again.Code, again.Secret, first.Secret)
	}
	// The same body but for the time of the request (kit-sync.md §8),
	// which sorts last.
	without := func(body []byte) string {
		b, err := protocol.CanonicalJSON(body, protocol.SortAllLevels)
		if err != nil {
			t.Fatal(err)
		}
		rest, _, _ := strings.Cut(string(b), `,"timeStamp":`)
		return rest
	}
	if without(first.Body) != without(again.Body) {
		t.Errorf("the resend differs:\n%s\n%s", first.Body, again.Body)
	}
	stored, err := w.store.Client(w.ctx, tn.ID, w.app.ID)
	if err != nil || stored.ClientSecret != again.Secret {
		t.Errorf("store %q (%v), merchant %q", stored.ClientSecret, err, again.Secret)
	}

	// Repeating an action does not repeat its syncs.
	if again, err := w.console.Grant(w.ctx, "acme", w.app.ID, []string{"zhangsan01"}); err != nil || len(again) != 0 {
		t.Errorf("granting an authorised user again: %v, %d syncs; want none", err, len(again))
	}
	if _, _, err := w.console.Bind(w.ctx, Binding{Tenant: "acme", AppID: w.app.ID, InstanceID: "inst-2"}); simulator.ErrorCode(err) != simulator.ECONFLICT {
		t.Errorf("binding a bound app again: %v, want a conflict", err)
	}
}
