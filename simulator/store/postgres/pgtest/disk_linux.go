package pgtest

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// diskFull is the SQLSTATE PostgreSQL reports when a write finds no space
// left on the device (disk_full).
const diskFull = "53100"

// FullDisk moves every table and index of the database at url to a
// tablespace on a 16 MiB tmpfs and fills that until the server cannot
// extend a file, failing the test unless it then reports disk_full. A
// table of the database still empty has no block to put a row in, so its
// first write needs space and is refused. free gives the space back.
// Mounting needs root (as CI runs); elsewhere the test is skipped, saying
// why.
func (c *Cluster) FullDisk(t testing.TB, url string) (free func()) {
	t.Helper()
	ctx := context.Background()
	dir := c.smallDisk(t, 16<<20)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	space := "small_" + strconv.FormatInt(c.dbs.Add(1), 10)
	exec := func(qs ...string) error {
		for _, q := range qs {
			if _, err := conn.Exec(ctx, q); err != nil {
				return errors.New(q + ": " + err.Error())
			}
		}
		return nil
	}
	if err := exec("CREATE TABLESPACE " + space + " LOCATION '" + dir + "'"); err != nil {
		t.Fatal(err)
	}
	// Emptied and dropped before the mount goes (cleanups run last first):
	// the server's shutdown checkpoint would fail on files of a tablespace
	// no longer there.
	t.Cleanup(func() {
		if err := exec("DROP TABLE IF EXISTS filler",
			"ALTER TABLE ALL IN TABLESPACE "+space+" SET TABLESPACE pg_default",
			"ALTER INDEX ALL IN TABLESPACE "+space+" SET TABLESPACE pg_default",
			"DROP TABLESPACE "+space); err != nil {
			t.Error(err)
		}
	})
	if err := exec("ALTER TABLE ALL IN TABLESPACE pg_default SET TABLESPACE "+space,
		"ALTER INDEX ALL IN TABLESPACE pg_default SET TABLESPACE "+space,
		"CREATE TABLE filler (b text) TABLESPACE "+space); err != nil {
		t.Fatal(err)
	}
	// In large steps, then row by row, so that not one block more fits.
	for _, rows := range []int{1000, 1} {
		for range 10000 {
			if _, err = conn.Exec(ctx, "INSERT INTO filler SELECT md5(i::text) || repeat('x', 1000) FROM generate_series(1, $1) i", rows); err != nil {
				break
			}
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != diskFull {
			t.Fatalf("filling the disk: err = %v, want SQLSTATE %s (disk_full)", err, diskFull)
		}
	}
	return func() {
		t.Helper()
		if err := exec("DROP TABLE filler"); err != nil {
			t.Fatal(err)
		}
	}
}

// smallDisk mounts a tmpfs of size bytes for the server's user and returns
// its path.
func (c *Cluster) smallDisk(t testing.TB, size int) string {
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
