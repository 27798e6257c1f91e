package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/notice"
)

var (
	messageKinds = []string{simulator.KindLifecycle, simulator.KindDebug, simulator.KindDialTest, simulator.KindPoll, simulator.KindDetails}
	protocols    = []simulator.Protocol{simulator.V1, simulator.V2, simulator.Kit}
	outcomes     = []simulator.Outcome{simulator.Pending, simulator.Succeeded, simulator.SucceededAfterRestart,
		simulator.OrderFailed, simulator.Stopped, simulator.Polling, simulator.ChangeRefused, simulator.Held}
)

// messageView is a callback as the admin API shows it.
type messageView struct {
	ID            string             `json:"messageId"`
	Kind          string             `json:"kind"`
	Protocol      simulator.Protocol `json:"protocol"`
	Activity      string             `json:"activity"`
	Queue         string             `json:"queue"`
	ProductID     string             `json:"productId,omitempty"`
	OrderID       string             `json:"orderId,omitempty"`
	OrderLineID   string             `json:"orderLineId,omitempty"`
	InstanceID    string             `json:"instanceId,omitempty"`
	CustomerID    string             `json:"customerId,omitempty"`
	URL           string             `json:"url"`
	Params        json.RawMessage    `json:"params,omitempty"`
	Outcome       simulator.Outcome  `json:"outcome"`
	AttemptCount  int                `json:"attemptCount"`
	FirstAttempt  time.Time          `json:"firstAttemptAt,omitzero"`
	NextAttemptAt time.Time          `json:"nextAttemptAt,omitzero"`
	CreatedAt     time.Time          `json:"createdAt"`
}

func viewMessage(m simulator.Message) messageView {
	v := messageView{
		ID: m.ID, Kind: m.Kind, Protocol: m.Protocol, Activity: m.Activity, Queue: m.Queue,
		ProductID: m.ProductID, OrderID: m.OrderID, OrderLineID: m.OrderLineID, InstanceID: m.InstanceID, CustomerID: m.CustomerID,
		URL: m.URL, Outcome: m.Outcome, AttemptCount: m.Attempts,
		FirstAttempt: m.FirstAttempt, NextAttemptAt: m.NextAttemptAt, CreatedAt: m.CreatedAt,
	}
	if json.Valid(m.Params) {
		v.Params = m.Params
	}
	return v
}

// kindKit is the kind kit syncs were listed by before they became
// messages of protocol kit: kind=KIT still means protocol=kit, so that
// scripts written against it keep working.
const kindKit = "KIT"

// messageKind reads a listing's kind and protocol filters.
func messageKind(q *query) (string, simulator.Protocol) {
	p := oneOf(q, "protocol", protocols...)
	if q.values.Get("kind") != kindKit {
		return oneOf(q, "kind", messageKinds...), p
	}
	if p != "" && p != simulator.Kit {
		q.fail("kind", "%s means protocol %s, and protocol is %s", kindKit, simulator.Kit, p)
	}
	return "", simulator.Kit
}

// attemptRecords renders attempts as the call record of a notice does
// (callbacks.md §12), so the console, a notice and kgsim replay show an
// attempt alike.
func attemptRecords(m simulator.Message, attempts []simulator.Attempt) []notice.AttemptRecord {
	return notice.NewCallRecord(notice.Call{Message: m, Attempts: attempts}).Attempts
}

func (a *api) listMessages(w http.ResponseWriter, r *http.Request) (int, any, error) {
	q := newQuery(r, "kind", "protocol", "productId", "orderId", "queue", "activity", "instanceId", "outcome", "since", "until", "order", "cursor", "limit")
	f := simulator.MessageFilter{
		ProductID: q.str("productId"), OrderID: q.str("orderId"),
		Queue: q.str("queue"), Activity: q.str("activity"), InstanceID: q.str("instanceId"), Outcome: oneOf(q, "outcome", outcomes...),
		Since: q.time("since"), Until: q.time("until"), Limit: q.limit(), Page: q.page(r.Context(), exists(a.store.Message)),
	}
	f.Kind, f.Protocol = messageKind(q)
	if q.err != nil {
		return 0, nil, q.err
	}
	limit := f.Limit
	f.Limit++
	ms, err := a.store.Messages(r.Context(), f)
	if err != nil {
		return 0, nil, err
	}
	ms, next := paged(ms, limit, func(m simulator.Message) string { return m.ID })
	out := make([]messageView, len(ms))
	for i, m := range ms {
		out[i] = viewMessage(m)
	}
	return http.StatusOK, listing("messages", out, next), nil
}

// getMessage shows a callback with every attempt made at it.
func (a *api) getMessage(w http.ResponseWriter, r *http.Request) (int, any, error) {
	ctx := r.Context()
	m, err := a.store.Message(ctx, mux.Vars(r)["id"])
	if err != nil {
		return 0, nil, err
	}
	attempts, err := a.store.Attempts(ctx, m.ID)
	if err != nil {
		return 0, nil, err
	}
	recs := attemptRecords(m, attempts)
	return http.StatusOK, struct {
		messageView
		Attempts []notice.AttemptRecord `json:"attempts"`
	}{viewMessage(m), recs}, nil
}

// restart makes one new attempt at a stopped callback, as the seller
// center's restart button does, and answers with the attempt and the
// callback's new state.
func (a *api) restart(w http.ResponseWriter, r *http.Request) (int, any, error) {
	if err := decode(w, r, &struct{}{}, false); err != nil {
		return 0, nil, err
	}
	ctx := context.WithoutCancel(r.Context())
	id := mux.Vars(r)["id"]
	at, err := a.deliverer.Restart(ctx, id)
	if err != nil {
		return 0, nil, err
	}
	m, err := a.store.Message(ctx, id)
	if err != nil {
		return 0, nil, err
	}
	recs := attemptRecords(m, []simulator.Attempt{at})
	return http.StatusOK, struct {
		Attempt notice.AttemptRecord `json:"attempt"`
		Message messageView          `json:"message"`
	}{recs[0], viewMessage(m)}, nil
}

// noticeView is a notice with its call record as JSON rather than bytes.
type noticeView struct {
	simulator.Notice
	Record json.RawMessage `json:"record,omitempty"`
}

func (a *api) listNotices(w http.ResponseWriter, r *http.Request) (int, any, error) {
	q := newQuery(r, "productId", "orderId", "messageId", "unmailed", "since", "order", "cursor", "limit")
	f := simulator.NoticeFilter{
		ProductID: q.str("productId"), OrderID: q.str("orderId"), MessageID: q.str("messageId"),
		Unmailed: q.bool("unmailed"), Since: q.time("since"), Limit: q.limit(), Page: q.page(r.Context(), exists(a.store.Notice)),
	}
	if q.err != nil {
		return 0, nil, q.err
	}
	limit := f.Limit
	f.Limit++
	ns, err := a.store.Notices(r.Context(), f)
	if err != nil {
		return 0, nil, err
	}
	ns, next := paged(ns, limit, func(n simulator.Notice) string { return n.ID })
	// A listing leaves the records out: each holds every attempt's exact
	// request and answer.
	out := make([]noticeView, len(ns))
	for i, n := range ns {
		n.Record = nil
		out[i] = noticeView{Notice: n}
	}
	return http.StatusOK, listing("notices", out, next), nil
}

func (a *api) getNotice(w http.ResponseWriter, r *http.Request) (int, any, error) {
	n, err := a.store.Notice(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		return 0, nil, err
	}
	if n, err = notice.Resolve(r.Context(), a.store, n); err != nil {
		return 0, nil, err
	}
	v := noticeView{Notice: n}
	if json.Valid(n.Record) {
		v.Record = n.Record
	}
	return http.StatusOK, v, nil
}
