package kit

import (
	"context"
	"unicode/utf8"

	"github.com/kgsim/kgsim/simulator"
)

// maxOrgName is the longest department name singleOrgSync carries.
const maxOrgName = 128

// PutDepartment creates a tenant's department (singleOrgSync flag 1) or
// changes its name or parent (flag 2), sent to every app bound to the
// tenant. Putting a department as it is sends nothing. It reports whether
// the department is new.
func (c *Console) PutDepartment(ctx context.Context, ref string, d simulator.Department) (simulator.Department, bool, []simulator.Message, error) {
	created := false
	sent, err := c.update(ctx, func(t *txn) error {
		tn, err := tenant(ctx, t.tx, ref)
		if err != nil {
			return err
		}
		d.TenantID = tn.ID
		if err := t.checkDepartment(d); err != nil {
			return err
		}
		old, err := t.tx.Department(ctx, tn.ID, d.OrgCode)
		switch {
		case err == nil && old.Name == d.Name && old.ParentCode == d.ParentCode:
			d = old
			return nil
		case err == nil:
			d.CreatedAt = old.CreatedAt
		case simulator.ErrorCode(err) == simulator.ENOTFOUND:
			created, d.CreatedAt = true, t.now
		default:
			return err
		}
		if err := t.tx.PutDepartment(ctx, d); err != nil {
			return err
		}
		flag := flagModify
		if created {
			flag = flagAdd
		}
		return t.eachBinding(tn.ID, func(app simulator.App, b simulator.Client) error {
			return t.singleOrgSync(app, b, d, flag)
		})
	})
	return d, created, sent, err
}

// checkDepartment checks a department against the tenant's others: its
// parent exists and is not itself or below it, and no sibling has its
// name (kit-sync.md §4.4).
func (t *txn) checkDepartment(d simulator.Department) error {
	switch {
	case d.OrgCode == "":
		return simulator.Errorf(simulator.EINVALID, "orgCode", "is required")
	case utf8.RuneCountInString(d.OrgCode) > maxID:
		return simulator.Errorf(simulator.EINVALID, "orgCode", "is over %d characters", maxID)
	case d.Name == "":
		return simulator.Errorf(simulator.EINVALID, "orgName", "is required")
	case utf8.RuneCountInString(d.Name) > maxOrgName:
		return simulator.Errorf(simulator.EINVALID, "orgName", "is over %d characters", maxOrgName)
	}
	ds, err := t.tx.Departments(t.ctx, d.TenantID)
	if err != nil {
		return err
	}
	parent := map[string]string{}
	for _, o := range ds {
		parent[o.OrgCode] = o.ParentCode
		if o.OrgCode != d.OrgCode && o.ParentCode == d.ParentCode && o.Name == d.Name {
			return simulator.Errorf(simulator.ECONFLICT, "orgName", "%q is the name of department %s under the same parent; siblings have different names", d.Name, o.OrgCode)
		}
	}
	if d.ParentCode == "" {
		return nil
	}
	if _, ok := parent[d.ParentCode]; !ok {
		return simulator.Errorf(simulator.EINVALID, "parentCode", "tenant %s has no department %q", d.TenantID, d.ParentCode)
	}
	for code := d.ParentCode; code != ""; code = parent[code] {
		if code == d.OrgCode {
			return simulator.Errorf(simulator.EINVALID, "parentCode", "%q is %s itself or below it; a department cannot be its own ancestor", d.ParentCode, d.OrgCode)
		}
	}
	return nil
}

// DeleteDepartment deletes a department without sub-departments or users
// and sends singleOrgSync flag 0 to every app bound to the tenant.
func (c *Console) DeleteDepartment(ctx context.Context, ref, orgCode string) ([]simulator.Message, error) {
	return c.update(ctx, func(t *txn) error {
		tn, err := tenant(ctx, t.tx, ref)
		if err != nil {
			return err
		}
		d, err := t.tx.Department(ctx, tn.ID, orgCode)
		if err != nil {
			return err
		}
		ds, err := t.tx.Departments(ctx, tn.ID)
		if err != nil {
			return err
		}
		for _, o := range ds {
			if o.ParentCode == d.OrgCode {
				return simulator.Errorf(simulator.ECONFLICT, "orgCode", "department %s has sub-department %s; delete or move it first", d.OrgCode, o.OrgCode)
			}
		}
		users, err := t.tx.Users(ctx, simulator.UserFilter{TenantID: tn.ID, OrgCode: d.OrgCode, Limit: 1})
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return simulator.Errorf(simulator.ECONFLICT, "orgCode", "department %s has user %s; move or remove its users first", d.OrgCode, users[0].UserName)
		}
		if err := t.tx.DeleteDepartment(ctx, tn.ID, d.OrgCode); err != nil {
			return err
		}
		return t.eachBinding(tn.ID, func(app simulator.App, b simulator.Client) error {
			return t.singleOrgSync(app, b, d, flagDelete)
		})
	})
}
