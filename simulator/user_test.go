package simulator

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"testing/iotest"
)

func TestPasswordHash(t *testing.T) {
	hash, err := HashPassword("s3cret-密码", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(hash, "s3cret") || !strings.HasPrefix(hash, "pbkdf2-sha256$") {
		t.Errorf("hash %q: want the pbkdf2-sha256 form, without the password", hash)
	}
	u := User{PasswordHash: hash}
	for pw, want := range map[string]bool{"s3cret-密码": true, "s3cret-": false, "S3cret-密码": false, "": false} {
		if got := u.PasswordMatches(pw); got != want {
			t.Errorf("PasswordMatches(%q) = %v, want %v", pw, got, want)
		}
	}
	again, err := HashPassword("s3cret-密码", rand.Reader)
	if err != nil || again == hash {
		t.Errorf("the same password hashed twice gave %q and %q (%v); want different salts", hash, again, err)
	}
}

// RFC 7914 §11: PBKDF2-HMAC-SHA256, P="passwd", S="salt", c=1, dkLen=64.
// A hash in the stored form with these parameters matches "passwd", so
// the stored form means what it says.
func TestPasswordHashVector(t *testing.T) {
	key, _ := hex.DecodeString("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc" +
		"49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
	b64 := base64.RawStdEncoding
	u := User{PasswordHash: "pbkdf2-sha256$1$" + b64.EncodeToString([]byte("salt")) + "$" + b64.EncodeToString(key)}
	if !u.PasswordMatches("passwd") {
		t.Error("the RFC 7914 vector does not match")
	}
	if u.PasswordMatches("passwe") {
		t.Error("the RFC 7914 vector matches another password")
	}
}

func TestPasswordHashMalformed(t *testing.T) {
	good, err := HashPassword("pw", bytes.NewReader(make([]byte, 16)))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	for _, hash := range []string{
		"", "pw", "pbkdf2-sha256$", parts[0] + "$" + parts[1] + "$" + parts[2],
		"bcrypt$" + strings.Join(parts[1:], "$"),
		parts[0] + "$0$" + parts[2] + "$" + parts[3],
		parts[0] + "$-5$" + parts[2] + "$" + parts[3],
		parts[0] + "$99999999999$" + parts[2] + "$" + parts[3],
		parts[0] + "$" + parts[1] + "$!!$" + parts[3],
		parts[0] + "$" + parts[1] + "$" + parts[2] + "$",
	} {
		if (User{PasswordHash: hash}).PasswordMatches("pw") {
			t.Errorf("hash %q matches", hash)
		}
	}
	if !(User{PasswordHash: good}).PasswordMatches("pw") {
		t.Error("the well-formed hash does not match")
	}
	if _, err := HashPassword("pw", iotest.ErrReader(iotest.ErrTimeout)); err == nil {
		t.Error("HashPassword without randomness succeeded")
	}
}
