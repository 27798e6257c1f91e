package steps

import (
	"context"
	"fmt"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/delivery"
	"github.com/tidwall/gjson"
)

// lateLimit is how long the marketplace waits for the answer to a
// purchase's first attempt in the scenario of an answer that comes too
// late: its 20 s (callbacks.md §8) would make the scenario take 20 s,
// and whether it gave up after 20 s or 0.1 s, the merchant sees the same
// hang-up.
const lateLimit = 100 * time.Millisecond

// buysAnsweredLate places a purchase whose first attempt gets no answer in
// time: the proxy holds the merchant's answer until the marketplace
// stops waiting, at lateLimit, so the attempt times out (TIMEOUT) and the
// purchase is retried an hour later (§9.2).
func (w *world) buysAnsweredLate(ctx context.Context) error {
	w.proxy.holdNextAnswer()
	patient := w.market.Deliverer.Sender
	w.market.Deliverer.Sender = delivery.NewSender(lateLimit)
	_, err := w.buy(ctx, false)
	w.market.Deliverer.Sender = patient
	// The hold is for the first attempt only. On a loaded machine the
	// marketplace can give up before that attempt reaches the proxy at
	// all; left armed, the hold would then catch the retry an hour later
	// and time it out too, blaming a merchant that never saw either.
	w.proxy.takeHold()
	return err
}

// lateRetryAcknowledged checks the purchase whose first answer came too
// late: its first attempt timed out, a later one was acknowledged, and
// it named the instance the merchant named in the answer the marketplace
// never read, when the merchant gave one.
func (w *world) lateRetryAcknowledged(ctx context.Context) error {
	p, err := w.latest()
	if err != nil {
		return err
	}
	m, err := w.purchaseMessage(ctx, p)
	if err != nil {
		return err
	}
	as, err := w.store.Attempts(ctx, m.ID)
	if err != nil {
		return err
	}
	if len(as) == 0 {
		return fmt.Errorf("the purchase was never attempted")
	}
	first := &call{activity: m.Activity, attempt: as[0]}
	if first.attempt.Verdict != simulator.Timeout {
		if first.attempt.Verdict.Failed() {
			return w.fail(first, "callbacks.md §5.1, §5.8, §8", w.hintFor(first), "the merchant failed the purchase's first attempt before the marketplace stopped waiting: %s", first.attempt.Verdict)
		}
		return fmt.Errorf("the purchase's first attempt was answered (%s) although kgsim's proxy held the answer", first.attempt.Verdict)
	}
	if len(as) < 2 {
		return fmt.Errorf("the purchase was not attempted again after its first attempt timed out: let an hour pass first")
	}
	retry := &call{activity: m.Activity, attempt: as[len(as)-1]}
	w.last = retry
	if retry.attempt.Verdict.Failed() {
		return w.fail(retry, "callbacks.md §8, §9.2, §10", lateHint,
			"the purchase was delivered again %s after its first attempt timed out, and the merchant did not acknowledge it: %s",
			retry.attempt.StartedAt.Sub(first.attempt.StartedAt).Round(time.Minute), retry.attempt.Verdict)
	}
	late, now := gjson.GetBytes(w.proxy.lateAnswer(), "instanceId").Str, gjson.GetBytes(retry.attempt.ResponseBody, "instanceId").Str
	if late != "" && now != "" && late != now {
		return w.fail(retry, "callbacks.md §10", lateHint,
			"the merchant's answer to the first attempt, which came after the marketplace stopped waiting, named instance %s; the retry was answered with instance %s: one purchase, two instances", late, now)
	}
	return w.provisioned(ctx, p)
}

const lateHint = "rule: a purchase whose answer did not come within the time limit is delivered again, with a new businessId (§8, §9.2), and answered as the first would have been (§10 a): finish the provisioning whatever happens to the connection (or undo it entirely), never leave the order marked as in progress, and answer the retry with the instance of the first"

// sendsPurchaseDelayed sends the last purchase callback again, signed
// seconds before it leaves: a delivery held on its way, which reaches the
// merchant after a fresher one was answered.
func (w *world) sendsPurchaseDelayed(ctx context.Context, seconds int) error {
	return w.sendAgain(ctx, "purchase", time.Duration(seconds)*time.Second)
}

// delayedAccepted checks the delayed delivery was acknowledged with the
// purchase's instance.
func (w *world) delayedAccepted(ctx context.Context) error {
	c, err := w.lastCall()
	if err != nil {
		return err
	}
	if c.attempt.Verdict.Failed() {
		return w.fail(c, "callbacks.md §4.1, §10", delayedHint(w.product.Protocol, c),
			"the merchant did not acknowledge a delivery of the purchase signed %s before it left, delayed on its way: %s", w.lastCraft.age, c.attempt.Verdict)
	}
	return w.sameAs(ctx, "instanceId", "is the same as", "purchase call")
}

// delayedHint is the rule a refused delayed delivery breaks: its answer
// says whether the merchant took it for stale or for outdated.
func delayedHint(p simulator.Protocol, c *call) string {
	if resultCodeOf(c.attempt) == codeAuthFailed {
		if p == simulator.V1 {
			return "rule: V1 has no freshness window (§3.2): a correctly signed call is accepted however long it took to arrive; if you refuse old timeStamps, allow at least the 60 s V2 allows"
		}
		return "rule: a timestamp up to 60 s from the merchant's clock is accepted (§4.1): allow the whole window, either way"
	}
	return "rule: calls have no ordering (§8 notes) and a purchase delivered again names its instance (§10 a): the time a call was signed says when it left the marketplace, not which state is newer; answer a delayed delivery as the first"
}

// detailsRepeatAcknowledged checks the purchase the buyer's resource
// details sent again (V1, callbacks.md §10) was acknowledged with the
// purchase's instance.
func (w *world) detailsRepeatAcknowledged(ctx context.Context) error {
	ms, err := w.messages(ctx)
	if err != nil {
		return err
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Kind != simulator.KindDetails {
			continue
		}
		c, err := w.lastAttempt(ctx, ms[i])
		if err != nil || c == nil {
			return fmt.Errorf("the purchase sent again from the resource details was never attempted: %v", err)
		}
		w.last = c
		if c.attempt.Verdict.Failed() {
			return w.fail(c, "callbacks.md §5.1, §10", w.hintFor(c), "the merchant did not acknowledge the purchase the buyer's resource details sent again: %s", c.attempt.Verdict)
		}
		return w.sameAs(ctx, "instanceId", "is the same as", "purchase call")
	}
	return fmt.Errorf("the marketplace sent no purchase again from the resource details (V1 SaaS products do): open them first")
}
