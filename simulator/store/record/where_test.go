package record

import (
	"slices"
	"testing"

	"github.com/kgsim/kgsim/simulator"
)

// A listing's filter reads the same in both dialects but for its LIMIT:
// empty fields match everything, a page starts after its cursor's
// record, and no limit is each dialect's own argument.
func TestWhere(t *testing.T) {
	sqlite := Dialect{Limit: "?+0", Unlimited: -1}
	postgres := Dialect{Limit: "?::bigint", Unlimited: nil}
	for _, c := range []struct {
		name   string
		d      Dialect
		filter func(w *Where) string
		limit  int
		sql    string
		args   []any
	}{
		{"nothing asked", sqlite, func(w *Where) string { return "seq" }, 0,
			" ORDER BY seq LIMIT ?+0", []any{-1}},
		{"empty fields match everything", postgres, func(w *Where) string {
			w.Eq("product_id", "")
			w.Eq("state", "open")
			return "seq"
		}, 5, " WHERE state = ? ORDER BY seq LIMIT ?::bigint", []any{"open", 5}},
		{"no limit on PostgreSQL", postgres, func(w *Where) string { return "seq" }, 0,
			" ORDER BY seq LIMIT ?::bigint", []any{nil}},
		{"after a record, one column", sqlite, func(w *Where) string {
			return w.Page("licenses", "code", []string{"seq"}, simulator.Page{After: "L1"})
		}, 2, " WHERE seq > (SELECT seq FROM licenses WHERE code = ?) ORDER BY seq LIMIT ?+0", []any{"L1", 2}},
		{"newest first after a record, two columns", postgres, func(w *Where) string {
			w.Eq("product_id", "P1")
			return w.Page("orders", "id", []string{"created_at", "seq"}, simulator.Page{After: "O9", Newest: true})
		}, 0, " WHERE product_id = ? AND (created_at, seq) < (SELECT created_at, seq FROM orders WHERE id = ?)" +
			" ORDER BY created_at DESC, seq DESC LIMIT ?::bigint", []any{"P1", "O9", nil}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var w Where
			order := c.filter(&w)
			sql, args, err := w.SQL(c.d, order, c.limit)
			if err != nil || sql != c.sql || !slices.Equal(args, c.args) {
				t.Errorf("got %q %v, %v; want %q %v", sql, args, err, c.sql, c.args)
			}
		})
	}
	var w Where
	if _, _, err := w.SQL(sqlite, "seq", -1); simulator.ErrorCode(err) != simulator.EINVALID {
		t.Errorf("a negative limit: %v, want EINVALID", err)
	}
}
