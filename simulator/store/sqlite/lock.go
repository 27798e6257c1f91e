//go:build unix

package sqlite

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// lockFile holds PATH-lock, next to the database, with an exclusive flock
// for as long as the store is open, so that a second process on the same
// file is refused at start instead of failing writes with "database is
// locked" and delivering callbacks twice. The kernel lets go of a flock
// when its holder dies, SIGKILL included: a lock file left behind never
// blocks the next start.
func lockFile(path string) (*os.File, error) {
	name := path + "-lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot open its lock file: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(name)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("the database %s is in use by another process (pid %s, %s): stop it, or give this one a database of its own (--db)",
				path, string(bytes.TrimSpace(holder)), name)
		}
		return nil, fmt.Errorf("%s: cannot lock %s: %w", path, name, err)
	}
	// Who holds it, for the refusal above; the lock, not this, is what
	// counts.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}
