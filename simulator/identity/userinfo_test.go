package identity

import "testing"

// Userinfo sends every field of identity.md §3.3 in its order, an empty
// one as "" (never omitted or null), and userId equal to id.
func TestUserInfoDocument(t *testing.T) {
	got := string(UserInfo{ID: "u-0002", UserName: "lisi", Name: "李四", Role: "user", Tenant: acmeID}.JSON())
	want := `{"id":"u-0002","userName":"lisi","name":"李四","email":"","mobile":"","role":"user","organizationName":"","userId":"u-0002",` +
		`"organizationCode":"","projectName":"","tenant":"` + acmeID + `"}`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
