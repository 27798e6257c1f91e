package simulator

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// User is one of a tenant's people: the authSync User (kit-sync.md §4.3)
// and the userinfo and CAS attributes (identity.md §3.3, §4.2). UserName
// is unique within the tenant.
type User struct {
	TenantID string `json:"tenantId"`
	UserName string `json:"userName"`
	ID       string `json:"id"` // stable; userinfo's id and userId
	// PasswordHash is HashPassword's result, never the password; never
	// shown.
	PasswordHash string `json:"-"`
	Name         string `json:"name"`
	Email        string `json:"email,omitempty"`
	Mobile       string `json:"mobile,omitempty"`
	Role         string `json:"role"`    // user or admin
	OrgCode      string `json:"orgCode"` // the user's department
	// Optional authSync fields, sent only when set.
	Position     string    `json:"position,omitempty"`
	EmployeeCode string    `json:"employeeCode,omitempty"`
	EmployeeType int       `json:"employeeType,omitempty"` // 1 regular, 2 intern, 3 dispatched, 4 outsourced
	WorkPlace    string    `json:"workPlace,omitempty"`
	EntryDate    string    `json:"entryDate,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// Authorisation is whether a user may log in to an app: the enterprise
// admin's grant, sent to the merchant in authSync. A revoked grant stays
// with Enabled false (authSync flag 3).
type Authorisation struct {
	TenantID  string    `json:"tenantId"`
	AppID     string    `json:"appId"`
	UserName  string    `json:"userName"`
	Enabled   bool      `json:"enable"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Department is one of a tenant's departments (kit-sync.md §4.4, §4.5).
// OrgCode is unique within the tenant.
type Department struct {
	TenantID   string    `json:"tenantId"`
	OrgCode    string    `json:"orgCode"`
	Name       string    `json:"orgName"`
	ParentCode string    `json:"parentCode,omitempty"` // empty for a top-level department
	CreatedAt  time.Time `json:"createdAt"`
}

// Passwords are stored as PBKDF2-HMAC-SHA-256 with a 16-byte random salt:
// the standard library has it, and test users' passwords are as likely to
// be reused elsewhere as anyone's. The iteration count is in the hash, so
// it can change without breaking stored ones.
const (
	passwordScheme     = "pbkdf2-sha256"
	passwordIterations = 20000
)

// HashPassword returns the stored form of password:
// pbkdf2-sha256$<iterations>$<salt>$<key>, salt and key in unpadded
// base64.
func HashPassword(password string, random io.Reader) (string, error) {
	salt := make([]byte, 16)
	if _, err := io.ReadFull(random, salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key, err := pbkdf2.Key(sha256.New, password, salt, passwordIterations, sha256.Size)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("%s$%d$%s$%s", passwordScheme, passwordIterations, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// PasswordMatches reports whether password is the user's, comparing in
// constant time. A user without a password, or with a hash in another
// form, matches none.
func (u User) PasswordMatches(password string) bool {
	parts := strings.Split(u.PasswordHash, "$")
	if len(parts) != 4 || parts[0] != passwordScheme {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 || iter > 10_000_000 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[2])
	want, err2 := b64.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iter, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}
