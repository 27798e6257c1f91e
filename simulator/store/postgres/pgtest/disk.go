package pgtest

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// diskFull is the SQLSTATE PostgreSQL reports when a write finds no space
// left on the device (disk_full).
const diskFull = "53100"

// Disk is a database's tables on a small filesystem of their own, which a
// test fills and frees.
type Disk struct {
	t    testing.TB
	conn *pgx.Conn
	name string // the tablespace's
}

// SmallDisk moves every table and index of the database at url to a
// tablespace on a 16 MiB tmpfs. Mounting needs root (as CI runs) and
// Linux; elsewhere the test is skipped, saying why.
func (c *Cluster) SmallDisk(t testing.TB, url string) *Disk {
	t.Helper()
	ctx := context.Background()
	dir := c.mount(t, 16<<20)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	d := &Disk{t: t, conn: conn, name: "small_" + strconv.FormatInt(c.dbs.Add(1), 10)}
	if err := d.exec("CREATE TABLESPACE " + d.name + " LOCATION '" + dir + "'"); err != nil {
		t.Fatal(err)
	}
	// Emptied and dropped before the mount goes (cleanups run last first):
	// the server's shutdown checkpoint would fail on files of a tablespace
	// no longer there.
	t.Cleanup(func() {
		if err := d.exec("DROP TABLE IF EXISTS filler",
			"ALTER TABLE ALL IN TABLESPACE "+d.name+" SET TABLESPACE pg_default",
			"ALTER INDEX ALL IN TABLESPACE "+d.name+" SET TABLESPACE pg_default",
			"DROP TABLESPACE "+d.name); err != nil {
			t.Error(err)
		}
	})
	if err := d.exec("ALTER TABLE ALL IN TABLESPACE pg_default SET TABLESPACE "+d.name,
		"ALTER INDEX ALL IN TABLESPACE pg_default SET TABLESPACE "+d.name); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *Disk) exec(qs ...string) error {
	for _, q := range qs {
		if _, err := d.conn.Exec(context.Background(), q); err != nil {
			return errors.New(q + ": " + err.Error())
		}
	}
	return nil
}

// Fill fills the disk with a table of its own until the server cannot
// extend a file, failing the test unless it then reports disk_full. A
// table of the database still empty has no block to put a row in, so its
// first write needs space and is refused.
func (d *Disk) Fill() {
	d.t.Helper()
	if err := d.exec("CREATE TABLE filler (b text) TABLESPACE " + d.name); err != nil {
		d.t.Fatal(err)
	}
	// In large steps, then row by row, so that not one block more fits.
	var err error
	for _, rows := range []int{1000, 1} {
		for range 10000 {
			if _, err = d.conn.Exec(context.Background(), "INSERT INTO filler SELECT md5(i::text) || repeat('x', 1000) FROM generate_series(1, $1) i", rows); err != nil {
				break
			}
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != diskFull {
			d.t.Fatalf("filling the disk: err = %v, want SQLSTATE %s (disk_full)", err, diskFull)
		}
	}
}

// Free gives back the space Fill took.
func (d *Disk) Free() {
	d.t.Helper()
	if err := d.exec("DROP TABLE filler"); err != nil {
		d.t.Fatal(err)
	}
}
