package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/kgsim/kgsim/simulator/delivery"
	"github.com/kgsim/kgsim/simulator/notice"
)

// pageSize is how many rows a console listing shows at once.
const pageSize = 20

// activities are the calls' activities, offered in the messages filter
// (any other can be typed): the activity table's, each once.
func activities() []string {
	var out []string
	for _, s := range activity.All() {
		if !slices.Contains(out, string(s.Name)) {
			out = append(out, string(s.Name))
		}
	}
	return out
}

// messageRow is a message as the list shows it: with what its last
// attempt's failure said (异常信息) and whether it can be restarted.
type messageRow struct {
	simulator.Message
	Error       string
	Restartable bool
}

func (c *console) rows(rq *request, ms []simulator.Message) ([]messageRow, error) {
	rows := make([]messageRow, len(ms))
	for i, m := range ms {
		rows[i] = messageRow{Message: m, Restartable: delivery.Restartable(m) == nil}
		if m.Attempts == 0 {
			continue
		}
		as, err := c.a.store.Attempts(rq.ctx(), m.ID)
		if err != nil {
			return nil, err
		}
		if n := len(as); n > 0 && as[n-1].Verdict.Failed() {
			rows[i].Error = firstOf(as[n-1].Message, as[n-1].Detail, string(as[n-1].Verdict))
		}
	}
	return rows, nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// pending reports whether any row is still being delivered: the page
// refreshes itself while one is.
func pending(rows []messageRow) bool {
	return slices.ContainsFunc(rows, func(r messageRow) bool {
		return r.Outcome == simulator.Pending || r.Outcome == simulator.Polling
	})
}

type messagesPage struct {
	Filter     url.Values
	Products   []simulator.Product
	Protocols  []simulator.Protocol
	Outcomes   []simulator.Outcome
	Activities []string
	Rows       []messageRow
	Next       string // the next page's address, "" on the last
	First      string // the first page's, on a later one
}

func (p messagesPage) live() bool { return pending(p.Rows) }

// messages is the list of 生产接口消息, newest first, filtered.
func (c *console) messages(rq *request) {
	q := rq.r.URL.Query()
	f := simulator.MessageFilter{
		ProductID: q.Get("product"), Activity: q.Get("activity"), OrderID: q.Get("order"), InstanceID: q.Get("instance"),
		Queue: q.Get("queue"), Protocol: simulator.Protocol(q.Get("protocol")), Outcome: simulator.Outcome(q.Get("outcome")), Limit: pageSize + 1,
		Page: simulator.Page{After: q.Get("cursor"), Newest: true},
	}
	fs := checkState(q, "outcome", f.Outcome, outcomes)
	if fs == nil {
		fs = checkState(q, "protocol", f.Protocol, protocols)
	}
	for _, t := range []struct {
		name string
		to   *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(t.name); fs == nil && v != "" {
			var ok bool
			if *t.to, ok = consoleTimeInput(v); !ok {
				fs = &formState{Name: "filter", Values: q, Field: t.name, Status: http.StatusBadRequest,
					Message: "is not a time such as 2025-03-01 08:00 (Beijing time) or an RFC 3339 time"}
			}
		}
	}
	if fs == nil {
		var err error
		if fs, err = checkCursor(rq.ctx(), q, "message", f.After, exists(c.a.store.Message)); err != nil {
			c.fail(rq, err)
			return
		}
	}
	// An instance's messages are its delivery queue, newInstance's (sent
	// before the merchant named it) included; found by the queue's index.
	if f.InstanceID != "" && f.Queue == "" {
		is, err := c.a.store.Instances(rq.ctx(), simulator.InstanceFilter{ID: f.InstanceID, Limit: 2})
		if err != nil {
			c.fail(rq, err)
			return
		}
		if len(is) == 1 {
			f.Queue, f.InstanceID = is[0].Key, ""
		}
	}
	p := messagesPage{Filter: q, Protocols: protocols, Outcomes: outcomes, Activities: activities()}
	var err error
	if p.Products, err = c.a.store.Products(rq.ctx()); err != nil {
		c.fail(rq, err)
		return
	}
	if fs != nil {
		c.renderForm(rq, "messages.html", rq.t("messages.title"), "messages", p, fs)
		return
	}
	read := func() ([]simulator.Message, error) { return c.a.store.Messages(rq.ctx(), f) }
	ms, next, first, err := onePage(rq, read, func(m simulator.Message) string { return m.ID })
	if err != nil {
		c.fail(rq, err)
		return
	}
	if p.Rows, err = c.rows(rq, ms); err != nil {
		c.fail(rq, err)
		return
	}
	p.Next, p.First = next, first
	c.render(rq, "messages.html", rq.t("messages.title"), "messages", p)
}

// pages are the addresses of a listing's next page (after the cursor
// next, when there is one) and, on a later page, of its first.
func pages(self *url.URL, next string) (string, string) {
	link := func(cursor string) string {
		q := self.Query()
		q.Del("ok")
		q.Del("lang")
		q.Del("cursor")
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		u := url.URL{Path: self.Path, RawQuery: q.Encode()}
		return u.RequestURI()
	}
	var n, f string
	if next != "" {
		n = link(next)
	}
	if self.Query().Get("cursor") != "" {
		f = link("")
	}
	return n, f
}

// attemptView is an attempt as the console shows it: the call record's,
// as a notice carries it and kgsim replay reads it.
type attemptView struct {
	notice.AttemptRecord
	Failed bool
}

func attemptViews(recs []notice.AttemptRecord) []attemptView {
	out := make([]attemptView, len(recs))
	for i, r := range recs {
		out[i] = attemptView{AttemptRecord: r, Failed: simulator.Verdict(r.Verdict).Failed()}
	}
	return out
}

type messagePage struct {
	M         simulator.Message
	Product   simulator.Product
	Instance  string // the instance's key, when the queue is one
	Params    string
	Attempts  []attemptView
	NoRestart string // why not, when it cannot be restarted
	Notices   []simulator.Notice
	Replay    string
}

func (p messagePage) live() bool {
	return p.M.Outcome == simulator.Pending || p.M.Outcome == simulator.Polling
}

// message shows one message with every attempt.
func (c *console) message(rq *request) { c.messageForm(rq, nil) }

func (c *console) messageForm(rq *request, fs *formState) {
	ctx := rq.ctx()
	m, err := c.a.store.Message(ctx, rq.pathVar("id"))
	if err != nil {
		c.fail(rq, err)
		return
	}
	attempts, err := c.a.store.Attempts(ctx, m.ID)
	if err != nil {
		c.fail(rq, err)
		return
	}
	p := messagePage{M: m, Params: pretty(m.Params), Attempts: attemptViews(attemptRecords(m, attempts)), Replay: replayCommand(m)}
	slices.Reverse(p.Attempts) // the latest first, as the list shows it
	if err := delivery.Restartable(m); err != nil {
		p.NoRestart = err.Error()
		if e, ok := err.(*simulator.Error); ok {
			p.NoRestart = e.Message
		}
	}
	if p.Product, err = c.a.store.Product(ctx, m.ProductID); err != nil && simulator.ErrorCode(err) != simulator.ENOTFOUND {
		c.fail(rq, err)
		return
	}
	p.Product = shown(p.Product)
	if _, err := c.a.store.Instance(ctx, m.Queue); err == nil {
		p.Instance = m.Queue
	}
	if p.Notices, err = c.a.store.Notices(ctx, simulator.NoticeFilter{MessageID: m.ID, Limit: pageSize, Page: simulator.Page{Newest: true}}); err != nil {
		c.fail(rq, err)
		return
	}
	c.renderForm(rq, "message.html", rq.t("message.title")+" "+m.ID, "messages", p, fs)
}

// restart is the seller center's 重新启动: one new attempt now.
func (c *console) restart(rq *request) {
	id := rq.pathVar("id")
	_, fs, err := rq.act("restart", c.a.restart, map[string]string{"id": id}, nil)
	switch {
	case err != nil:
		c.fail(rq, err)
	case fs != nil:
		c.messageForm(rq, fs)
	default:
		rq.redirect("/console/messages/"+url.PathEscape(id), "restarted")
	}
}

// replayCommand is the kgsim replay command line that rebuilds m from its
// IDs; the key is left to the shell.
func replayCommand(m simulator.Message) string {
	parts := []string{"kgsim replay --url " + shellQuote(m.URL), "--protocol " + string(m.Protocol), "--activity " + shellQuote(m.Activity)}
	for _, id := range []struct{ flag, value string }{
		{"order", m.OrderID}, {"order-line", m.OrderLineID}, {"instance", m.InstanceID}, {"product", m.ProductID}, {"customer", m.CustomerID},
	} {
		if id.value != "" {
			parts = append(parts, "--"+id.flag+" "+shellQuote(id.value))
		}
	}
	return strings.Join(append(parts, `--access-key "$KEY"`), " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

type noticesPage struct {
	Filter   url.Values
	Products []simulator.Product
	Notices  []simulator.Notice
	Next     string
	First    string
}

// notices is the mailbox, newest first.
func (c *console) notices(rq *request) {
	q := rq.r.URL.Query()
	f := simulator.NoticeFilter{ProductID: q.Get("product"), OrderID: q.Get("order"), Limit: pageSize + 1,
		Page: simulator.Page{After: q.Get("cursor"), Newest: true}}
	p := noticesPage{Filter: q}
	var err error
	if p.Products, err = c.a.store.Products(rq.ctx()); err != nil {
		c.fail(rq, err)
		return
	}
	switch bad, err := checkCursor(rq.ctx(), q, "notice", f.After, exists(c.a.store.Notice)); {
	case err != nil:
		c.fail(rq, err)
		return
	case bad != nil:
		c.renderForm(rq, "notices.html", rq.t("notices.title"), "notices", p, bad)
		return
	}
	read := func() ([]simulator.Notice, error) { return c.a.store.Notices(rq.ctx(), f) }
	if p.Notices, p.Next, p.First, err = onePage(rq, read, func(n simulator.Notice) string { return n.ID }); err != nil {
		c.fail(rq, err)
		return
	}
	c.render(rq, "notices.html", rq.t("notices.title"), "notices", p)
}

type noticePage struct {
	N        simulator.Notice
	From     string // the sender's address, as mailed (--smtp-from)
	FromName string
	Calls    []callView
	RunID    string
	Replay   string
}

// callView is a call of a notice's record.
type callView struct {
	notice.CallRecord
	Attempts []attemptView
}

// notice shows a notice as the e-mail it is, with its call record.
func (c *console) notice(rq *request) {
	n, err := c.resolvedNotice(rq)
	if err != nil {
		c.fail(rq, err)
		return
	}
	p := noticePage{N: n, From: c.a.mailFrom.Address, FromName: c.a.mailFrom.Name}
	var run notice.DialRunRecord
	var call notice.CallRecord
	switch {
	case len(n.Record) == 0:
	case json.Unmarshal(n.Record, &run) == nil && run.RunID != "":
		p.RunID = run.RunID
		for _, cr := range run.Calls {
			p.Calls = append(p.Calls, callView{CallRecord: cr, Attempts: attemptViews(cr.Attempts)})
		}
	case json.Unmarshal(n.Record, &call) == nil && call.CallID != "":
		p.Calls = []callView{{CallRecord: call, Attempts: attemptViews(call.Attempts)}}
	}
	if len(p.Calls) > 0 {
		p.Replay = "kgsim replay --notice call-record-" + n.ID + ".json --access-key \"$KEY\""
	}
	c.render(rq, "notice.html", n.Subject, "notices", p)
}

func (c *console) resolvedNotice(rq *request) (simulator.Notice, error) {
	n, err := c.a.store.Notice(rq.ctx(), rq.pathVar("id"))
	if err != nil {
		return n, err
	}
	return notice.Resolve(rq.ctx(), c.a.store, n)
}

// noticeRecord is a notice's call record, to save and give kgsim replay.
func (c *console) noticeRecord(rq *request) {
	n, err := c.resolvedNotice(rq)
	if err != nil {
		c.fail(rq, err)
		return
	}
	if len(n.Record) == 0 {
		c.refuse(rq.w, rq.r, http.StatusNotFound, "notice "+n.ID+" has no call record: it is about a product's status, not a call")
		return
	}
	out, err := c.a.scrub(rq.r, []byte(pretty(n.Record)))
	if err != nil {
		c.fail(rq, err)
		return
	}
	h := rq.w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="call-record-`+n.ID+`.json"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	rq.w.Write(out)
}
