package kit

import (
	"testing"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/merchanttest"
	"github.com/tidwall/gjson"
)

// after runs one action on a bound, delivered tenant and returns the calls
// the merchant got for it, each accepted.
func (w *world) after(action func() ([]simulator.Message, error)) []merchanttest.Call {
	w.t.Helper()
	before := len(w.merchant.Calls())
	sent, err := action()
	if err != nil {
		w.t.Fatal(err)
	}
	if n := w.deliver(); n != len(sent) {
		w.t.Fatalf("%d attempts for %d syncs", n, len(sent))
	}
	calls := w.merchant.Calls()[before:]
	for _, c := range calls {
		if c.Code != merchanttest.CodeSuccess {
			w.t.Errorf("%s answered %s: %v", c.Activity, c.Code, c.Err)
		}
	}
	return calls
}

// expectCall checks that calls is one call named name whose members at
// the gjson paths have the raw JSON values given.
func expectCall(t *testing.T, what string, calls []merchanttest.Call, name string, members ...string) {
	t.Helper()
	if len(calls) != 1 || calls[0].Activity != name {
		t.Errorf("%s: calls %v, want one %s", what, callNames(calls), name)
		return
	}
	for i := 0; i+1 < len(members); i += 2 {
		if got := gjson.GetBytes(calls[0].Body, members[i]).Raw; got != members[i+1] {
			t.Errorf("%s: %s.%s = %s, want %s", what, name, members[i], got, members[i+1])
		}
	}
}

func TestEachLaterChangeSendsItsCall(t *testing.T) {
	w := newWorld(t)
	tn := w.acme()
	old, _ := w.bind("acme", "zhangsan01")
	w.deliver()
	app := w.app.ID
	one := func(ms []simulator.Message, err error) func() ([]simulator.Message, error) {
		return func() ([]simulator.Message, error) { return ms, err }
	}

	// kit-sync.md §7's table, row by row.
	calls := w.after(func() ([]simulator.Message, error) { return w.console.Grant(w.ctx, "acme", app, []string{"lisi02"}) })
	expectCall(t, "grant", calls, "authSync", "flag", "1", "userList.#", "1", "userList.0.userName", `"lisi02"`,
		"userList.0.enable", `"true"`, "userList.0.role", `"user"`, "userList.0.orgCode", `"acme"`)

	calls = w.after(func() ([]simulator.Message, error) {
		_, sent, err := w.console.EditUser(w.ctx, "acme", "lisi02", simulator.User{Name: "李四", Email: "lisi@example.com", OrgCode: "dev"}, "")
		return sent, err
	})
	expectCall(t, "edit", calls, "authSync", "flag", "2", "userList.0.email", `"lisi@example.com"`, "userList.0.orgCode", `"dev"`, "userList.0.enable", `"true"`)

	calls = w.after(func() ([]simulator.Message, error) {
		return w.console.Revoke(w.ctx, "acme", app, []string{"zhangsan01"})
	})
	expectCall(t, "revoke", calls, "authSync", "flag", "3", "userList.0.userName", `"zhangsan01"`, "userList.0.enable", `"false"`)
	if calls := w.after(func() ([]simulator.Message, error) {
		return w.console.Revoke(w.ctx, "acme", app, []string{"zhangsan01"})
	}); len(calls) != 0 {
		t.Errorf("revoking twice sent %v", callNames(calls))
	}

	calls = w.after(func() ([]simulator.Message, error) { return w.console.RemoveUser(w.ctx, "acme", "lisi02") })
	expectCall(t, "remove", calls, "authSync", "flag", "0", "userList.0.userName", `"lisi02"`, "userList.0.enable", `"false"`)
	if _, err := w.store.User(w.ctx, tn.ID, "lisi02"); simulator.ErrorCode(err) != simulator.ENOTFOUND {
		t.Errorf("removed user: %v", err)
	}

	calls = w.after(func() ([]simulator.Message, error) {
		_, created, sent, err := w.console.PutDepartment(w.ctx, "acme", simulator.Department{OrgCode: "qa", Name: "测试部", ParentCode: "dev"})
		if !created {
			t.Error("a new department is not reported created")
		}
		return sent, err
	})
	expectCall(t, "new department", calls, "singleOrgSync", "flag", "1", "orgCode", `"qa"`, "orgName", `"测试部"`, "parentCode", `"dev"`)
	calls = w.after(func() ([]simulator.Message, error) {
		_, _, sent, err := w.console.PutDepartment(w.ctx, "acme", simulator.Department{OrgCode: "qa", Name: "测试部", ParentCode: "dev"})
		return sent, err
	})
	if len(calls) != 0 {
		t.Errorf("putting a department unchanged sent %v", callNames(calls))
	}
	calls = w.after(func() ([]simulator.Message, error) {
		_, _, sent, err := w.console.PutDepartment(w.ctx, "acme", simulator.Department{OrgCode: "qa", Name: "质量部"})
		return sent, err
	})
	expectCall(t, "moved department", calls, "singleOrgSync", "flag", "2", "orgName", `"质量部"`, "parentCode", `""`)
	calls = w.after(func() ([]simulator.Message, error) { return w.console.DeleteDepartment(w.ctx, "acme", "qa") })
	expectCall(t, "deleted department", calls, "singleOrgSync", "flag", "0", "orgCode", `"qa"`)

	calls = w.after(func() ([]simulator.Message, error) {
		_, sent, err := w.console.RenameTenant(w.ctx, "acme", "Acme Group", "")
		return sent, err
	})
	expectCall(t, "rename", calls, "tenantSync", "flag", "2", "name", `"Acme Group"`, "tenantCode", `"acme"`)

	var rotated simulator.Client
	calls = w.after(func() ([]simulator.Message, error) {
		var sent []simulator.Message
		var err error
		rotated, sent, err = w.console.RotateSecret(w.ctx, "acme", app)
		return sent, err
	})
	expectCall(t, "rotate", calls, "applicationSync", "flag", "2", "clientId", `"`+old.ClientID+`"`)
	stored, err := w.store.Client(w.ctx, tn.ID, app)
	if err != nil || len(calls) != 1 || calls[0].Secret != stored.ClientSecret || stored.ClientSecret == old.ClientSecret || rotated.ClientSecret != stored.ClientSecret {
		t.Errorf("rotation: the merchant decrypted a secret other than the new one the store holds (%v)", err)
	}

	calls = w.after(one(w.console.Unbind(w.ctx, "acme", app)))
	equal(t, "unbind", callNames(calls), []string{"applicationSync", "tenantSync"})
	for _, c := range calls {
		if f := gjson.GetBytes(c.Body, "flag").Raw; f != "0" {
			t.Errorf("unbind %s flag %s, want 0", c.Activity, f)
		}
	}
	if _, err := w.store.Client(w.ctx, tn.ID, app); simulator.ErrorCode(err) != simulator.ENOTFOUND {
		t.Errorf("the unbound client: %v, want it gone", err)
	}
}

func TestChangesThatWouldBreakTheTenantAreRefused(t *testing.T) {
	w := newWorld(t)
	w.acme()
	for _, c := range []struct {
		name string
		err  error
		code string
	}{
		{"department with users", second(w.console.DeleteDepartment(w.ctx, "acme", "dev")), simulator.ECONFLICT},
		{"department with a sub-department", second(w.console.DeleteDepartment(w.ctx, "acme", "acme")), simulator.ECONFLICT},
		{"department its own ancestor", fourth(w.console.PutDepartment(w.ctx, "acme", simulator.Department{OrgCode: "acme", Name: "x", ParentCode: "dev"})), simulator.EINVALID},
		{"sibling of the same name", fourth(w.console.PutDepartment(w.ctx, "acme", simulator.Department{OrgCode: "dev2", Name: "研发部", ParentCode: "acme"})), simulator.ECONFLICT},
		{"unknown parent", fourth(w.console.PutDepartment(w.ctx, "acme", simulator.Department{OrgCode: "ops", Name: "运维", ParentCode: "nope"})), simulator.EINVALID},
		{"user twice", third(w.console.AddUser(w.ctx, "acme", simulator.User{UserName: "lisi02"}, "pw", nil)), simulator.ECONFLICT},
		{"unknown app for a user", third(w.console.AddUser(w.ctx, "acme", simulator.User{UserName: "wangwu"}, "pw", []string{"nope"})), simulator.EINVALID},
		{"unbind an unbound app", second(w.console.Unbind(w.ctx, "acme", w.app.ID)), simulator.ENOTFOUND},
		{"grant to an unknown user", second(w.console.Grant(w.ctx, "acme", w.app.ID, []string{"nobody"})), simulator.ENOTFOUND},
	} {
		if got := simulator.ErrorCode(c.err); got != c.code {
			t.Errorf("%s: %v (%s), want %s", c.name, c.err, got, c.code)
		}
	}
	if len(w.merchant.Calls()) != 0 || w.deliver() != 0 {
		t.Error("a refused change sent something")
	}
}

func second[A any](_ A, err error) error                 { return err }
func third[A, B any](_ A, _ B, err error) error          { return err }
func fourth[A, B, C any](_ A, _ B, _ C, err error) error { return err }
