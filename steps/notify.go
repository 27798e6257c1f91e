package steps

import (
	"context"
	"fmt"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/tidwall/gjson"
)

// The generic order notification (callbacks.md §5.15): a product on it
// is sent orderNotify after payment instead of newInstance, signed with
// the key the seller center binds to the generic interface, and the
// merchant answers with a result code only, reading the order through
// the order query.

// notification returns the scenario's last orderNotify.
func (w *world) notification(ctx context.Context) (simulator.Message, error) {
	ms, err := w.messages(ctx)
	if err != nil {
		return simulator.Message{}, err
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Activity == string(activity.OrderNotify) {
			return ms[i], nil
		}
	}
	return simulator.Message{}, fmt.Errorf("the marketplace sent no orderNotify in this scenario: is the product on the generic order notification (interfaceType generic)?")
}

// notificationSucceeds checks the last purchase's orderNotify was
// acknowledged and completed its order.
func (w *world) notificationSucceeds(ctx context.Context) error {
	m, err := w.notification(ctx)
	if err != nil {
		return err
	}
	c, err := w.lastAttempt(ctx, m)
	if err != nil {
		return err
	}
	w.last = c
	if c == nil {
		return w.fail(nil, "callbacks.md §9.2", "", "the orderNotify of order %s was never attempted", m.OrderID)
	}
	if m.Outcome != simulator.Succeeded && m.Outcome != simulator.SucceededAfterRestart {
		return w.fail(c, "callbacks.md §5.15", w.notificationHint(c), "the merchant did not acknowledge the orderNotify of order %s: %s", m.OrderID, c.attempt.Verdict)
	}
	o, err := w.store.Order(ctx, m.OrderID)
	if err != nil {
		return err
	}
	if o.State != simulator.OrderCompleted {
		return fmt.Errorf("order %s is %s after its orderNotify was acknowledged, want COMPLETED", o.ID, o.State)
	}
	return nil
}

// notificationHint is the likely fix for an orderNotify not acknowledged:
// a refusal as unauthenticated, or a Body-Sign that does not match, most
// likely comes from the basic interfaces' key used in place of the generic
// interface's.
func (w *world) notificationHint(c *call) string {
	code := gjson.GetBytes(c.attempt.ResponseBody, "resultCode").String()
	if c.attempt.Verdict == simulator.BodySignMismatch || c.attempt.Verdict == simulator.ResultCode && code == codeAuthFailed {
		return "rule: orderNotify is signed with the key bound to the generic interface (通用接口), a key of its own (§5.15): verify it, and sign the answer's Body-Sign, with that key, not the basic interfaces' access key"
	}
	return w.hintFor(c)
}

// notifiesAgain sends the last orderNotify again, as a retry or a
// marketplace node that lost the answer does.
func (w *world) notifiesAgain(ctx context.Context) error {
	return w.notifyAgain(ctx, false)
}

// notifiesAgainWithBasicKey sends the last orderNotify again signed with
// the basic interfaces' access key instead of the generic interface's.
func (w *world) notifiesAgainWithBasicKey(ctx context.Context) error {
	return w.notifyAgain(ctx, true)
}

func (w *world) notifyAgain(ctx context.Context, basicKey bool) error {
	m, err := w.notification(ctx)
	if err != nil {
		return err
	}
	_, err = w.send(ctx, craft{activity: m.Activity, params: members(m.Params), basicKey: basicKey})
	return err
}
