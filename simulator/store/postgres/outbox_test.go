package postgres

import (
	"testing"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/store/record"
	"github.com/kgsim/kgsim/simulator/store/storetest"
)

// A database an earlier kgsim left at schema version 3 migrates with each
// message's origin taken from its URL as simulator.Origin takes it: the
// outbox read leaves a merchant out by it.
func TestMigratesMessageOrigins(t *testing.T) {
	ctx := t.Context()
	url, pool := atVersion(t, 3)
	urls := []string{
		"http://hang.example:8080/produce", "https://ok.example?x=1", "https://ok.example#top", "https://ok.example",
		"http://a.example/p?q=http://b.example/", "opaque", "",
	}
	for i, u := range urls {
		_, err := pool.Exec(ctx, `INSERT INTO messages (`+record.MessageColumns+`, seq)
			VALUES ($1, 'LIFECYCLE', 'V2', 'newInstance', $1, 'P1', '', '', '', '', $2, '{}', 'PENDING', 0, 0, 0, 0, $3)`,
			string(rune('a'+i)), u, i+1)
		if err != nil {
			t.Fatal(err)
		}
	}
	open(t, url)
	rows, err := pool.Query(ctx, `SELECT url, origin FROM messages`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var u, origin string
		if err := rows.Scan(&u, &origin); err != nil {
			t.Fatal(err)
		}
		if want := simulator.Origin(u); origin != want {
			t.Errorf("%q: origin %q after migrating, want %q", u, origin, want)
		}
		n++
	}
	if err := rows.Err(); err != nil || n != len(urls) {
		t.Fatalf("%d messages after migrating, %v; want %d", n, err, len(urls))
	}
}

func BenchmarkDueSaturated(b *testing.B) {
	storetest.BenchmarkDueSaturated(b, openBench, func(b *testing.B, s simulator.Store) {
		if _, err := s.(*DB).pool.Exec(b.Context(), "ANALYZE messages"); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkDueFew(b *testing.B) { storetest.BenchmarkDueFew(b, openBench) }

func BenchmarkPurchaseWrites(b *testing.B) { storetest.BenchmarkPurchaseWrites(b, openBench) }

func BenchmarkPurchaseWritesParallel(b *testing.B) {
	storetest.BenchmarkPurchaseWritesParallel(b, openBench)
}

// openBench opens a new store in a database of its own.
func openBench(b *testing.B) simulator.Store {
	db, err := Open(b.Context(), cluster.DB(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}
