package httpapi

import (
	"context"

	"github.com/kgsim/kgsim/simulator"
)

// A listing of a history that grows without bound (messages, notices,
// orders, instances, usage records, License codes) is read a page at a
// time: each answer holds "next" while more records match, and the same
// request with cursor=<next> reads on from there; order=newest lists newest
// first. A cursor is the last record's ID as it stands in the answer: pages
// neither repeat nor skip a record while new ones come in.

// page reads the cursor and order parameters. A cursor must name a record
// that lookup finds: one that names none is refused rather than answered
// with an empty page, which would read as the end of the listing.
func (q *query) page(ctx context.Context, lookup func(ctx context.Context, id string) error) simulator.Page {
	p := simulator.Page{After: q.str("cursor")}
	switch order := q.str("order"); order {
	case "", "oldest":
	case "newest":
		p.Newest = true
	default:
		q.fail("order", "%q is not oldest or newest", order)
	}
	if p.After != "" && q.err == nil {
		if err := lookup(ctx, p.After); simulator.ErrorCode(err) == simulator.ENOTFOUND {
			q.fail("cursor", "%q names no record here; pass back the \"next\" of a previous answer, or leave cursor out to start at the first page", p.After)
		} else if err != nil {
			q.err = err
		}
	}
	return p
}

// exists makes a page's lookup of a store read.
func exists[T any](read func(ctx context.Context, id string) (T, error)) func(ctx context.Context, id string) error {
	return func(ctx context.Context, id string) error {
		_, err := read(ctx, id)
		return err
	}
}

// paged cuts a listing read with a limit one above limit back to limit
// records, and returns the cursor of the next page: the last record's ID,
// or "" when there is no more.
func paged[T any](items []T, limit int, id func(T) string) ([]T, string) {
	if len(items) <= limit {
		return nonNil(items), ""
	}
	items = items[:limit]
	return items, id(items[limit-1])
}

// listing is a page of a listing's answer: its records under name, and
// "next" when there are more.
func listing[T any](name string, items []T, next string) map[string]any {
	out := map[string]any{name: items}
	if next != "" {
		out["next"] = next
	}
	return out
}
