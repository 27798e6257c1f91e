//go:build !linux

package pgtest

import (
	"os/exec"
	"os/user"
)

// command runs name as the test's own user: switching to another needs
// Linux's credentials here.
func command(_ *user.User, name string, args ...string) *exec.Cmd {
	return exec.Command(name, args...)
}
