package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/gorilla/mux"
	"github.com/tidwall/gjson"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/kgsim/kgsim/simulator/dialtest"
	"github.com/kgsim/kgsim/simulator/engine"
	"github.com/kgsim/kgsim/simulator/notice"
)

// The debugger (调试) is the seller center's page that sends one call of a
// chosen activity to a product's production interface with testFlag "1"
// and shows the verdict, and saves the call as a debug case
// ("调测并保存用例") for the dial tests to replay (callbacks.md §8, §11).
// It calls only the URL configured for the product: the parameters are
// the user's, the address never is.

// debugQueue starts the queue of a product's debugger calls, one queue a
// product: a call is stored already answered, so the queue never holds
// the workers up, one call of a product is in flight at a time, and the
// product's calls are found by the queue's index.
const debugQueue = "debug/"

// debugLookBack is how many of a product's latest debugger calls are read
// to find its latest passing purchase.
const debugLookBack = 50

// licenseCases is how many debug cases an Online License product keeps,
// and licenseLast the activities of its last ones, in order (callbacks.md
// §2: "the debugger requires five saved cases for this product type, the
// last two being releaseInstance and getLicenseAsync").
const licenseCases = 5

var licenseLast = []string{string(activity.ReleaseInstance), string(activity.GetLicenseAsync)}

// onlineLicense reports whether the five-case rule applies to p.
func onlineLicense(p simulator.Product) bool { return p.License && p.Protocol == simulator.V2 }

// nextCase says which activity the next saved case of p must be, when
// the rule fixes it ("" when any other than the last ones may come, or p
// is no Online License product), and whether p may save another at all.
func nextCase(p simulator.Product) (activity string, more bool) {
	if !onlineLicense(p) {
		return "", true
	}
	n := len(p.DebugCases)
	if n >= licenseCases {
		return "", false
	}
	if first := licenseCases - len(licenseLast); n >= first {
		return licenseLast[n-first], true
	}
	return "", true
}

// caseRule refuses saving a case of activity after p's saved cases when
// the five-case rule forbids it.
func caseRule(p simulator.Product, activity string) error {
	want, more := nextCase(p)
	switch {
	case !more:
		return simulator.Errorf(simulator.ECONFLICT, "save", "product %s is an Online License product and has its %d debug cases already; delete one (DELETE /admin/v1/products/%s/debug-cases/{index}) before saving another", p.ID, licenseCases, p.ID)
	case want != "" && activity != want:
		return simulator.Errorf(simulator.EINVALID, "activity", "product %s is an Online License product: its debug case %d of %d must be %s (the last two are %s and %s), not %s", p.ID, len(p.DebugCases)+1, licenseCases, want, licenseLast[0], licenseLast[1], activity)
	case want == "" && onlineLicense(p) && (activity == licenseLast[0] || activity == licenseLast[1]):
		return simulator.Errorf(simulator.EINVALID, "activity", "product %s is an Online License product: %s is one of its last two debug cases (%d and %d of %d); save cases of the other activities first, %d so far", p.ID, activity, licenseCases-1, licenseCases, licenseCases, len(p.DebugCases))
	}
	return nil
}

// debuggerView is what the debugger offers for a product.
type debuggerView struct {
	ProductID  string                `json:"productId"`
	Protocol   simulator.Protocol    `json:"protocol"`
	URL        string                `json:"url"`
	Activities []string              `json:"activities"`
	Cases      []simulator.DebugCase `json:"debugCases"`
	// License is the five-case rule's state, for an Online License
	// product.
	License *licenseRule `json:"licenseRule,omitempty"`
}

type licenseRule struct {
	Required int    `json:"required"`
	Saved    int    `json:"saved"`
	Next     string `json:"next,omitempty"` // the activity the next case must be, when fixed
}

func newDebuggerView(p simulator.Product) debuggerView {
	v := debuggerView{ProductID: p.ID, Protocol: p.Protocol, URL: p.URL, Activities: engine.DebugActivities(p), Cases: p.DebugCases}
	if v.Cases == nil {
		v.Cases = []simulator.DebugCase{}
	}
	if onlineLicense(p) {
		next, _ := nextCase(p)
		v.License = &licenseRule{Required: licenseCases, Saved: len(p.DebugCases), Next: next}
	}
	return v
}

func (a *api) getDebugger(w http.ResponseWriter, r *http.Request) (int, any, error) {
	if err := newQuery(r).err; err != nil {
		return 0, nil, err
	}
	p, err := a.store.Product(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newDebuggerView(p), nil
}

// debugForm is an activity's parameters as the debugger fills them in.
type debugForm struct {
	Activity string          `json:"activity"`
	Params   json.RawMessage `json:"params"`
	TestFlag string          `json:"testFlag"`
}

// getDebugForm answers an activity's pre-filled parameters. The
// instanceId is the query's, else the one the product's latest passing
// debugger purchase was answered with, else a placeholder.
func (a *api) getDebugForm(w http.ResponseWriter, r *http.Request) (int, any, error) {
	q := newQuery(r, "instanceId")
	if q.err != nil {
		return 0, nil, q.err
	}
	p, err := a.store.Product(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		return 0, nil, err
	}
	f, err := a.debugForm(r.Context(), p, mux.Vars(r)["activity"], q.str("instanceId"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, f, nil
}

func (a *api) debugForm(ctx context.Context, p simulator.Product, activity, instanceID string) (debugForm, error) {
	if instanceID == "" {
		var err error
		if instanceID, err = a.debuggedInstance(ctx, p); err != nil {
			return debugForm{}, err
		}
	}
	params, err := a.engine.DebugParams(p, activity, instanceID, a.scheduler.Clock().Now())
	if err != nil {
		return debugForm{}, err
	}
	return debugForm{Activity: activity, Params: params, TestFlag: "1"}, nil
}

// debuggedInstance is the instanceId the merchant answered the product's
// latest passing debugger purchase with, or "".
func (a *api) debuggedInstance(ctx context.Context, p simulator.Product) (string, error) {
	purchase := engine.DebugActivities(p)[0]
	ms, err := a.store.Messages(ctx, simulator.MessageFilter{Queue: debugQueue + p.ID, Limit: debugLookBack, Page: simulator.Page{Newest: true}})
	if err != nil {
		return "", err
	}
	i := slices.IndexFunc(ms, func(m simulator.Message) bool { return m.Activity == purchase && m.Outcome == simulator.Succeeded })
	if i < 0 {
		return "", nil
	}
	attempts, err := a.store.Attempts(ctx, ms[i].ID)
	if err != nil || len(attempts) == 0 {
		return "", err
	}
	id := gjson.GetBytes(attempts[len(attempts)-1].ResponseBody, "instanceId")
	if id.Type != gjson.String || simulator.CheckID("instanceId", id.Str) != nil {
		return "", nil
	}
	return id.Str, nil
}

// debugCall is a call the debugger is asked to send.
type debugCall struct {
	Activity string `json:"activity"`
	// Params are sent as given; left out, the form's (getDebugForm).
	Params json.RawMessage `json:"params"`
	// Save keeps the call as a debug case when it passes.
	Save bool `json:"save"`
}

// debugResult is a sent call: its attempt as a call record shows it (the
// request as sent with the key masked, the answer, the verdict, the
// debugger's message and kgsim's explanation), the message it is stored
// as, and whether it was saved as a debug case.
type debugResult struct {
	Attempt notice.AttemptRecord `json:"attempt"`
	Message messageView          `json:"message"`
	Saved   bool                 `json:"saved"`
	// Case is the saved case's index among the product's debug cases.
	Case *int `json:"caseIndex,omitempty"`
	// NotSaved says why a call asked to be saved was not.
	NotSaved string       `json:"notSaved,omitempty"`
	Debugger debuggerView `json:"debugger"`
}

// sendDebugCall sends one call with testFlag "1" to the product's URL
// and, when asked and the call passed, saves it as a debug case.
func (a *api) sendDebugCall(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var in debugCall
	if err := decode(w, r, &in, true); err != nil {
		return 0, nil, err
	}
	ctx := context.WithoutCancel(r.Context())
	p, err := a.store.Product(ctx, mux.Vars(r)["id"])
	if err != nil {
		return 0, nil, err
	}
	if len(in.Params) == 0 || string(in.Params) == "null" {
		// Left out, the parameters are the form's, as the page sends the
		// form untouched: a bare activity is no call the marketplace makes.
		if err := engine.CheckDebugActivity(p, in.Activity); err != nil {
			return 0, nil, err
		}
		id, err := a.debuggedInstance(ctx, p)
		if err != nil {
			return 0, nil, err
		}
		if purchase := engine.DebugActivities(p)[0]; id == "" && in.Activity != purchase {
			// The form's placeholder would go to the merchant as the
			// instanceId.
			return 0, nil, simulator.Errorf(simulator.ECONFLICT, "params", "no instanceId to send: product %s has no debugger %s the merchant acknowledged with one yet; send %s first, or give params with the merchant's instanceId", p.ID, purchase, purchase)
		}
		f, err := a.debugForm(ctx, p, in.Activity, id)
		if err != nil {
			return 0, nil, err
		}
		in.Params = f.Params
	}
	c, err := newDebugCase(p, in)
	if err != nil {
		return 0, nil, err
	}
	if in.Save {
		// Refused before the call, so a refusal changes nothing.
		if err := caseRule(p, c.Activity); err != nil {
			return 0, nil, err
		}
	}
	now := a.scheduler.Clock().Now()
	id, err := simulator.NewID("m", now, rand.Reader)
	if err != nil {
		return 0, nil, err
	}
	m, err := dialtest.NewProbe(p, c, simulator.KindDebug, debugQueue+p.ID, id, now)
	if err != nil {
		return 0, nil, simulator.Errorf(simulator.EINVALID, "params", "%v", err)
	}
	at, m, err := a.deliverer.Probe(ctx, m)
	if err != nil {
		return 0, nil, err
	}
	out := debugResult{Attempt: attemptRecords(m, []simulator.Attempt{at})[0], Message: viewMessage(m)}
	switch {
	case !in.Save:
	case at.Verdict.Failed():
		out.NotSaved = fmt.Sprintf("the call failed (%s): only a call that passes is saved as a debug case, since the dial tests replay it", at.Verdict)
	default:
		err := a.store.Update(ctx, func(tx simulator.Tx) error {
			if p, err = tx.Product(ctx, p.ID); err != nil {
				return err
			}
			if err := caseRule(p, c.Activity); err != nil {
				return err
			}
			p.DebugCases = append(p.DebugCases, c)
			return tx.PutProduct(ctx, p)
		})
		if e, ok := errors.AsType[*simulator.Error](err); ok && e.Code != simulator.EINTERNAL {
			// Another save came first: the call stands, unsaved.
			out.NotSaved = e.Message
			break
		}
		if err != nil {
			return 0, nil, err
		}
		n := len(p.DebugCases) - 1
		out.Saved, out.Case = true, &n
	}
	if p, err = a.store.Product(ctx, p.ID); err != nil {
		return 0, nil, err
	}
	out.Debugger = newDebuggerView(p)
	return http.StatusCreated, out, nil
}

// newDebugCase checks a call's activity and parameters and returns them as a
// debug case: the parameters without activity and testFlag, which the
// debugger sets.
func newDebugCase(p simulator.Product, in debugCall) (simulator.DebugCase, error) {
	if err := engine.CheckDebugActivity(p, in.Activity); err != nil {
		return simulator.DebugCase{}, err
	}
	params := gjson.ParseBytes(in.Params)
	if !params.IsObject() {
		return simulator.DebugCase{}, simulator.Errorf(simulator.EINVALID, "params", "must be a JSON object of the call's parameters, got %.80s", in.Params)
	}
	out := []byte{'{'}
	var bad error
	params.ForEach(func(k, v gjson.Result) bool {
		switch {
		case k.Str == "activity" && v.String() != in.Activity:
			bad = simulator.Errorf(simulator.EINVALID, "params", "its activity %s differs from the activity chosen, %s: leave it out", v.Raw, in.Activity)
		case k.Str == "testFlag" && v.String() != "1":
			bad = simulator.Errorf(simulator.EINVALID, "params", "testFlag is %s: a debugger call always carries \"1\"; leave it out", v.Raw)
		case k.Str == "activity" || k.Str == "testFlag":
			return true
		case k.Str == "":
			bad = simulator.Errorf(simulator.EINVALID, "params", "a parameter has an empty name")
		}
		if bad != nil {
			return false
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(append(append(out, k.Raw...), ':'), v.Raw...)
		return true
	})
	if bad != nil {
		return simulator.DebugCase{}, bad
	}
	return simulator.DebugCase{Activity: in.Activity, Params: append(out, '}')}, nil
}

// deleteDebugCase removes one saved case by its index.
func (a *api) deleteDebugCase(w http.ResponseWriter, r *http.Request) (int, any, error) {
	raw := mux.Vars(r)["index"]
	i, err := strconv.Atoi(raw)
	if err != nil || i < 0 {
		return 0, nil, simulator.Errorf(simulator.EINVALID, "index", "%q is not a case's index (0, 1, ...)", raw)
	}
	ctx := context.WithoutCancel(r.Context())
	var p simulator.Product
	err = a.store.Update(ctx, func(tx simulator.Tx) error {
		if p, err = tx.Product(ctx, mux.Vars(r)["id"]); err != nil {
			return err
		}
		if i >= len(p.DebugCases) {
			return simulator.Errorf(simulator.ENOTFOUND, "index", "product %s has %d debug cases; no index %d", p.ID, len(p.DebugCases), i)
		}
		p.DebugCases = append(p.DebugCases[:i:i], p.DebugCases[i+1:]...)
		return tx.PutProduct(ctx, p)
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newDebuggerView(p), nil
}
