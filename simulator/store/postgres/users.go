package postgres

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
func (s store) PutUser(ctx context.Context, u simulator.User) error {
	if err := required("a user", "tenantId", u.TenantID, "userName", u.UserName); err != nil {
		return err
	}
	_, err := s.exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (tenant_id, user_name) DO UPDATE SET id = excluded.id, password_hash = excluded.password_hash,
		name = excluded.name, email = excluded.email, mobile = excluded.mobile, role = excluded.role, org_code = excluded.org_code,
		position = excluded.position, employee_code = excluded.employee_code, employee_type = excluded.employee_type,
		work_place = excluded.work_place, entry_date = excluded.entry_date, created_at = excluded.created_at,
		updated_at = excluded.updated_at`,
		u.TenantID, u.UserName, u.ID, u.PasswordHash, u.Name, u.Email, u.Mobile, u.Role, u.OrgCode, u.Position, u.EmployeeCode,
		u.EmployeeType, u.WorkPlace, u.EntryDate, nanos(u.CreatedAt), nanos(u.UpdatedAt))
	return err
}

func scanUser(s scanner) (simulator.User, error) {
	var u simulator.User
	var created, updated int64
	err := s.Scan(&u.TenantID, &u.UserName, &u.ID, &u.PasswordHash, &u.Name, &u.Email, &u.Mobile, &u.Role, &u.OrgCode, &u.Position,
		&u.EmployeeCode, &u.EmployeeType, &u.WorkPlace, &u.EntryDate, &created, &updated)
	u.CreatedAt, u.UpdatedAt = fromNanos(created), fromNanos(updated)
	return u, err
}

// User returns a tenant's user by name.
func (s store) User(ctx context.Context, tenantID, userName string) (simulator.User, error) {
	return one(ctx, s, scanUser, noUser(tenantID, userName), selectUser, tenantID, userName)
}

// Users lists users in the order they were first stored.
func (s store) Users(ctx context.Context, f simulator.UserFilter) ([]simulator.User, error) {
	var w where
	w.eq("tenant_id", f.TenantID)
	w.eq("user_name", f.UserName)
	w.eq("org_code", f.OrgCode)
	clause, args, err := w.sql("seq", f.Limit)
	if err != nil {
		return nil, err
	}
	return list(ctx, s, scanUser, `SELECT `+userColumns+` FROM users`+clause, args...)
}

// DeleteUser removes a user from its tenant.
func (s store) DeleteUser(ctx context.Context, tenantID, userName string) error {
	res, err := s.exec(ctx, `DELETE FROM users WHERE tenant_id = ? AND user_name = ?`, tenantID, userName)
	if err != nil {
		return err
	}
	return exists(res, noUser(tenantID, userName))
}

const authorisationColumns = `tenant_id, app_id, user_name, enabled, updated_at`

// selectAuthorisation is hot: every login checks it.
const selectAuthorisation = `SELECT ` + authorisationColumns + ` FROM authorisations WHERE tenant_id = ? AND app_id = ? AND user_name = ?`

func noAuthorisation(tenantID, appID, userName string) error {
	return simulator.Errorf(simulator.ENOTFOUND, "userName", "user %s of tenant %s has no authorisation for app %s", userName, tenantID, appID)
}

// PutAuthorisation stores a user's authorisation for an app, replacing
// the one before.
func (s store) PutAuthorisation(ctx context.Context, a simulator.Authorisation) error {
	if err := required("an authorisation", "tenantId", a.TenantID, "appId", a.AppID, "userName", a.UserName); err != nil {
		return err
	}
	_, err := s.exec(ctx, `INSERT INTO authorisations (`+authorisationColumns+`) VALUES (?,?,?,?,?)
		ON CONFLICT (tenant_id, app_id, user_name) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at`,
		a.TenantID, a.AppID, a.UserName, a.Enabled, nanos(a.UpdatedAt))
	return err
}

func scanAuthorisation(s scanner) (simulator.Authorisation, error) {
	var a simulator.Authorisation
	var updated int64
	err := s.Scan(&a.TenantID, &a.AppID, &a.UserName, &a.Enabled, &updated)
	a.UpdatedAt = fromNanos(updated)
	return a, err
}

// Authorisation returns a user's authorisation for an app.
func (s store) Authorisation(ctx context.Context, tenantID, appID, userName string) (simulator.Authorisation, error) {
	return one(ctx, s, scanAuthorisation, noAuthorisation(tenantID, appID, userName), selectAuthorisation, tenantID, appID, userName)
}

// Authorisations lists authorisations in the order they were first stored.
func (s store) Authorisations(ctx context.Context, f simulator.AuthorisationFilter) ([]simulator.Authorisation, error) {
	var w where
	w.eq("tenant_id", f.TenantID)
	w.eq("app_id", f.AppID)
	w.eq("user_name", f.UserName)
	if f.EnabledOnly {
		w.add("enabled")
	}
	clause, args, err := w.sql("seq", f.Limit)
	if err != nil {
		return nil, err
	}
	return list(ctx, s, scanAuthorisation, `SELECT `+authorisationColumns+` FROM authorisations`+clause, args...)
}

// DeleteAuthorisation removes a user's authorisation for an app.
func (s store) DeleteAuthorisation(ctx context.Context, tenantID, appID, userName string) error {
	res, err := s.exec(ctx, `DELETE FROM authorisations WHERE tenant_id = ? AND app_id = ? AND user_name = ?`, tenantID, appID, userName)
	if err != nil {
		return err
	}
	return exists(res, noAuthorisation(tenantID, appID, userName))
}

const departmentColumns = `tenant_id, org_code, name, parent_code, created_at`

// selectDepartment is hot: userinfo names the user's department.
const selectDepartment = `SELECT ` + departmentColumns + ` FROM departments WHERE tenant_id = ? AND org_code = ?`

func noDepartment(tenantID, orgCode string) error {
	return simulator.Errorf(simulator.ENOTFOUND, "orgCode", "no department %s in tenant %s", orgCode, tenantID)
}

// PutDepartment stores a department, replacing the one with its code in
// its tenant.
func (s store) PutDepartment(ctx context.Context, d simulator.Department) error {
	if err := required("a department", "tenantId", d.TenantID, "orgCode", d.OrgCode); err != nil {
		return err
	}
	_, err := s.exec(ctx, `INSERT INTO departments (`+departmentColumns+`) VALUES (?,?,?,?,?)
		ON CONFLICT (tenant_id, org_code) DO UPDATE SET name = excluded.name, parent_code = excluded.parent_code,
		created_at = excluded.created_at`,
		d.TenantID, d.OrgCode, d.Name, d.ParentCode, nanos(d.CreatedAt))
	return err
}

func scanDepartment(s scanner) (simulator.Department, error) {
	var d simulator.Department
	var created int64
	err := s.Scan(&d.TenantID, &d.OrgCode, &d.Name, &d.ParentCode, &created)
	d.CreatedAt = fromNanos(created)
	return d, err
}

// Department returns a tenant's department by its code.
func (s store) Department(ctx context.Context, tenantID, orgCode string) (simulator.Department, error) {
	return one(ctx, s, scanDepartment, noDepartment(tenantID, orgCode), selectDepartment, tenantID, orgCode)
}

// Departments lists a tenant's departments in the order first stored.
func (s store) Departments(ctx context.Context, tenantID string) ([]simulator.Department, error) {
	return list(ctx, s, scanDepartment, `SELECT `+departmentColumns+` FROM departments WHERE tenant_id = ? ORDER BY seq`, tenantID)
}

// DeleteDepartment removes a tenant's department.
func (s store) DeleteDepartment(ctx context.Context, tenantID, orgCode string) error {
	res, err := s.exec(ctx, `DELETE FROM departments WHERE tenant_id = ? AND org_code = ?`, tenantID, orgCode)
	if err != nil {
		return err
	}
	return exists(res, noDepartment(tenantID, orgCode))
}
