package steps

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/kgsim/kgsim/simulator/delivery"
	"github.com/tidwall/gjson"
)

// overlappingPurchase delivers a purchase the merchant has not seen twice
// at once, each delivery with a businessId of its own as the
// marketplace's attempts have: the second arrives while the merchant is
// still processing the first, as when a retry, the seller's 重新启动, the
// V1 newInstance repeated from the resource details or a marketplace node
// repeating an attempt whose answer it lost meets the first delivery
// (callbacks.md §2.4, §10).
func (w *world) overlappingPurchase(ctx context.Context) error {
	m, err := w.purchaseTemplate(ctx)
	if err != nil {
		return err
	}
	ms := forNewOrder(members(m.Params), w.clock.Now())
	if err := w.recordCrafted(ctx, ms); err != nil {
		return err
	}
	crs := [2]craft{{activity: m.Activity, params: ms}, {activity: m.Activity, params: with(ms, "businessId", newID())}}
	var reqs [2]*delivery.Request
	for i, cr := range crs {
		if reqs[i], err = w.request(cr); err != nil {
			return err
		}
	}
	var started [2]time.Time
	var answers [2]delivery.Answer
	var wg sync.WaitGroup
	for i := range reqs {
		wg.Go(func() {
			started[i] = time.Now()
			answers[i] = w.sender.Send(ctx, reqs[i])
		})
	}
	wg.Wait()
	for i := range reqs {
		w.recordAnswer(crs[i], reqs[i], started[i], answers[i])
	}
	w.lastCraft, w.lastRequest = crs[1], reqs[1]
	return nil
}

// overlapOneInstance checks the two overlapping deliveries of one purchase
// were both acknowledged with one instance. An answer 000004 without an
// instanceId names none yet: nothing to compare.
func (w *world) overlapOneInstance(context.Context) error {
	if len(w.crafted) < 2 {
		return fmt.Errorf("the scenario delivered no purchase twice")
	}
	pair := w.crafted[len(w.crafted)-2:]
	for _, c := range pair {
		if c.attempt.Verdict.Failed() {
			return w.fail(c, "callbacks.md §5.1, §5.8, §10", w.hintFor(c), "the merchant did not acknowledge a purchase delivered twice at once: %s", c.attempt.Verdict)
		}
	}
	first, second := gjson.GetBytes(pair[0].attempt.ResponseBody, "instanceId"), gjson.GetBytes(pair[1].attempt.ResponseBody, "instanceId")
	if first.Str == "" || second.Str == "" || first.Str == second.Str {
		return nil
	}
	return w.fail(pair[1], "callbacks.md §2.4, §10",
		"rule: one purchase yields one instance, however its deliveries overlap (§10 a): make finding the purchase and recording its instance one atomic step (a unique key on orderId + orderLineId (V2), orderId (V1), orderId + productId (V1 on-demand) with the insert's conflict answered by the stored instance, or a lock per order held while provisioning), and answer the second delivery with the instance of the first",
		"two deliveries of one purchase, the second sent while the first was unanswered, got two instances: %s and %s", first.Str, second.Str)
}
