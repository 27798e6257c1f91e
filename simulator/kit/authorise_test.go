package kit

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/kgsim/kgsim/simulator"
)

// A user authorised for an app the tenant has no binding of: the app is
// bound as a credential test, so its client pair logs the user in at once,
// and the answer shows the whole chain.
func TestAuthorisingAUserForAnUnboundAppBindsItAsACredentialTest(t *testing.T) {
	for _, how := range []string{"added with the app", "granted the app"} {
		t.Run(how, func(t *testing.T) {
			w := newWorld(t)
			tn := w.tenant("acme", "Acme 有限公司")
			var sent []simulator.Message
			var err error
			if how == "added with the app" {
				_, sent, err = w.console.AddUser(w.ctx, "acme", simulator.User{UserName: "zhangsan"}, "pw-zhangsan", []string{w.app.ID})
			} else {
				w.user("acme", simulator.User{UserName: "zhangsan"})
				sent, err = w.console.Grant(w.ctx, "acme", w.app.ID, []string{"zhangsan"})
			}
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "enqueued", activities(sent), []string{"tenantSync", "applicationSync", "allOrgSync", "authSync"})
			b, err := w.store.Client(w.ctx, tn.ID, w.app.ID)
			if err != nil {
				t.Fatalf("no binding after the authorisation: %v", err)
			}
			if !b.Test || b.InstanceID != "" || b.OrderID != "" {
				t.Errorf("binding %+v: want a credential test (testFlag 1, no instance, no order)", b)
			}
			if n := w.deliver(); n != 4 {
				t.Fatalf("%d attempts, want 4", n)
			}
			calls := w.merchant.Calls()
			for _, c := range calls {
				if c.Err != nil || gjson.GetBytes(c.Body, "testFlag").Int() != 1 || gjson.GetBytes(c.Body, "instanceId").String() != "" {
					t.Errorf("%s: %v %s", c.Activity, c.Err, c.Body)
				}
			}
			if got := gjson.GetBytes(calls[3].Body, "userList.#.userName").String(); got != `["zhangsan"]` {
				t.Errorf("authSync users %s, want zhangsan", got)
			}
			if calls[1].Secret != b.ClientSecret {
				t.Error("applicationSync did not carry the binding's secret")
			}

			// A second user is sent on its own: the binding exists now.
			_, more, err := w.console.AddUser(w.ctx, "acme", simulator.User{UserName: "lisi"}, "pw-lisi", []string{w.app.ID})
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "second user", activities(more), []string{"authSync"})

			// Binding it for a purchase now is a conflict that names the way out.
			_, _, err = w.console.Bind(w.ctx, Binding{Tenant: "acme", AppID: w.app.ID, InstanceID: "inst-1", OrderID: "CS1"})
			if simulator.ErrorCode(err) != simulator.ECONFLICT || !strings.Contains(err.Error(), "credential test") || !strings.Contains(err.Error(), "DELETE /admin/v1/tenants/") {
				t.Errorf("bind over the credential test: %v", err)
			}
		})
	}
}

// The app's fixed pair is the binding's: the pair the merchant registered
// logs the user in without any sync reaching it first.
func TestAnAppWithAFixedPairIsBoundWithIt(t *testing.T) {
	w := newWorld(t)
	app, err := w.console.AddApp(w.ctx, simulator.App{ID: "APP-2", ClientID: "acme-client", ClientSecret: "acme-secret-0123456789",
		RedirectURIs: []string{"https://app.example/callback"}})
	if err != nil {
		t.Fatal(err)
	}
	tn := w.tenant("acme", "Acme")
	_, sent, err := w.console.AddUser(w.ctx, "acme", simulator.User{UserName: "zhangsan"}, "pw", []string{"acme-client"})
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) != 0 {
		t.Errorf("a login-only app got syncs %v", activities(sent))
	}
	b, err := w.store.ClientByID(w.ctx, tn.ID, "acme-client")
	if err != nil || b.AppID != app.ID || b.ClientSecret != "acme-secret-0123456789" {
		t.Errorf("binding %+v, %v: want the app's fixed pair", b, err)
	}
}

// Revoking for an unbound app binds nothing and sends nothing; users named
// at binding are its initially authorised users.
func TestRevokingBindsNothingAndUsersNamedAtBindingAreAuthorised(t *testing.T) {
	w := newWorld(t)
	tn := w.tenant("acme", "Acme")
	w.user("acme", simulator.User{UserName: "zhangsan"})
	sent, err := w.console.Revoke(w.ctx, "acme", w.app.ID, []string{"zhangsan"})
	if err != nil || len(sent) != 0 {
		t.Fatalf("revoke: %v %v", err, activities(sent))
	}
	if _, err := w.store.Client(w.ctx, tn.ID, w.app.ID); simulator.ErrorCode(err) != simulator.ENOTFOUND {
		t.Fatalf("a revocation bound the app: %v", err)
	}
	if _, _, err := w.console.Bind(w.ctx, Binding{Tenant: "acme", AppID: w.app.ID, UserNames: []string{"zhangsan", "nobody"}}); simulator.ErrorCode(err) != simulator.ENOTFOUND ||
		!strings.Contains(err.Error(), "userNames[1]") {
		t.Errorf("bind naming an unknown user: %v", err)
	}
	_, sent, err = w.console.Bind(w.ctx, Binding{Tenant: "acme", AppID: w.app.ID, InstanceID: "inst-1", OrderID: "CS1", UserNames: []string{"zhangsan"}})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "enqueued", activities(sent), []string{"tenantSync", "applicationSync", "allOrgSync", "authSync"})
	w.deliver()
	if got := gjson.GetBytes(w.merchant.Named("authSync")[0].Body, "userList.0.userName").String(); got != "zhangsan" {
		t.Errorf("authSync carried %q", got)
	}
}
