package steps

import (
	"context"
	"fmt"
	"slices"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/kit"
)

// joint is a scenario's joint operation (kit-sync.md, identity.md): the
// merchant's application registered with kgsim, the buyer's enterprise
// and its users, and kgsim's identity provider on loopback, which
// tenantSync names as the enterprise's identity domain.
type joint struct {
	idp      *idp
	app      simulator.App
	tenant   simulator.Tenant
	accounts []account // the enterprise's users the scenario added, oldest first
	initial  []string  // users to authorise as the application is bound
	dept     simulator.Department
	browser  *browser
	// resent are the kit syncs the last step sent again.
	resent []*call
	// refusal is the hint when the merchant accepts a tampered sync.
	refusal string
	login   loginState
	forged  string // a callback another user obtained
}

// account is a user of the enterprise, with the password it logs in with.
type account struct {
	simulator.User
	password string
}

// jointTagged reports whether a scenario is about joint operation.
func jointTagged(tags []string) bool {
	return slices.ContainsFunc(tags, func(tag string) bool {
		_, joint := Target{}.Joint(tag)
		return joint
	})
}

// errNotJoint is what a joint-operation step says in another scenario.
var errNotJoint = fmt.Errorf("this step needs the joint-operation setup: tag its scenario or feature with one of %v", JointTags())

func (w *world) jointOf() (*joint, error) {
	if w.joint == nil {
		return nil, errNotJoint
	}
	return w.joint, nil
}

// registersApp is the seller's application credential (应用凭证): the kit
// syncs go to the production interface, signed with the kit key, and the
// logins come back to the registered callback and CAS service.
func (w *world) registersApp(ctx context.Context) error {
	j, err := w.jointOf()
	if err != nil {
		return err
	}
	t := w.target
	app := simulator.App{ID: t.AppID, Name: "kgsim certification", ProductID: w.product.ID,
		PublicKeyPEM: t.PublicKeyPEM, KitURL: t.URL, KitKey: t.KitKey}
	if t.RedirectURI != "" {
		app.RedirectURIs = []string{t.RedirectURI}
	}
	if t.CASService != "" {
		app.CASServices = []string{t.CASService}
	}
	if j.app, err = w.market.Kit.AddApp(ctx, app); err != nil {
		return fmt.Errorf("kgsim refused the application's settings: %w", err)
	}
	return nil
}

// enterprise is the buyer's enterprise, created at its first use.
func (w *world) enterprise(ctx context.Context) (*joint, error) {
	j, err := w.jointOf()
	if err != nil || j.tenant.ID != "" {
		return j, err
	}
	if j.app.ID == "" {
		return nil, fmt.Errorf("the application is not registered: start with \"Given the merchant's application is registered for joint operation\"")
	}
	code := "kgsim-" + newID()[:10]
	j.tenant, err = w.market.Kit.AddTenant(ctx, simulator.Tenant{Code: code, Name: "kgsim 认证企业 " + code[6:]})
	return j, err
}

// changes runs a buyer-center action that sends kit syncs, and delivers
// them.
func (w *world) changes(ctx context.Context, what string, action func(j *joint) error) error {
	j, err := w.enterprise(ctx)
	if err != nil {
		return err
	}
	if err := action(j); err != nil {
		return fmt.Errorf("kgsim could not %s: %w", what, err)
	}
	return w.runDue(ctx)
}

// addsUser adds a user to the enterprise, authorised for the application
// or not.
func (w *world) addsUser(ctx context.Context, authorised bool) error {
	return w.changes(ctx, "add a user", func(j *joint) error {
		suffix := newID()[:8]
		u := simulator.User{UserName: "kgsim-" + suffix, Name: "测试用户 " + suffix, Role: kit.RoleUser,
			Email: "kgsim-" + suffix + "@example.com", Mobile: "13800000000"}
		// Before the binding, a user is authorised as the binding is made
		// (its "initially authorised users", kit-sync.md §7): authorised
		// now, the app would be bound at once as a credential test.
		var apps []string
		if authorised {
			switch _, err := w.market.Store.Client(ctx, j.tenant.ID, j.app.ID); {
			case err == nil:
				apps = []string{j.app.ID}
			case simulator.ErrorCode(err) == simulator.ENOTFOUND:
				j.initial = append(j.initial, u.UserName)
			default:
				return err
			}
		}
		password := newID()
		u, _, err := w.market.Kit.AddUser(ctx, j.tenant.ID, u, password, apps)
		if err == nil {
			j.accounts = append(j.accounts, account{u, password})
		}
		return err
	})
}

func (w *world) hasAuthorisedUser(ctx context.Context) error { return w.addsUser(ctx, true) }

// user is the last user the scenario added.
func (j *joint) user() (account, error) {
	if len(j.accounts) == 0 {
		return account{}, fmt.Errorf("the enterprise has no user yet: add one with \"Given the enterprise has a user authorised for the application\"")
	}
	return j.accounts[len(j.accounts)-1], nil
}

// binds binds the application to the enterprise for the last purchase; as
// a precondition ("has bound"), every sync must be acknowledged.
func (w *world) binds(ctx context.Context, how string) error {
	p, err := w.latest()
	if err != nil {
		return err
	}
	err = w.changes(ctx, "bind the application", func(j *joint) error {
		_, _, err := w.market.Kit.Bind(ctx, kit.Binding{Tenant: j.tenant.ID, AppID: j.app.ID, InstanceID: p.instanceID, OrderID: p.order.ID, UserNames: j.initial})
		j.initial = nil
		return err
	})
	if err != nil || how == "binds" {
		return err
	}
	if err := w.acknowledged(ctx, nil); err != nil {
		return fmt.Errorf("precondition failed, the binding's kit syncs: %w", err)
	}
	return nil
}

// credentialTest is the seller's "申请应用凭证"/"申请测试账号": a binding
// without a purchase, sent as test data (kit-sync.md §7).
func (w *world) credentialTest(ctx context.Context) error {
	return w.changes(ctx, "make a credential test", func(j *joint) error {
		_, _, err := w.market.Kit.Bind(ctx, kit.Binding{Tenant: j.tenant.ID, AppID: j.app.ID, Test: true, UserNames: j.initial})
		j.initial = nil
		return err
	})
}

// onUser runs an action on the last user the scenario added.
func (w *world) onUser(ctx context.Context, what string, action func(j *joint, u account) error) error {
	return w.changes(ctx, what, func(j *joint) error {
		u, err := j.user()
		if err != nil {
			return err
		}
		return action(j, u)
	})
}

func (w *world) authorisesNewUser(ctx context.Context) error { return w.addsUser(ctx, true) }

func (w *world) editsUser(ctx context.Context) error {
	return w.onUser(ctx, "edit the user", func(j *joint, u account) error {
		edited := u.User
		edited.Name += "（已修改）"
		edited.Position = "工程师"
		_, _, err := w.market.Kit.EditUser(ctx, j.tenant.ID, u.UserName, edited, "")
		return err
	})
}

func (w *world) revokesUser(ctx context.Context) error {
	return w.onUser(ctx, "revoke the user's authorisation", func(j *joint, u account) error {
		_, err := w.market.Kit.Revoke(ctx, j.tenant.ID, j.app.ID, []string{u.UserName})
		return err
	})
}

func (w *world) removesUser(ctx context.Context) error {
	return w.onUser(ctx, "remove the user", func(j *joint, u account) error {
		_, err := w.market.Kit.RemoveUser(ctx, j.tenant.ID, u.UserName)
		return err
	})
}

// department adds the scenario's department, renames it or deletes it.
func (w *world) department(ctx context.Context, action string) error {
	return w.changes(ctx, action+" a department", func(j *joint) error {
		var err error
		switch action {
		case "adds":
			j.dept = simulator.Department{OrgCode: "kgsim-" + newID()[:8], Name: "认证部门", ParentCode: j.tenant.Code}
			j.dept, _, _, err = w.market.Kit.PutDepartment(ctx, j.tenant.ID, j.dept)
		case "renames":
			j.dept.Name += "（改名）"
			j.dept, _, _, err = w.market.Kit.PutDepartment(ctx, j.tenant.ID, j.dept)
		default:
			_, err = w.market.Kit.DeleteDepartment(ctx, j.tenant.ID, j.dept.OrgCode)
		}
		return err
	})
}

func (w *world) renamesEnterprise(ctx context.Context) error {
	return w.changes(ctx, "rename the enterprise", func(j *joint) error {
		var err error
		j.tenant, _, err = w.market.Kit.RenameTenant(ctx, j.tenant.ID, j.tenant.Name+"（新名）", "")
		return err
	})
}

func (w *world) rotatesSecret(ctx context.Context) error {
	return w.changes(ctx, "rotate the client secret", func(j *joint) error {
		_, _, err := w.market.Kit.RotateSecret(ctx, j.tenant.ID, j.app.ID)
		return err
	})
}

func (w *world) unbinds(ctx context.Context) error {
	return w.changes(ctx, "unbind the application", func(j *joint) error {
		_, err := w.market.Kit.Unbind(ctx, j.tenant.ID, j.app.ID)
		return err
	})
}
