package engine

import (
	"fmt"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/notice"
)

// productNotice raises the notice of a product the engine delisted.
func (t *txn) productNotice(p simulator.Product, reason string) error {
	id, err := simulator.NewID("n", t.now, t.e.random())
	if err != nil {
		return err
	}
	return t.tx.AddNotice(t.ctx, notice.ForProduct(p, p.Status, reason, id, t.now))
}

// rejectionNotice raises the final notice of a purchase failed because
// its acknowledgement was unusable: the call record of m (its attempts so
// far and a), headed by the reason.
func (t *txn) rejectionNotice(o simulator.Order, m simulator.Message, a simulator.Attempt, reason string) error {
	p, err := t.tx.Product(t.ctx, o.ProductID)
	if err != nil {
		return err
	}
	attempts, err := t.tx.Attempts(t.ctx, m.ID)
	if err != nil {
		return err
	}
	if len(attempts) == 0 || attempts[len(attempts)-1].N != a.N {
		attempts = append(attempts, a) // settled before it is recorded
	}
	id, err := simulator.NewID("n", t.now, t.e.random())
	if err != nil {
		return err
	}
	m.Outcome = simulator.OrderFailed
	n := notice.ForAttempt(simulator.NoticeFinal, p, notice.Call{Message: m, Attempts: attempts}, id, t.now)
	n.Subject = fmt.Sprintf("[KooGallery simulator] %s answered an unusable instanceId: order %s failed", m.Activity, o.ID)
	n.Body = "Order " + o.ID + " failed and was unsubscribed: " + reason + ".\n\n" + n.Body
	return t.tx.AddNotice(t.ctx, n)
}
