package identity

import (
	"net/http"
	"strings"

	"github.com/kgsim/kgsim/simulator"
)

// UserInfo is the userinfo answer (identity.md §3.3). Every field is a
// string and is sent even when empty.
type UserInfo struct {
	ID               string // stable user id; userId repeats it
	UserName         string
	Name             string
	Email            string
	Mobile           string
	Role             string // user or admin
	OrganizationName string // the user's department
	OrganizationCode string // authSync orgCode
	ProjectName      string // the tenant's name
	Tenant           string // tenantId
}

// JSON renders u with the fields in the order of identity.md §3.3.
func (u UserInfo) JSON() []byte {
	return compact(struct {
		ID               string `json:"id"`
		UserName         string `json:"userName"`
		Name             string `json:"name"`
		Email            string `json:"email"`
		Mobile           string `json:"mobile"`
		Role             string `json:"role"`
		OrganizationName string `json:"organizationName"`
		UserID           string `json:"userId"`
		OrganizationCode string `json:"organizationCode"`
		ProjectName      string `json:"projectName"`
		Tenant           string `json:"tenant"`
	}{u.ID, u.UserName, u.Name, u.Email, u.Mobile, u.Role, u.OrganizationName, u.ID, u.OrganizationCode, u.ProjectName, u.Tenant})
}

// userinfo is GET /api/v1/oauth2/userinfo with Authorization: Bearer.
func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	if s.faulty(w, r, EndpointUserinfo) {
		return
	}
	info, err := s.lookUpUser(r)
	if err != nil {
		s.oauthError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ContentTypeJSON)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(info.JSON())
}

// bearer is the access token of r's Authorization header, "" if it has
// none in the Bearer form.
func bearer(r *http.Request) string {
	scheme, access, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	access = strings.TrimSpace(access)
	if !strings.EqualFold(scheme, "Bearer") || strings.ContainsAny(access, " \t") || len(access) > maxCredential {
		return ""
	}
	return access
}

func (s *Server) lookUpUser(r *http.Request) (UserInfo, error) {
	access := bearer(r)
	if access == "" {
		return UserInfo{}, Unauthorized()
	}
	// The reads share a transaction with the token endpoint's writes, for
	// the one store connection (see grant): a client hanging up must not
	// fail the others' transaction, so they do not end with its request.
	ctx, now := detached(r), s.clock.Now()
	var info UserInfo
	err := s.inTenant(ctx, r, func(tx simulator.IdentityTx, tenant simulator.Tenant) (refused, err error) {
		t, err := tx.TokenByAccess(ctx, digest(access))
		switch {
		case notFound(err):
			return InvalidAccessToken(access), nil
		case err != nil:
			return nil, err
		case t.TenantID != tenant.ID || !t.RevokedAt.IsZero() || expired(t.AccessExpiresAt, now):
			return InvalidAccessToken(access), nil
		}
		u, ok, err := holder(ctx, tx, t)
		if err != nil || !ok { // removed or disabled since: its tokens are worth nothing
			return InvalidAccessToken(access), err
		}
		var orgName string
		if u.OrgCode != "" {
			d, err := tx.Department(ctx, u.TenantID, u.OrgCode)
			if err != nil && !notFound(err) {
				return nil, err
			}
			orgName = d.Name
		}
		info = UserInfo{ID: u.ID, UserName: u.UserName, Name: u.Name, Email: u.Email, Mobile: u.Mobile, Role: u.Role,
			OrganizationName: orgName, OrganizationCode: u.OrgCode, ProjectName: tenant.Name, Tenant: u.TenantID}
		return nil, nil
	})
	return info, err
}
