package sqlite

import (
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// A database an earlier kgsim left at schema version 3 (the marketplace
// without identity) migrates keeping its catalogue, orders and outbox, and
// then stores identity records.
func TestMigratesVersion3(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "kgsim.db")
	v3 := atVersion(t, path, 3)
	// Rows as version 3 wrote them, in its own SQL.
	for _, stmt := range []string{
		`INSERT INTO products (id, doc) VALUES ('P1', '{"ID":"P1","Name":"网盘","AccessKey":"k","NoticeTo":null,"Cases":null}')`,
		`INSERT INTO orders (id, line_id, kind, instance_key, product_id, sku_code, customer_id, state, trial, period_type, period_number,
			amount, linear_amount, disk_size, bandwidth, expire_time, created_at, settled_at)
			VALUES ('CS1', 'CS1-000001', 'NEW', 'CS1-000001', 'P1', 'SKU1', 'C1', 'COMPLETED', 0, 'month', 1, '10', 0, 0, 0, 0, 1, 2)`,
		`INSERT INTO messages (id, kind, protocol, activity, queue, product_id, order_id, order_line_id, instance_id, customer_id, url, params,
			outcome, attempts, first_attempt, next_attempt_at, created_at, seq)
			VALUES ('01', 'LIFECYCLE', 'V2', 'newInstance', 'CS1', 'P1', 'CS1', 'CS1-000001', '', 'C1', 'http://127.0.0.1:1/produce', x'7b7d',
			'PENDING', 0, 0, 5, 1, 1)`,
		`PRAGMA user_version = 3`,
	} {
		if _, err := v3.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	v3.Close()

	db := open(t, path)
	defer db.Close()
	var version int
	latest, _ := fs.Glob(migrations, "migrations/*.sql")
	if err := db.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil || version != len(latest) {
		t.Fatalf("schema version %d, %v; want %d", version, err, len(latest))
	}
	if p, err := db.Product(ctx, "P1"); err != nil || p.Name != "网盘" || p.AccessKey != "k" {
		t.Errorf("product P1 after migrating: %+v, %v", p, err)
	}
	if o, err := db.Order(ctx, "CS1"); err != nil || o.State != simulator.OrderCompleted || o.PeriodType != "month" {
		t.Errorf("order CS1 after migrating: %+v, %v", o, err)
	}
	if ms, err := db.Due(ctx, simulator.DueFilter{Now: time.Unix(0, 5), Limit: 10}); err != nil || len(ms) != 1 || ms[0].ID != "01" {
		t.Errorf("due after migrating: %+v, %v; want message 01", ms, err)
	}
	tenant := simulator.Tenant{ID: "T1", Code: "acme", Name: "Acme"}
	if err := db.PutTenant(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	if got, err := db.TenantByCode(ctx, "acme"); err != nil || !reflect.DeepEqual(got, tenant) {
		t.Errorf("a tenant stored after migrating: %+v, %v", got, err)
	}
}

// atVersion returns a new database at path with the first n migrations
// applied, as the kgsim that knew only those left it, user_version unset.
func atVersion(t *testing.T, path string, n int) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil || len(names) < n {
		t.Fatalf("%d migrations (%v), want at least %d", len(names), err, n)
	}
	for _, name := range names[:n] {
		script, err := migrations.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(t.Context(), string(script)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return db
}

// What a token exchange costs the store: the token endpoint's reads and
// writes in one transaction, as the identity server makes them.
func BenchmarkTokenExchange(b *testing.B) {
	ctx := b.Context()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "kgsim.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := db.PutTenant(ctx, simulator.Tenant{ID: "T1", Code: "acme"}); err != nil {
		b.Fatal(err)
	}
	if err := db.PutClient(ctx, simulator.Client{TenantID: "T1", AppID: "A1", ClientID: "cid", ClientSecret: "secret"}); err != nil {
		b.Fatal(err)
	}
	for i := range b.N {
		code := simulator.AuthCode{Code: fmt.Sprintf("code-%d", i), ClientID: "cid", TenantID: "T1", AppID: "A1", UserName: "u", ExpiresAt: t0.Add(time.Hour)}
		if err := db.AddCode(ctx, code); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		err := db.Update(ctx, func(tx simulator.Tx) error {
			tenant, err := tx.TenantByCode(ctx, "acme")
			if err != nil {
				return err
			}
			if _, err := tx.ClientByID(ctx, tenant.ID, "cid"); err != nil {
				return err
			}
			c, err := tx.ConsumeCode(ctx, fmt.Sprintf("code-%d", i), t0)
			if err != nil {
				return err
			}
			tok := simulator.Token{Access: fmt.Sprintf("at-%d", i), Refresh: fmt.Sprintf("rt-%d", i), ClientID: c.ClientID, TenantID: c.TenantID,
				Code: c.Code, IssuedAt: t0, AccessExpiresAt: t0.Add(2 * time.Hour), RefreshExpiresAt: t0.Add(720 * time.Hour)}
			return tx.AddToken(ctx, tok)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "exchanges/s")
}
