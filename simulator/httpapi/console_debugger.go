package httpapi

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/engine"
)

// debuggerPage is the seller center's 调试: a product and an activity
// picked, the parameters filled in, the last call with its verdict and
// the product's saved debug cases.
type debuggerPage struct {
	Products   []simulator.Product
	P          simulator.Product // keys masked; zero when none is picked
	Activities []string
	Activity   string
	Params     string // the form's parameters, indented JSON
	Cases      []debugCase
	License    *licenseRule
	Call       *debuggerCall // the call the page was asked to show
}

type debuggerCall struct {
	M       simulator.Message
	Attempt attemptView
}

func (c *console) debugger(rq *request) { c.debuggerForm(rq, nil) }

// debuggerForm shows the debugger for the picked product (the first when
// none is) and activity (the purchase when none is). Given a call, it
// shows that call and fills the form in with what it sent.
func (c *console) debuggerForm(rq *request, fs *formState) {
	ctx := rq.ctx()
	q := rq.r.URL.Query()
	if fs != nil { // a refused post: what it named
		q = fs.Values
	}
	var p debuggerPage
	var err error
	if p.Products, err = c.shownProducts(rq); err != nil {
		c.fail(rq, err)
		return
	}
	id := q.Get("product")
	if id == "" && len(p.Products) > 0 {
		id = p.Products[0].ID
	}
	if id == "" {
		c.renderForm(rq, "debugger.html", rq.t("debugger.title"), "debugger", p, fs)
		return
	}
	pr, err := c.a.store.Product(ctx, id)
	if err != nil {
		c.fail(rq, err)
		return
	}
	p.P, p.Activities = shown(pr), engine.DebugActivities(pr)
	v := newDebuggerView(pr)
	p.License = v.License
	for _, dc := range pr.DebugCases {
		p.Cases = append(p.Cases, debugCase{Activity: dc.Activity, Params: pretty(dc.Params)})
	}
	p.Activity = q.Get("activity")
	if !slices.Contains(p.Activities, p.Activity) {
		p.Activity = p.Activities[0]
	}
	if callID := rq.r.URL.Query().Get("call"); callID != "" {
		if p.Call, err = c.debuggerCall(rq, pr, callID); err != nil {
			c.fail(rq, err)
			return
		}
		p.Activity = p.Call.M.Activity
		sent, err := newDebugCase(pr, debugCall{Activity: p.Call.M.Activity, Params: p.Call.M.Params})
		if err != nil {
			c.fail(rq, err)
			return
		}
		p.Params = pretty(sent.Params)
	} else {
		f, err := c.a.debugForm(ctx, pr, p.Activity, q.Get("instanceId"))
		if err != nil {
			c.fail(rq, err)
			return
		}
		p.Params = pretty(f.Params)
	}
	c.renderForm(rq, "debugger.html", rq.t("debugger.title"), "debugger", p, fs)
}

// debuggerCall reads a debugger call of product p and its attempt.
func (c *console) debuggerCall(rq *request, p simulator.Product, id string) (*debuggerCall, error) {
	m, err := c.a.store.Message(rq.ctx(), id)
	if err != nil {
		return nil, err
	}
	if m.Kind != simulator.KindDebug || m.ProductID != p.ID {
		return nil, simulator.Errorf(simulator.ENOTFOUND, "call", "message %s is no debugger call of product %s", id, p.ID)
	}
	attempts, err := c.a.store.Attempts(rq.ctx(), m.ID)
	if err != nil {
		return nil, err
	}
	if len(attempts) == 0 {
		return nil, simulator.Errorf(simulator.ENOTFOUND, "call", "debugger call %s has no attempt", id)
	}
	views := attemptViews(attemptRecords(m, attempts))
	return &debuggerCall{M: m, Attempt: views[len(views)-1]}, nil
}

// debug sends the form's call through the admin API's handler, and shows
// it, or the form again with the API's refusal beside its field.
func (c *console) debug(rq *request) {
	form := rq.r.PostForm
	product := form.Get("product")
	// The parameters go as the JSON they are; text that is not JSON goes
	// as a string, for the admin API to say it is no object.
	var params any = form.Get("params")
	if text := strings.TrimSpace(form.Get("params")); json.Valid([]byte(text)) {
		params = json.RawMessage(text)
	}
	in := map[string]any{"activity": form.Get("activity"), "params": params, "save": form.Get("save") != ""}
	v, fs, err := rq.actWith("debug", c.a.sendDebugCall, map[string]string{"id": product}, []field{{"activity", textField}, {"params", textField}, {"save", flagField}}, in)
	switch {
	case err != nil:
		c.fail(rq, err)
		return
	case fs != nil:
		c.debuggerForm(rq, fs)
		return
	}
	res := v.(debugResult)
	done := "debugSent"
	switch {
	case res.Saved:
		done = "debugSaved"
	case res.NotSaved != "":
		done = "debugNotSaved"
	}
	rq.redirect(debuggerURL(product, res.Message.Activity)+"&call="+url.QueryEscape(res.Message.ID), done)
}

// deleteCase removes a saved debug case.
func (c *console) deleteCase(rq *request) {
	product, index := rq.r.PostForm.Get("product"), rq.r.PostForm.Get("index")
	_, fs, err := rq.act("cases", c.a.deleteDebugCase, map[string]string{"id": product, "index": index}, nil)
	switch {
	case err != nil:
		c.fail(rq, err)
	case fs != nil:
		c.debuggerForm(rq, fs)
	default:
		rq.redirect(debuggerURL(product, rq.r.PostForm.Get("activity")), "caseDeleted")
	}
}

func debuggerURL(product, activity string) string {
	return "/console/debugger?product=" + url.QueryEscape(product) + "&activity=" + url.QueryEscape(activity)
}
