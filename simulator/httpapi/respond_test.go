package httpapi

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/schedule"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
)

// catalogueReads counts the listings of everything that holds a secret:
// what scrubbing an answer reads.
type catalogueReads struct {
	simulator.Store
	n atomic.Int64
}

func (c *catalogueReads) Products(ctx context.Context) ([]simulator.Product, error) {
	c.n.Add(1)
	return c.Store.Products(ctx)
}

func (c *catalogueReads) Apps(ctx context.Context, f simulator.AppFilter) ([]simulator.App, error) {
	c.n.Add(1)
	return c.Store.Apps(ctx, f)
}

func (c *catalogueReads) Clients(ctx context.Context, f simulator.ClientFilter) ([]simulator.Client, error) {
	c.n.Add(1)
	return c.Store.Clients(ctx, f)
}

func (c *catalogueReads) Sellers(ctx context.Context) ([]simulator.Seller, error) {
	c.n.Add(1)
	return c.Store.Sellers(ctx)
}

// TestAPurchaseAnswerReadsNoCatalogue: a purchase's answer holds nothing
// a merchant chose, so it is sent without reading every secret kgsim
// holds; an answer that may hold one (a message, with the merchant's
// answer in it) is still scrubbed.
func TestAPurchaseAnswerReadsNoCatalogue(t *testing.T) {
	var reads *catalogueReads
	w := newWorldOn(t, schedule.NewVirtual(t0), Access{}, func(db *sqlite.DB) simulator.Store {
		reads = &catalogueReads{Store: db}
		return reads
	})
	w.echo()
	w.catalogue()
	before := reads.n.Load()
	a := w.must(http.StatusCreated, "POST", "/admin/v1/orders", `{"productId":"p1","customerId":"c1","periodNumber":1}`)
	if n := reads.n.Load() - before; n != 0 {
		t.Errorf("a purchase's answer took %d catalogue listings, want none", n)
	}
	if a.get("order.orderId").String() == "" || a.get("instance.state").String() != string(simulator.Provisioning) {
		t.Errorf("the purchase's answer: %s", a.body)
	}
	w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"1m"}`)
	ms := w.must(http.StatusOK, "GET", "/admin/v1/messages", "")
	before = reads.n.Load()
	w.must(http.StatusOK, "GET", "/admin/v1/messages/"+ms.get("messages.0.messageId").String(), "")
	if reads.n.Load() == before {
		t.Error("a message's answer, holding what the merchant answered, was sent unscrubbed")
	}
}
