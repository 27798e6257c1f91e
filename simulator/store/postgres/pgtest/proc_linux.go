package pgtest

import (
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
)

// command runs name as owner (nil: the test's own user), and ends it
// should the test binary die without stopping it.
func command(owner *user.User, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if owner != nil {
		uid, _ := strconv.ParseUint(owner.Uid, 10, 32)
		gid, _ := strconv.ParseUint(owner.Gid, 10, 32)
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		cmd.Env = append(cmd.Environ(), "HOME="+owner.HomeDir, "USER="+owner.Username)
	}
	cmd.Dir = "/"
	return cmd
}
