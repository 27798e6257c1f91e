package record

import (
	"context"

	"github.com/kgsim/kgsim/simulator"
)

const userColumns = `tenant_id, user_name, id, password_hash, name, email, mobile, role, org_code, position, employee_code,
	employee_type, work_place, entry_date, created_at, updated_at`

// selectUser is hot: userinfo reads the token's user on every call.
const selectUser = `SELECT ` + userColumns + ` FROM users WHERE tenant_id = ? AND user_name = ?`

func noUser(tenantID, userName string) error {
	return simulator.Errorf(simulator.ENOTFOUND, "userName", "no user %s in tenant %s", userName, tenantID)
}

// PutUser stores a user, replacing the one with its name in its tenant.
func (tb Tables) PutUser(ctx context.Context, u simulator.User) error {
	if err := required("a user", "tenantId", u.TenantID, "userName", u.UserName); err != nil {
		return err
	}
	_, err := tb.c.Exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (tenant_id, user_name) DO UPDATE SET id = excluded.id, password_hash = excluded.password_hash,
		name = excluded.name, email = excluded.email, mobile = excluded.mobile, role = excluded.role, org_code = excluded.org_code,
		position = excluded.position, employee_code = excluded.employee_code, employee_type = excluded.employee_type,
		work_place = excluded.work_place, entry_date = excluded.entry_date, created_at = excluded.created_at,
		updated_at = excluded.updated_at`,
		u.TenantID, u.UserName, u.ID, u.PasswordHash, u.Name, u.Email, u.Mobile, u.Role, u.OrgCode, u.Position, u.EmployeeCode,
		u.EmployeeType, u.WorkPlace, u.EntryDate, Nanos(u.CreatedAt), Nanos(u.UpdatedAt))
	return err
}

func scanUser(r Row) (simulator.User, error) {
	var u simulator.User
	var created, updated int64
	err := r.Scan(&u.TenantID, &u.UserName, &u.ID, &u.PasswordHash, &u.Name, &u.Email, &u.Mobile, &u.Role, &u.OrgCode, &u.Position,
		&u.EmployeeCode, &u.EmployeeType, &u.WorkPlace, &u.EntryDate, &created, &updated)
	u.CreatedAt, u.UpdatedAt = FromNanos(created), FromNanos(updated)
	return u, err
}

// User returns a tenant's user by name.
func (tb Tables) User(ctx context.Context, tenantID, userName string) (simulator.User, error) {
	return One(ctx, tb.c, scanUser, noUser(tenantID, userName), selectUser, tenantID, userName)
}

// Users lists users in the order they were first stored.
func (tb Tables) Users(ctx context.Context, f simulator.UserFilter) ([]simulator.User, error) {
	var w Where
	w.Eq("tenant_id", f.TenantID)
	w.Eq("user_name", f.UserName)
	w.Eq("org_code", f.OrgCode)
	clause, args, err := w.SQL(tb.d, "seq", f.Limit)
	if err != nil {
		return nil, err
	}
	return List(ctx, tb.c, scanUser, `SELECT `+userColumns+` FROM users`+clause, args...)
}

// DeleteUser removes a user from its tenant.
func (tb Tables) DeleteUser(ctx context.Context, tenantID, userName string) error {
	n, err := tb.c.Exec(ctx, `DELETE FROM users WHERE tenant_id = ? AND user_name = ?`, tenantID, userName)
	return exists(n, err, noUser(tenantID, userName))
}

const authorisationColumns = `tenant_id, app_id, user_name, enabled, updated_at`

// selectAuthorisation is hot: every login checks it.
const selectAuthorisation = `SELECT ` + authorisationColumns + ` FROM authorisations WHERE tenant_id = ? AND app_id = ? AND user_name = ?`

func noAuthorisation(tenantID, appID, userName string) error {
	return simulator.Errorf(simulator.ENOTFOUND, "userName", "user %s of tenant %s has no authorisation for app %s", userName, tenantID, appID)
}

// PutAuthorisation stores a user's authorisation for an app, replacing
// the one before.
func (tb Tables) PutAuthorisation(ctx context.Context, a simulator.Authorisation) error {
	if err := required("an authorisation", "tenantId", a.TenantID, "appId", a.AppID, "userName", a.UserName); err != nil {
		return err
	}
	_, err := tb.c.Exec(ctx, `INSERT INTO authorisations (`+authorisationColumns+`) VALUES (?,?,?,?,?)
		ON CONFLICT (tenant_id, app_id, user_name) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at`,
		a.TenantID, a.AppID, a.UserName, a.Enabled, Nanos(a.UpdatedAt))
	return err
}

func scanAuthorisation(r Row) (simulator.Authorisation, error) {
	var a simulator.Authorisation
	var updated int64
	err := r.Scan(&a.TenantID, &a.AppID, &a.UserName, &a.Enabled, &updated)
	a.UpdatedAt = FromNanos(updated)
	return a, err
}

// Authorisation returns a user's authorisation for an app.
func (tb Tables) Authorisation(ctx context.Context, tenantID, appID, userName string) (simulator.Authorisation, error) {
	return One(ctx, tb.c, scanAuthorisation, noAuthorisation(tenantID, appID, userName), selectAuthorisation, tenantID, appID, userName)
}

// Authorisations lists authorisations in the order they were first stored.
func (tb Tables) Authorisations(ctx context.Context, f simulator.AuthorisationFilter) ([]simulator.Authorisation, error) {
	var w Where
	w.Eq("tenant_id", f.TenantID)
	w.Eq("app_id", f.AppID)
	w.Eq("user_name", f.UserName)
	if f.EnabledOnly {
		w.Add("enabled = ?", true) // a boolean in both dialects' words
	}
	clause, args, err := w.SQL(tb.d, "seq", f.Limit)
	if err != nil {
		return nil, err
	}
	return List(ctx, tb.c, scanAuthorisation, `SELECT `+authorisationColumns+` FROM authorisations`+clause, args...)
}

// DeleteAuthorisation removes a user's authorisation for an app.
func (tb Tables) DeleteAuthorisation(ctx context.Context, tenantID, appID, userName string) error {
	n, err := tb.c.Exec(ctx, `DELETE FROM authorisations WHERE tenant_id = ? AND app_id = ? AND user_name = ?`, tenantID, appID, userName)
	return exists(n, err, noAuthorisation(tenantID, appID, userName))
}

const departmentColumns = `tenant_id, org_code, name, parent_code, created_at`

// selectDepartment is hot: userinfo names the user's department.
const selectDepartment = `SELECT ` + departmentColumns + ` FROM departments WHERE tenant_id = ? AND org_code = ?`

func noDepartment(tenantID, orgCode string) error {
	return simulator.Errorf(simulator.ENOTFOUND, "orgCode", "no department %s in tenant %s", orgCode, tenantID)
}

// PutDepartment stores a department, replacing the one with its code in
// its tenant.
func (tb Tables) PutDepartment(ctx context.Context, d simulator.Department) error {
	if err := required("a department", "tenantId", d.TenantID, "orgCode", d.OrgCode); err != nil {
		return err
	}
	_, err := tb.c.Exec(ctx, `INSERT INTO departments (`+departmentColumns+`) VALUES (?,?,?,?,?)
		ON CONFLICT (tenant_id, org_code) DO UPDATE SET name = excluded.name, parent_code = excluded.parent_code,
		created_at = excluded.created_at`,
		d.TenantID, d.OrgCode, d.Name, d.ParentCode, Nanos(d.CreatedAt))
	return err
}

func scanDepartment(r Row) (simulator.Department, error) {
	var d simulator.Department
	var created int64
	err := r.Scan(&d.TenantID, &d.OrgCode, &d.Name, &d.ParentCode, &created)
	d.CreatedAt = FromNanos(created)
	return d, err
}

// Department returns a tenant's department by its code.
func (tb Tables) Department(ctx context.Context, tenantID, orgCode string) (simulator.Department, error) {
	return One(ctx, tb.c, scanDepartment, noDepartment(tenantID, orgCode), selectDepartment, tenantID, orgCode)
}

// Departments lists a tenant's departments in the order first stored.
func (tb Tables) Departments(ctx context.Context, tenantID string) ([]simulator.Department, error) {
	return List(ctx, tb.c, scanDepartment, `SELECT `+departmentColumns+` FROM departments WHERE tenant_id = ? ORDER BY seq`, tenantID)
}

// DeleteDepartment removes a tenant's department.
func (tb Tables) DeleteDepartment(ctx context.Context, tenantID, orgCode string) error {
	n, err := tb.c.Exec(ctx, `DELETE FROM departments WHERE tenant_id = ? AND org_code = ?`, tenantID, orgCode)
	return exists(n, err, noDepartment(tenantID, orgCode))
}
