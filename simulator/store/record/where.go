package record

import (
	"strings"

	"github.com/kgsim/kgsim/simulator"
)

// Where builds a listing's conditions from a filter, whose zero fields
// match everything.
type Where struct {
	terms []string
	args  []any
}

// Eq adds column = value unless value is empty.
func (w *Where) Eq(column, value string) {
	if value != "" {
		w.Add(column+" = ?", value)
	}
}

// Add adds a condition and its arguments.
func (w *Where) Add(term string, args ...any) {
	w.terms = append(w.terms, term)
	w.args = append(w.args, args...)
}

// Page narrows a listing of table, ordered by cols (the last of them
// unique), to the records after p.After, named by its key column, and
// returns its ORDER BY, descending when p.Newest. The records' order is
// their place in the listing: a cursor is the last record's values,
// looked up by key, so that a page starts where the last one ended even
// while new records come in.
func (w *Where) Page(table, key string, cols []string, p simulator.Page) string {
	tuple, order, op := strings.Join(cols, ", "), strings.Join(cols, ", "), ">"
	if p.Newest {
		order, op = strings.Join(cols, " DESC, ")+" DESC", "<"
	}
	if p.After != "" {
		if len(cols) > 1 {
			tuple = "(" + tuple + ")"
		}
		w.Add(tuple+" "+op+" (SELECT "+strings.Join(cols, ", ")+" FROM "+table+" WHERE "+key+" = ?)", p.After)
	}
	return order
}

// SQL returns the WHERE clause, ORDER BY order and the LIMIT in d's
// words, with their arguments. A limit of 0 means none.
func (w *Where) SQL(d Dialect, order string, limit int) (string, []any, error) {
	if limit < 0 {
		return "", nil, simulator.Errorf(simulator.EINVALID, "limit", "%d: must be 0 (no limit) or more", limit)
	}
	var lim any = limit
	if limit == 0 {
		lim = d.Unlimited
	}
	clause := ""
	if len(w.terms) > 0 {
		clause = " WHERE " + strings.Join(w.terms, " AND ")
	}
	return clause + " ORDER BY " + order + " LIMIT " + d.Limit, append(w.args, lim), nil
}

// Positive checks the limit of a listing of what is due, which returns
// at most limit records, so that 0 would return none.
func Positive(limit int) error {
	if limit < 1 {
		return simulator.Errorf(simulator.EINVALID, "limit", "%d: must be at least 1", limit)
	}
	return nil
}
