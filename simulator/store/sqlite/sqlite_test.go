package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/store/record"
	"github.com/kgsim/kgsim/simulator/store/storetest"
)

func open(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) simulator.Store {
		return open(t, filepath.Join(t.TempDir(), "kgsim.db"))
	})
}

// What was committed is there after the process reopens the file.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kgsim.db")
	db := open(t, path)
	m := storetest.Pending("01A", "q", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	if err := db.Enqueue(ctx, m); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open(t, path)
	defer db.Close()
	if _, err := db.Message(ctx, "01A"); err != nil {
		t.Fatalf("after reopening: %v", err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kgsim.db")
	db := open(t, path)
	if _, err := db.db.ExecContext(ctx, "PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := Open(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "schema version 999") {
		t.Fatalf("err = %v, want a refusal naming the version", err)
	}
}

// A database an earlier kgsim left at schema version 2 migrates keeping
// its messages and attempts, and its queues keep the order their messages
// were enqueued in (version 2 knew no seq; insertion order is that order).
func TestMigratesVersion2(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "kgsim.db")
	v2, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"migrations/0001_outbox.sql", "migrations/0002_due_index.sql"} {
		script, err := migrations.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v2.ExecContext(ctx, string(script)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	// As version 2 enqueued them: 02 before 01 in queue q.
	msgs := []simulator.Message{storetest.Pending("02", "q", t0), storetest.Pending("01", "q", t0), storetest.Pending("03", "r", t0.Add(time.Hour))}
	for _, m := range msgs {
		if _, err := v2.ExecContext(ctx, `INSERT INTO messages (`+record.MessageColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			m.ID, m.Kind, string(m.Protocol), m.Activity, m.Queue, m.ProductID, m.OrderID, m.OrderLineID, m.InstanceID, m.CustomerID,
			m.URL, m.Params, string(m.Outcome), m.Attempts, record.Nanos(m.FirstAttempt), record.Nanos(m.NextAttemptAt), record.Nanos(m.CreatedAt)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v2.ExecContext(ctx, `INSERT INTO attempts VALUES ('03', 1, 0, 0, '{"Method":"POST"}', x'', 0, '{}', x'', 'TIMEOUT')`); err != nil {
		t.Fatal(err)
	}
	if _, err := v2.ExecContext(ctx, "PRAGMA user_version = 2"); err != nil {
		t.Fatal(err)
	}
	v2.Close()

	db := open(t, path)
	defer db.Close()
	var version int
	latest, _ := fs.Glob(migrations, "migrations/*.sql")
	if err := db.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil || version != len(latest) || version < 3 {
		t.Fatalf("schema version %d, %v; want %d", version, err, len(latest))
	}
	for _, m := range msgs {
		if got, err := db.Message(ctx, m.ID); err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("message %s after migrating: %+v, %v", m.ID, got, err)
		}
	}
	if a, err := db.Attempts(ctx, "03"); err != nil || len(a) != 1 || a[0].Method != "POST" || a[0].Verdict != simulator.Timeout {
		t.Errorf("attempts of 03 after migrating: %+v, %v", a, err)
	}
	due := func(want ...string) {
		t.Helper()
		ms, err := db.Due(ctx, simulator.DueFilter{Now: t0.Add(time.Hour), Limit: 10})
		var got []string
		for _, m := range ms {
			got = append(got, m.ID)
		}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("due = %v, %v; want %v", got, err, want)
		}
	}
	done := func(id string) {
		t.Helper()
		m := storetest.Pending(id, "q", t0)
		m.Outcome, m.NextAttemptAt = simulator.Succeeded, time.Time{}
		if err := db.PutMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	due("02", "03")
	// A message enqueued now goes after those enqueued before the upgrade.
	if err := db.Enqueue(ctx, storetest.Pending("00", "q", t0)); err != nil {
		t.Fatal(err)
	}
	done("02")
	due("01", "03")
	done("01")
	due("00", "03")
}

// Lookups made inside delivery's transactions must search an index on
// every column they name, not read a product's instances or the whole
// outbox: a purchase's answer is checked against the product's other
// instances by instanceId, and a dial-test run is judged from its queue's
// messages on every probe's attempt.
func TestLookupsUseAnIndexOnEveryColumn(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "kgsim.db"))
	defer db.Close()
	for query, want := range map[string]string{
		`SELECT ` + record.InstanceColumns + ` FROM instances WHERE product_id = ? AND instance_id = ? ORDER BY created_at, seq`: "product_id=? AND instance_id=?",
		`SELECT ` + record.MessageColumns + ` FROM messages WHERE queue = ? ORDER BY seq`:                                        "USING INDEX messages_queue (queue=?)",
	} {
		rows, err := db.db.Query(`EXPLAIN QUERY PLAN `+query, "a", "b")
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if !slices.ContainsFunc(plan, func(d string) bool { return strings.Contains(d, want) }) {
			t.Errorf("query plan %q does not search %q", plan, want)
		}
	}
}

// Another program holding the write lock (the sqlite3 shell, a backup) is
// waited for up to the busy timeout: a transaction that reads and then
// writes does not fail at once with "database is locked" when the other
// commits meanwhile.
func TestBusyTimeoutHonoured(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kgsim.db")
	db := open(t, path)
	defer db.Close()
	if err := db.PutCustomer(ctx, simulator.Customer{ID: "C1", Name: "Buyer"}); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "UPDATE customers SET doc = json_set(doc, '$.customerName', 'Other') WHERE id = 'C1'"); err != nil {
		t.Fatal(err)
	}
	const held = 300 * time.Millisecond
	committed := make(chan error, 1)
	time.AfterFunc(held, func() {
		_, err := conn.ExecContext(ctx, "COMMIT")
		committed <- err
	})
	start := time.Now()
	err = db.Update(ctx, func(tx simulator.Tx) error {
		c, err := tx.Customer(ctx, "C1")
		if err != nil {
			return err
		}
		c.Name += " again"
		return tx.PutCustomer(ctx, c)
	})
	if err != nil {
		t.Fatalf("Update while another program held the write lock for %v: %v (after %v)", held, err, time.Since(start))
	}
	if err := <-committed; err != nil {
		t.Fatal(err)
	}
	if c, _ := db.Customer(ctx, "C1"); c.Name != "Other again" {
		t.Errorf("name %q, want %q: the update read after the other's commit", c.Name, "Other again")
	}
}
