package delivery

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/merchanttest"
)

// orderSettler completes the order of a delivered purchase in the
// attempt's transaction, as the engine does, and fails while broken.
type orderSettler struct {
	broken bool
	seen   []simulator.Outcome
}

func (s *orderSettler) Settle(ctx context.Context, tx simulator.Tx, m simulator.Message, a simulator.Attempt) error {
	s.seen = append(s.seen, m.Outcome)
	if s.broken {
		return errors.New("the order book is closed")
	}
	o, err := tx.Order(ctx, m.OrderID)
	if err != nil {
		return err
	}
	// What the transaction already holds: the attempt just recorded.
	attempts, err := tx.Attempts(ctx, m.ID)
	if err != nil || len(attempts) != a.N {
		return errors.New("the attempt is not recorded before the settlers run")
	}
	if !a.Verdict.Failed() {
		o.State = simulator.OrderCompleted
	}
	return tx.PutOrder(ctx, o)
}

// orders are the orders the settler keeps, in the deliverer's store:
// not delivery's part of it.
func orders(d *Deliverer) simulator.OrdersTx { return d.Store.(simulator.OrdersTx) }

func putOrder(t *testing.T, d *Deliverer, id string) {
	t.Helper()
	o := simulator.Order{ID: id, LineID: id + "-000001", Kind: simulator.NewPurchase, InstanceKey: id + "-000001",
		ProductID: "P1", SKUCode: "S1", CustomerID: "C1", State: simulator.OrderProcessing, CreatedAt: t0}
	if err := orders(d).PutOrder(context.Background(), o); err != nil {
		t.Fatal(err)
	}
}

func TestSettlersCommitWithTheAttempt(t *testing.T) {
	ctx := context.Background()
	d, clock, m, url := setup(t)
	s := &orderSettler{}
	d.Settlers = []simulator.Settler{s}
	putOrder(t, d, "CS1")
	if err := d.Store.Enqueue(ctx, newInstanceMessage("01", "CS1", url, t0)); err != nil {
		t.Fatal(err)
	}
	advance(t, d, clock, t0) // fails: the order stays processing
	m.Down(false)
	advance(t, d, clock, t0.Add(time.Hour))
	if want := []simulator.Outcome{simulator.Pending, simulator.Succeeded}; !slices.Equal(s.seen, want) {
		t.Errorf("the settler saw outcomes %v, want %v", s.seen, want)
	}
	if o, _ := orders(d).Order(ctx, "CS1"); o.State != simulator.OrderCompleted {
		t.Errorf("order %s, want COMPLETED", o.State)
	}
}

// A settler that fails rolls the attempt back: the message is still due,
// the error reaches the caller, and the next run sends it again.
func TestSettlerErrorRollsTheAttemptBack(t *testing.T) {
	ctx := context.Background()
	d, clock, m, url := setup(t)
	m.Down(false)
	s := &orderSettler{broken: true}
	d.Settlers = []simulator.Settler{s}
	putOrder(t, d, "CS1")
	if err := d.Store.Enqueue(ctx, newInstanceMessage("01", "CS1", url, t0)); err != nil {
		t.Fatal(err)
	}
	n, err := d.RunDue(ctx)
	if n != 0 || err == nil || !strings.Contains(err.Error(), "the order book is closed") || !strings.Contains(err.Error(), "01") {
		t.Fatalf("RunDue = %d, %v; want 0 and the settler's error naming the message", n, err)
	}
	if got := outcome(t, d, "01"); got.Outcome != simulator.Pending || got.Attempts != 0 || !got.NextAttemptAt.Equal(t0) {
		t.Fatalf("after the rollback: %s, %d attempts, next %v; want PENDING, 0, due now", got.Outcome, got.Attempts, got.NextAttemptAt)
	}
	if as, _ := d.Store.Attempts(ctx, "01"); len(as) != 0 {
		t.Fatalf("%d attempts stored, want none", len(as))
	}
	s.broken = false
	if n := advance(t, d, clock, t0); n != 1 {
		t.Fatalf("%d attempts after the fix, want 1", n)
	}
	if got := outcome(t, d, "01"); got.Outcome != simulator.Succeeded || got.Attempts != 1 {
		t.Errorf("after the fix: %s after %d attempts, want SUCCEEDED after 1", got.Outcome, got.Attempts)
	}
	if len(m.Calls()) != 2 {
		t.Errorf("the merchant got %d requests, want 2 (the rolled-back one is sent again)", len(m.Calls()))
	}
}

// A product edited in the store applies from the next run on: a
// product that requires a V2 Body-Sign fails an answer without one.
func TestProductEditsApplyFromTheNextRun(t *testing.T) {
	ctx := context.Background()
	d, clock, m, url := setup(t)
	m.Answer("", merchanttest.Reply{Unsigned: true})
	p, err := d.Store.Product(ctx, "P1")
	if err != nil {
		t.Fatal(err)
	}
	p.RequireBodySign = true
	if err := d.Store.PutProduct(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := d.Store.Enqueue(ctx, newInstanceMessage("01", "CS1", url, t0), newInstanceMessage("02", "CS2", url, t0.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	advance(t, d, clock, t0)
	p.RequireBodySign = false
	if err := d.Store.PutProduct(ctx, p); err != nil {
		t.Fatal(err)
	}
	advance(t, d, clock, t0.Add(time.Minute))
	for id, want := range map[string]simulator.Verdict{"01": simulator.BodySignMissing, "02": simulator.Success} {
		if as, _ := d.Store.Attempts(ctx, id); len(as) != 1 || as[0].Verdict != want {
			t.Errorf("message %s: attempts %v, want one %s", id, verdicts(as), want)
		}
	}
}

func TestMessageOfAnUnknownProduct(t *testing.T) {
	ctx := context.Background()
	d, _, _, url := setup(t)
	msg := newInstanceMessage("01", "CS1", url, t0)
	msg.ProductID = "P404"
	if err := d.Store.Enqueue(ctx, msg); err != nil {
		t.Fatal(err)
	}
	_, err := d.RunDue(ctx)
	if simulator.ErrorCode(err) != simulator.ENOTFOUND || !strings.Contains(err.Error(), "P404") {
		t.Errorf("RunDue = %v; want not found, naming the product", err)
	}
}

func verdicts(as []simulator.Attempt) []simulator.Verdict {
	var out []simulator.Verdict
	for _, a := range as {
		out = append(out, a.Verdict)
	}
	return out
}
