package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/tidwall/gjson"
)

// What the scenarios check. Each failure names the check, shows the call
// it is about, the spec section and a hint at the fix (failure.go).

// Result codes the checks name (callbacks.md §7).
const (
	codeSuccess    = "000000"
	codeProcessing = "000004"
)

// lastAttempt returns a callback's last attempt as a call, nil if it was
// never attempted.
func (w *world) lastAttempt(ctx context.Context, m simulator.Message) (*call, error) {
	as, err := w.store.Attempts(ctx, m.ID)
	if err != nil || len(as) == 0 {
		return nil, err
	}
	return &call{activity: m.Activity, attempt: as[len(as)-1]}, nil
}

// purchaseMessage returns a purchase's callback (newInstance, getLicense).
func (w *world) purchaseMessage(ctx context.Context, p *purchase) (simulator.Message, error) {
	ms, err := w.store.Messages(ctx, simulator.MessageFilter{OrderID: p.order.ID})
	if err != nil {
		return simulator.Message{}, err
	}
	for _, m := range ms {
		if isKind(m, "purchase") {
			return m, nil
		}
	}
	return simulator.Message{}, fmt.Errorf("order %s has no purchase callback", p.order.ID)
}

// lastPurchase returns the callback of the scenario's last purchase.
func (w *world) lastPurchase(ctx context.Context) (simulator.Message, error) {
	p, err := w.latest()
	if err != nil {
		return simulator.Message{}, err
	}
	return w.purchaseMessage(ctx, p)
}

// provisioned checks that a purchase was acknowledged and its order
// completed, following the queryInstance polls of an asynchronous answer
// (000004) through their 3-hour window on the scheduling clock.
func (w *world) provisioned(ctx context.Context, p *purchase) error {
	m, err := w.purchaseMessage(ctx, p)
	if err != nil {
		return err
	}
	if m.Outcome == simulator.Polling {
		if err := w.finishPolling(ctx, p.order.ID); err != nil {
			return err
		}
	}
	// "The answer" is the purchase's; a failure shows the last poll, if
	// the purchase was answered 000004.
	c, err := w.lastAttempt(ctx, m)
	if err != nil {
		return err
	}
	w.last = c
	o, err := w.store.Order(ctx, p.order.ID)
	if err != nil {
		return err
	}
	if o.State == simulator.OrderCompleted {
		inst, err := w.store.Instance(ctx, p.instance)
		p.instanceID = inst.ID
		return err
	}
	if poll, err := w.pollOf(ctx, m); err != nil {
		return err
	} else if poll != nil {
		c = poll
	}
	if c == nil {
		return w.fail(nil, "callbacks.md §9.2", "", "the purchase callback of order %s was never attempted", o.ID)
	}
	if !c.attempt.Verdict.Failed() {
		id := gjson.GetBytes(c.attempt.ResponseBody, "instanceId").String()
		return w.fail(c, "callbacks.md §10", "give every order an instanceId of its own (recommended: the businessId of the order's first request) and never an empty one",
			"the purchase was answered, but with an instanceId the marketplace cannot use (%q: empty, or already another order's): order %s is %s", id, o.ID, o.State)
	}
	return w.fail(c, "callbacks.md §5.1, §5.8, §8", w.hintFor(c),
		"the merchant did not acknowledge the purchase (order %s is %s after %d attempt(s)): %s", o.ID, o.State, c.attempt.N, c.attempt.Verdict)
}

// pollOf returns the last poll attempt after a purchase answered 000004.
func (w *world) pollOf(ctx context.Context, purchase simulator.Message) (*call, error) {
	ms, err := w.store.Messages(ctx, simulator.MessageFilter{Kind: simulator.KindPoll, Queue: purchase.Queue})
	if err != nil || len(ms) == 0 {
		return nil, err
	}
	return w.lastAttempt(ctx, ms[len(ms)-1])
}

// finishPolling moves the scheduling clock from poll to poll until the
// order is settled or the polling window (3 hours) is over.
func (w *world) finishPolling(ctx context.Context, orderID string) error {
	deadline := w.clock.Now().Add(3*time.Hour + time.Minute)
	for range 100 {
		o, err := w.store.Order(ctx, orderID)
		if err != nil || o.State != simulator.OrderProcessing {
			return err
		}
		next, ok, err := w.market.Deliverer.NextDue(ctx)
		if err != nil || !ok || next.After(deadline) {
			return err
		}
		if _, err := w.market.Scheduler.Advance(ctx, next); err != nil {
			return err
		}
	}
	return nil
}

// callSucceeds checks the last callback of a kind was acknowledged.
func (w *world) callSucceeds(ctx context.Context, kind string) error {
	if kind == "purchase" {
		p, err := w.latest()
		if err != nil {
			return err
		}
		return w.provisioned(ctx, p)
	}
	m, err := w.latestOf(ctx, kind)
	if err != nil {
		return err
	}
	c, err := w.lastAttempt(ctx, m)
	if err != nil {
		return err
	}
	w.last = c
	switch {
	case c == nil:
		return w.fail(nil, "callbacks.md §9.2", "an earlier callback about the instance is still being retried; fix that one first",
			"the %s callback (%s) was not sent: the callbacks of an instance go one at a time", kind, m.Activity)
	case m.Outcome == simulator.Succeeded || m.Outcome == simulator.SucceededAfterRestart:
		return nil
	}
	return w.fail(c, specOf(kind), w.hintFor(c), "the merchant did not acknowledge the %s callback (%s): %s", kind, m.Activity, c.attempt.Verdict)
}

// specOf is the spec section of a kind of callback.
func specOf(kind string) string {
	switch kind {
	case "renewal", "conversion":
		return "callbacks.md §5.2, §5.10"
	case "freeze", "unfreeze":
		return "callbacks.md §5.3, §5.6, §5.11"
	case "upgrade":
		return "callbacks.md §5.5, §5.13"
	case "release":
		return "callbacks.md §5.4, §5.12"
	case "query":
		return "callbacks.md §5.7, §5.9"
	case "License":
		return "callbacks.md §5.16, §5.17"
	}
	return "callbacks.md §5"
}

// hint is the likely fix for a verdict (callbacks.md §8).
func hint(v simulator.Verdict) string {
	switch v {
	case simulator.Unreachable:
		return "the production interface did not answer: check the URL, that the service listens there and, with https, its certificate"
	case simulator.Timeout:
		return "answer within 20 s (5 s recommended): do slow work in the background (V2 newInstance may answer 000004)"
	case simulator.HTTPStatus:
		return "answer every callback with HTTP 200 and put the outcome in resultCode; redirects are not followed"
	case simulator.BodySignMissing:
		return `add the header Body-Sign: sign_type="HMAC-SHA256", signature="<Base64 of HMAC-SHA256 over the body bytes, keyed with the access key>"`
	case simulator.BodySignMismatch:
		return "compute Body-Sign over the exact bytes written to the response, after serialising, with the access key"
	case simulator.ContentType:
		return "send Content-Type: application/json"
	case simulator.BodyParse:
		return `answer a JSON object whose resultCode is a string: {"resultCode":"000000","resultMsg":"success"}`
	case simulator.ResultCode:
		return "this call was signed correctly: verify V1 authToken over the URL-decoded parameters sorted by name, V2 signature over the exact body bytes (hex compared case-insensitively, timestamp in milliseconds, 60 s window); answer 000000 once handled"
	case simulator.MissingField:
		return "add the member the detail names (callbacks.md §5)"
	case simulator.FieldLength:
		return "shorten the member the detail names to its documented length"
	case simulator.NotReady:
		return "once provisioned, list the instance in queryInstance's info with appInfo.frontEndUrl"
	}
	return ""
}

// hintFor is the likely fix for a call's verdict, more precise where the
// answer shows the cause: a Body-Sign that matches the body only once
// re-serialised is the common bug of signing an object rather than the
// bytes written (callbacks.md §13).
func (w *world) hintFor(c *call) string {
	a := c.attempt
	if a.Verdict == simulator.BodySignMismatch {
		if how := reserialised(w.target.AccessKey, a.ResponseHeader.Get(protocol.BodySignHeaderName), a.ResponseBody); how != "" {
			return "your Body-Sign matches the body " + how + ", not the bytes you sent: sign the exact bytes you write, after serialising"
		}
	}
	return hint(a.Verdict)
}

// accepts reports whether the merchant accepted a call: HTTP 200 and
// resultCode 000000, or 000004 where it means "in progress".
func accepts(c *call) bool {
	if c.attempt.Error != "" || c.attempt.Status != 200 {
		return false
	}
	code := gjson.GetBytes(c.attempt.ResponseBody, "resultCode")
	return code.Type == gjson.String && (code.Str == codeSuccess ||
		code.Str == codeProcessing && (c.activity == "getLicenseAsync" || c.activity == "newInstance" && !strings.Contains(c.attempt.Method, "GET")))
}

func (w *world) lastCall() (*call, error) {
	if w.last == nil {
		return nil, fmt.Errorf("no call was made or looked at yet in this scenario")
	}
	return w.last, nil
}

// mustAccept checks the last crafted call, one the marketplace really
// sends, was acknowledged.
func (w *world) mustAccept(context.Context) error {
	c, err := w.lastCall()
	if err != nil {
		return err
	}
	if !c.attempt.Verdict.Failed() {
		return nil
	}
	return w.fail(c, "callbacks.md §8, §10", w.hintFor(c), "the merchant did not acknowledge a %s call the marketplace sends as it is: %s", c.activity, c.attempt.Verdict)
}

// mustRefuse checks the last call was refused: anything but an acceptance
// is a refusal (callbacks.md §13).
func (w *world) mustRefuse(context.Context) error {
	c, err := w.lastCall()
	if err != nil {
		return err
	}
	if !accepts(c) {
		return nil
	}
	return w.fail(c, "callbacks.md §3.2, §4.1, §4.2, §13", refusalHint(w.product.Protocol),
		"the merchant accepted a %s call it should have refused", c.activity)
}

func refusalHint(p simulator.Protocol) string {
	if p == simulator.V1 {
		return "recompute authToken from the parameters received and compare before acting; answer resultCode 000001 when it does not match"
	}
	return "recompute the signature from the exact body, timestamp and nonce, refuse timestamps more than 60 s from your clock, and answer 000001 before acting"
}

// mustRefuseWith checks the last call was refused in a well-formed answer
// (HTTP 200, JSON) with one of the documented codes.
func (w *world) mustRefuseWith(ctx context.Context, code, other string) error {
	c, err := w.lastCall()
	if err != nil {
		return err
	}
	codes := []string{code}
	if other != "" {
		codes = append(codes, other)
	}
	return w.answeredWith(c, codes, "refused ")
}

// answeredWith checks a call was answered HTTP 200 with a JSON resultCode
// among codes.
func (w *world) answeredWith(c *call, codes []string, what string) error {
	got := gjson.GetBytes(c.attempt.ResponseBody, "resultCode")
	if c.attempt.Error == "" && c.attempt.Status == 200 && got.Type == gjson.String && slices.Contains(codes, got.Str) {
		return nil
	}
	return w.fail(c, "callbacks.md §7", "answer HTTP 200 with a JSON body whose resultCode is the documented code: 000001 authentication failed, 000002 invalid parameter, 000003 instance does not exist",
		"the %s call was not %swith resultCode %s", c.activity, what, strings.Join(codes, " or "))
}

func (w *world) answersCallWith(_ context.Context, code, other string) error {
	c, err := w.lastCall()
	if err != nil {
		return err
	}
	return w.answeredWith(c, []string{code, other}, "answered ")
}

func (w *world) answersPurchaseWith(ctx context.Context, code, other string) error {
	m, err := w.lastPurchase(ctx)
	if err != nil {
		return err
	}
	as, err := w.store.Attempts(ctx, m.ID)
	if err != nil || len(as) == 0 {
		return w.fail(nil, "callbacks.md §9.2", "", "the purchase callback was never attempted (%v)", err)
	}
	c := &call{activity: m.Activity, attempt: as[0]}
	w.last = c
	if err := w.answeredWith(c, []string{code, other}, "answered "); err != nil {
		return err
	}
	return w.answerHas(ctx, "instanceId", 64)
}

func (w *world) callAnsweredWith(ctx context.Context, kind, code, other string) error {
	m, err := w.latestOf(ctx, kind)
	if err != nil {
		return err
	}
	c, err := w.lastAttempt(ctx, m)
	if err != nil || c == nil {
		return w.fail(nil, "callbacks.md §9.2", "", "the %s callback was never attempted (%v)", kind, err)
	}
	w.last = c
	return w.answeredWith(c, []string{code, other}, "answered ")
}

// answerHas checks a member of the last answer is a non-empty string of
// at most max characters.
func (w *world) answerHas(_ context.Context, path string, max int) error {
	c, err := w.lastCall()
	if err != nil {
		return err
	}
	v := gjson.GetBytes(c.attempt.ResponseBody, path)
	if n := utf8.RuneCountInString(v.Str); v.Type == gjson.String && n > 0 && n <= max {
		return nil
	}
	return w.fail(c, "callbacks.md §5.1, §5.8, §8", fmt.Sprintf("answer %s as a non-empty string of at most %d characters", path, max),
		"the %s answer's %s is not a non-empty string of at most %d characters: %s", c.activity, path, max, orAbsent(v))
}

func orAbsent(v gjson.Result) string {
	if !v.Exists() {
		return "absent"
	}
	return v.Raw
}

// previous returns the call a comparison is against: the last attempt at
// the last callback of a kind, or the crafted call before the last.
func (w *world) previous(ctx context.Context, what string) (*call, error) {
	if what == "previous answer" {
		if len(w.crafted) < 2 {
			return nil, fmt.Errorf("there is no previous answer to compare with")
		}
		return w.crafted[len(w.crafted)-2], nil
	}
	kind := strings.TrimSuffix(what, " call")
	if kind == "purchase" {
		m, err := w.lastPurchase(ctx)
		if err != nil {
			return nil, err
		}
		return w.lastAttempt(ctx, m)
	}
	m, err := w.latestOf(ctx, kind)
	if err != nil {
		return nil, err
	}
	return w.lastAttempt(ctx, m)
}

// sameAs checks a member of the last answer equals (or differs from) the
// same member of an earlier answer.
func (w *world) sameAs(ctx context.Context, path, relation, what string) error {
	c, err := w.lastCall()
	if err != nil {
		return err
	}
	before, err := w.previous(ctx, what)
	if err != nil || before == nil {
		return fmt.Errorf("no %s to compare with: %v", what, err)
	}
	now, then := gjson.GetBytes(c.attempt.ResponseBody, path), gjson.GetBytes(before.attempt.ResponseBody, path)
	if !then.Exists() && gjson.GetBytes(before.attempt.ResponseBody, "resultCode").Str == codeProcessing {
		return nil // answered 000004: what it names comes later, nothing to compare
	}
	if relation == "is the same as" {
		if now.Type == gjson.String && now.Str != "" && now.Str == then.Str {
			return nil
		}
		return w.fail(c, "callbacks.md §10", sameHint(path),
			"the answer's %s is %s, not the %s's %s", path, orAbsent(now), what, orAbsent(then))
	}
	if now.Type == gjson.String && now.Str != "" && now.Str != then.Str {
		return nil
	}
	return w.fail(c, "callbacks.md §2.2, §10", "different orders, and an on-demand order's different specifications, must never share an instanceId",
		"the answer's %s is %s, the same as the %s's", path, orAbsent(now), what)
}

func sameHint(path string) string {
	if path == "license" {
		return "store the License per order (and per eventId with deviceFingerprint) and return it again"
	}
	return "store the instanceId per order (V1 orderId, on-demand orderId + productId, V2 orderId + orderLineId) and return it again instead of creating a new instance"
}

// instanceIDsDiffer checks the two purchases were answered with different
// instanceIds.
func (w *world) instanceIDsDiffer(ctx context.Context) error {
	if len(w.purchases) < 2 {
		return fmt.Errorf("the scenario has fewer than two purchases")
	}
	var calls []*call
	for i := range w.purchases[len(w.purchases)-2:] {
		m, err := w.purchaseMessage(ctx, &w.purchases[len(w.purchases)-2+i])
		if err != nil {
			return err
		}
		c, err := w.lastAttempt(ctx, m)
		if err != nil || c == nil {
			return fmt.Errorf("purchase of order %s was not attempted: %v", m.OrderID, err)
		}
		calls = append(calls, c)
	}
	if v := calls[1].attempt.Verdict; v.Failed() {
		return w.fail(calls[1], "callbacks.md §5.1, §5.8, §8", w.hintFor(calls[1]), "the second purchase was not acknowledged: %s", v)
	}
	first, second := gjson.GetBytes(calls[0].attempt.ResponseBody, "instanceId"), gjson.GetBytes(calls[1].attempt.ResponseBody, "instanceId")
	if second.Str != "" && second.Str != first.Str {
		return nil
	}
	return w.fail(calls[1], "callbacks.md §10", "create a new instance, with a new instanceId, for every new order (recommended: the businessId of its first request)",
		"two different orders got the same instanceId %s", orAbsent(second))
}

// queryEntry returns the info entry of the last purchase's instance in the
// last answer.
func (w *world) queryEntry() (*call, gjson.Result, error) {
	c, err := w.lastCall()
	if err != nil {
		return nil, gjson.Result{}, err
	}
	p, err := w.latest()
	if err != nil {
		return nil, gjson.Result{}, err
	}
	var entry gjson.Result
	gjson.GetBytes(c.attempt.ResponseBody, "info").ForEach(func(_, v gjson.Result) bool {
		if v.Get("instanceId").String() == p.instanceID {
			entry = v
		}
		return !entry.Exists()
	})
	if !entry.Exists() {
		return c, entry, w.fail(c, "callbacks.md §5.9", "list each instance asked for in info[], with its instanceId",
			"the %s answer has no info entry for instance %q", c.activity, p.instanceID)
	}
	return c, entry, nil
}

func (w *world) listsInstanceWith(_ context.Context, path string) error {
	c, entry, err := w.queryEntry()
	if err != nil {
		return err
	}
	if entry.Get(path).String() != "" {
		return nil
	}
	return w.fail(c, "callbacks.md §5.9", "give the instance's "+path+" in its info entry", "the info entry of the instance has no %s", path)
}

// listsUsage checks the instance's entry reports its usage, each entry
// with usageValue and statisticalTime (callbacks.md §2.2, §5.9).
func (w *world) listsUsage(context.Context) error {
	c, entry, err := w.queryEntry()
	if err != nil {
		return err
	}
	usage := entry.Get("usageInfo").Array()
	ok := len(usage) > 0
	for _, u := range usage {
		ok = ok && u.Get("usageValue").Exists() && u.Get("statisticalTime").String() != ""
	}
	if ok {
		return nil
	}
	return w.fail(c, "callbacks.md §2.2, §5.9", "on-demand and package products must report usage: usageInfo entries with usageValue and statisticalTime (yyyyMMddHHmmssSSS)",
		"the info entry of the instance reports no usage")
}

// stateAgrees queries the instance and, where the answer reports a state,
// checks it says what the marketplace did. The docs define no state
// member in queryInstance, so an answer without one passes; so does a
// product whose queryInstance is optional and fails.
func (w *world) stateAgrees(ctx context.Context, want string) error {
	if err := w.opensDetails(ctx); err != nil {
		return err
	}
	m, err := w.latestOf(ctx, "query")
	if err != nil {
		return err
	}
	c, err := w.lastAttempt(ctx, m)
	if err != nil || c == nil || c.attempt.Verdict.Failed() {
		return err // not judged here: the resource details scenarios are
	}
	w.last = c
	_, entry, err := w.queryEntry()
	if err != nil {
		return nil
	}
	for _, name := range []string{"status", "state", "instanceStatus"} {
		v := strings.ToUpper(entry.Get(name).String())
		frozen := slices.Contains([]string{"FREEZE", "FROZEN", "FREEZED"}, v)
		inUse := slices.Contains([]string{"NORMAL", "UNFREEZE", "UNFROZEN", "ACTIVE", "RUNNING"}, v)
		if frozen && want != "frozen" || inUse && want == "frozen" {
			return w.fail(c, "callbacks.md §5.6, §5.9, §5.11", "apply updateInstanceStatus/instanceStatus to the instance and report its current state",
				"the merchant reports the instance's %s as %q, but the marketplace has it %s", name, entry.Get(name).String(), want)
		}
	}
	return nil
}

// orderState checks the last order placed is settled as the marketplace
// settles it once its callback is acknowledged, or has failed for good.
func (w *world) orderState(ctx context.Context, state string) error {
	if w.lastOrder == "" {
		return fmt.Errorf("the scenario placed no order yet")
	}
	o, err := w.store.Order(ctx, w.lastOrder)
	if err != nil {
		return err
	}
	want := simulator.OrderCompleted
	if strings.Contains(state, "failed") {
		want = simulator.OrderFailedUnsubscribed
	}
	if o.State == want {
		return nil
	}
	ms, err := w.store.Messages(ctx, simulator.MessageFilter{OrderID: o.ID})
	if err != nil || len(ms) == 0 {
		return w.fail(nil, "callbacks.md §9.2", "", "order %s is %s, not %s, and no callback names it (%v)", o.ID, o.State, want, err)
	}
	c, err := w.lastAttempt(ctx, ms[len(ms)-1])
	if err != nil || c == nil {
		return w.fail(nil, "callbacks.md §9.2", "", "order %s is %s, not %s; its %s callback was not attempted (%v)", o.ID, o.State, want, ms[len(ms)-1].Activity, err)
	}
	return w.fail(c, "callbacks.md §9.2", w.hintFor(c), "order %s is %s, not %s", o.ID, o.State, want)
}

// purchaseAttempts checks how often the purchase callback was tried and
// when the last try was, counted from the first.
func (w *world) purchaseAttempts(ctx context.Context, n, hours int) error {
	m, err := w.lastPurchase(ctx)
	if err != nil {
		return err
	}
	c, err := w.lastAttempt(ctx, m)
	if err != nil || c == nil {
		return fmt.Errorf("the purchase was never attempted: %v", err)
	}
	// The proxy saw each attempt arrive, on the scheduling clock.
	seen := w.proxy.sightings(m.Activity)
	if len(seen) == n && seen[n-1].Sub(seen[0]) == time.Duration(hours)*time.Hour {
		return nil
	}
	var after []string
	for _, at := range seen {
		after = append(after, "+"+at.Sub(seen[0]).String())
	}
	return w.fail(c, "callbacks.md §9.2", "", "the purchase callback arrived %d times (at %s), want %d, the last %d hours after the first",
		len(seen), strings.Join(after, ", "), n, hours)
}

// notices checks the failure notices of the purchase callback: one per
// failed attempt, and the final one when the order failed.
func (w *world) noticesPerAttempt(ctx context.Context, n int) error {
	m, notices, err := w.purchaseNotices(ctx)
	if err != nil {
		return err
	}
	count := 0
	for _, x := range notices {
		if x.Kind == simulator.NoticeAttemptFailed {
			count++
		}
	}
	if count == n {
		return nil
	}
	return w.fail(nil, "callbacks.md §9.1, §12", "", "the %s callback raised %d failure notices for failed attempts, want %d", m.Activity, count, n)
}

func (w *world) finalNotice(ctx context.Context, outcome string, attempts int) error {
	m, notices, err := w.purchaseNotices(ctx)
	if err != nil {
		return err
	}
	for _, x := range notices {
		rec := gjson.ParseBytes(x.Record)
		if x.Kind == simulator.NoticeFinal && rec.Get("outcome").Str == outcome && rec.Get("attempts.#").Int() == int64(attempts) {
			return nil
		}
	}
	return w.fail(nil, "callbacks.md §9.2, §12", "", "no final failure notice of the %s callback says %s after %d attempts (%d notices)", m.Activity, outcome, attempts, len(notices))
}

func (w *world) purchaseNotices(ctx context.Context) (simulator.Message, []simulator.Notice, error) {
	m, err := w.lastPurchase(ctx)
	if err != nil {
		return m, nil, err
	}
	notices, err := w.store.Notices(ctx, simulator.NoticeFilter{MessageID: m.ID})
	return m, notices, err
}

// asyncFinished checks that after a 000004 answer the polls got the
// instance's access data within 3 hours. A purchase answered at once
// passes: nothing was asynchronous.
func (w *world) asyncFinished(ctx context.Context) error {
	p, err := w.latest()
	if err != nil {
		return err
	}
	return w.provisioned(ctx, p)
}
