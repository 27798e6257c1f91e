package pgtest

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// mount mounts a tmpfs of size bytes for the server's user and returns
// its path.
func (c *Cluster) mount(t testing.TB, size int) string {
	t.Helper()
	if os.Geteuid() != 0 || c.owner == nil {
		t.Skip("mounting a small filesystem to fill needs root; skipped")
	}
	parent, err := os.MkdirTemp("", "kgsim-full-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	if err := os.Chmod(parent, 0o755); err != nil { // the server reaches the mount through it
		t.Fatal(err)
	}
	dir := parent + "/disk"
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	opts := strings.Join([]string{"size=" + strconv.Itoa(size), "mode=0700", "uid=" + c.owner.Uid, "gid=" + c.owner.Gid}, ",")
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
		t.Skipf("mounting a %d-byte tmpfs at %s: %v; skipped", size, dir, err)
	}
	// Detached: a server process may still hold a file of it open; the
	// memory goes when the last is closed.
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}
