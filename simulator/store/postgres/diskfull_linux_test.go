package postgres

import (
	"context"
	"errors"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/store/storetest"
)

// A database whose disk is really full: the store's tables are moved to a
// tablespace on a 16 MiB tmpfs, which a filler table then fills until the
// server refuses to extend it. A write then fails with EFULL saying the
// disk is full, stores nothing, and Health reports it; once space is freed
// the next write succeeds and Health is clear. Mounting needs root (as CI
// runs); elsewhere the test is skipped, saying why.
func TestDiskFull(t *testing.T) {
	ctx := t.Context()
	url := cluster.DB(t)
	dir := smallDisk(t, 16<<20)
	db := open(t, url) // migrated, every table empty
	name := url[strings.LastIndex(url, "/")+1 : strings.Index(url, "?")]
	space := name + "_small"
	for _, q := range []string{
		"CREATE TABLESPACE " + space + " LOCATION '" + dir + "'",
		"ALTER TABLE ALL IN TABLESPACE pg_default SET TABLESPACE " + space,
		"ALTER INDEX ALL IN TABLESPACE pg_default SET TABLESPACE " + space,
		"CREATE TABLE filler (b text) TABLESPACE " + space,
	} {
		if _, err := db.pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// Emptied and dropped before the mount goes: the server's shutdown
	// checkpoint would fail on files of a tablespace no longer there.
	t.Cleanup(func() {
		for _, q := range []string{
			"DROP TABLE IF EXISTS filler",
			"ALTER TABLE ALL IN TABLESPACE " + space + " SET TABLESPACE pg_default",
			"ALTER INDEX ALL IN TABLESPACE " + space + " SET TABLESPACE pg_default",
			"DROP TABLESPACE " + space,
		} {
			if _, err := db.pool.Exec(context.Background(), q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
	// Fill in large steps, then row by row, so that not even one block of
	// the filler can be added: the store's empty tables have no block to
	// put a row in and must add one too.
	fill := func(rows int) error {
		var err error
		for range 10000 {
			if _, err = db.pool.Exec(ctx, "INSERT INTO filler SELECT md5(i::text) || repeat('x', 1000) FROM generate_series(1, $1) i", rows); err != nil {
				break
			}
		}
		return err
	}
	for _, rows := range []int{1000, 1} {
		err := fill(rows)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != diskFull {
			t.Fatalf("filling the disk: err = %v, want SQLSTATE %s (disk_full)", err, diskFull)
		}
	}

	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	err := db.Enqueue(ctx, storetest.Pending("01A", "q", t0))
	if simulator.ErrorCode(err) != simulator.EFULL || !strings.Contains(err.Error(), "disk holding the database is full") {
		t.Fatalf("a write to a full disk: err = %v, want EFULL saying the disk is full", err)
	}
	if err := db.Health(ctx); simulator.ErrorCode(err) != simulator.EFULL {
		t.Errorf("Health = %v, want EFULL", err)
	}
	if _, err := db.Message(ctx, "01A"); simulator.ErrorCode(err) != simulator.ENOTFOUND {
		t.Errorf("the refused write: err = %v, want ENOTFOUND", err)
	}

	if _, err := db.pool.Exec(ctx, "DROP TABLE filler"); err != nil {
		t.Fatal(err)
	}
	if err := db.Enqueue(ctx, storetest.Pending("01A", "q", t0)); err != nil {
		t.Fatalf("a write once space is freed: %v", err)
	}
	if err := db.Health(ctx); err != nil {
		t.Errorf("Health once a write succeeded = %v, want nil", err)
	}
	if _, err := db.Message(ctx, "01A"); err != nil {
		t.Errorf("the write once space is freed: %v", err)
	}
}

// smallDisk mounts a tmpfs of size bytes for the server's user and returns
// its path; the test is skipped where it cannot mount one.
func smallDisk(t *testing.T, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small filesystem to fill needs root; skipped")
	}
	owner, err := user.Lookup("postgres") // who pgtest runs the server as under root
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(owner.Uid)
	gid, _ := strconv.Atoi(owner.Gid)
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
	opts := "size=" + strconv.Itoa(size) + ",mode=0700,uid=" + owner.Uid + ",gid=" + owner.Gid
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
		t.Skipf("mounting a %d-byte tmpfs at %s: %v; skipped", size, dir, err)
	}
	// Detached: the server may still hold files open in it; the space is
	// released when the last is closed.
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	return dir
}
