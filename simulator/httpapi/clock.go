package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// maxAdvance bounds one advance: every instant on the way is run, and
// dial tests alone fall due twice a day.
const maxAdvance = 3660 * 24 * time.Hour

func (a *api) getClock(w http.ResponseWriter, r *http.Request) (int, any, error) {
	if err := newQuery(r).err; err != nil {
		return 0, nil, err
	}
	return http.StatusOK, struct {
		Now     time.Time `json:"now"`
		Virtual bool      `json:"virtual"`
	}{a.scheduler.Clock().Now(), a.scheduler.Virtual()}, nil
}

// advance moves a virtual clock forward by a span or to a time, running
// everything that falls due on the way, in time order, and answers once
// delivery is quiet. It runs to the end even if the client goes away, so
// that no attempt is cut short and judged a failure of the merchant's.
func (a *api) advance(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var in struct {
		By string `json:"by"` // 90m, 3h, 30d
		To string `json:"to"` // RFC 3339
	}
	if err := decode(w, r, &in, true); err != nil {
		return 0, nil, err
	}
	now := a.scheduler.Clock().Now()
	var to time.Time
	switch {
	case (in.By == "") == (in.To == ""):
		return 0, nil, simulator.Errorf(simulator.EINVALID, "by", `give either "by" (a span such as 3h or 30d) or "to" (an RFC 3339 time), not both or neither`)
	case in.By != "":
		d, err := parseSpan(in.By)
		if err != nil {
			return 0, nil, simulator.Errorf(simulator.EINVALID, "by", "%v", err)
		}
		if d < 0 {
			return 0, nil, simulator.Errorf(simulator.EINVALID, "by", "%q is negative; the clock does not go back", in.By)
		}
		to = now.Add(d)
	default:
		t, err := time.Parse(time.RFC3339Nano, in.To)
		if err != nil {
			return 0, nil, simulator.Errorf(simulator.EINVALID, "to", "%q is not an RFC 3339 time such as 2025-03-01T10:00:00Z", in.To)
		}
		to = t
	}
	if to.Sub(now) > maxAdvance {
		field := "by"
		if in.To != "" {
			field = "to"
		}
		return 0, nil, simulator.Errorf(simulator.EINVALID, field, "is more than 10 years ahead; advance in steps of at most 3660d")
	}
	rep, err := a.scheduler.Advance(context.WithoutCancel(r.Context()), to)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, struct {
		From     time.Time `json:"from"`
		To       time.Time `json:"to"`
		Instants int       `json:"instants"` // distinct times at which something was due
		Work     int       `json:"work"`     // transitions, runs and attempts made
		Now      time.Time `json:"now"`
	}{rep.From, rep.To, rep.Instants, rep.Work, a.scheduler.Clock().Now()}, nil
}
