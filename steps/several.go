package steps

import (
	"context"
	"fmt"

	"github.com/tidwall/gjson"
)

// queriesBoth has the marketplace send queryInstance for the scenario's
// last two instances in one call, their instanceIds separated by a comma,
// as the buyer's page listing both does (callbacks.md §5.9).
func (w *world) queriesBoth(ctx context.Context) error {
	if _, err := w.lastTwoInstances(ctx); err != nil {
		return err
	}
	a, b := w.purchases[len(w.purchases)-2], w.purchases[len(w.purchases)-1]
	m, err := w.market.Engine.Query(ctx, a.instance, b.instance)
	if err != nil {
		return fmt.Errorf("the marketplace could not query both instances: %w", err)
	}
	if err := w.runDue(ctx); err != nil {
		return err
	}
	if w.last, err = w.lastAttempt(ctx, m); err == nil && w.last == nil {
		err = fmt.Errorf("the query of both instances was never attempted")
	}
	return err
}

// lastTwoInstances returns the instanceIds of the scenario's last two
// purchases, each acknowledged.
func (w *world) lastTwoInstances(ctx context.Context) ([]string, error) {
	if len(w.purchases) < 2 {
		return nil, fmt.Errorf("the scenario has fewer than two purchases: buy the product twice first")
	}
	var ids []string
	for i := len(w.purchases) - 2; i < len(w.purchases); i++ {
		p := &w.purchases[i]
		if p.instanceID == "" {
			if err := w.provisioned(ctx, p); err != nil {
				return nil, err
			}
		}
		ids = append(ids, p.instanceID)
	}
	return ids, nil
}

// listsEach checks the last answer has an info entry for each of the last
// two instances, with a non-empty value at path.
func (w *world) listsEach(ctx context.Context, path string) error {
	c, err := w.lastCall()
	if err != nil {
		return err
	}
	ids, err := w.lastTwoInstances(ctx)
	if err != nil {
		return err
	}
	if c.attempt.Verdict.Failed() {
		return w.fail(c, "callbacks.md §5.9, §8", w.hintFor(c), "the merchant did not answer a query of two of its instances: %s", c.attempt.Verdict)
	}
	info := gjson.GetBytes(c.attempt.ResponseBody, "info").Array()
	for _, id := range ids {
		listed := false
		for _, e := range info {
			listed = listed || e.Get("instanceId").Str == id && e.Get(path).String() != ""
		}
		if !listed {
			return w.fail(c, "callbacks.md §5.9",
				"rule: queryInstance names up to 100 instances, their instanceIds separated by commas (§5.9): split instanceId on ',' and give an info entry for each instance you have",
				"the answer has no info entry with a non-empty %s for instance %s, one of the two the query named", path, id)
		}
	}
	return nil
}
