package steps

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/kgsim/kgsim/simulator/delivery"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/tidwall/gjson"
)

// What the scenarios check. Each failure names the check, shows the call
// it is about, the spec section and a hint at the fix (failure.go).

// Result codes the checks name (callbacks.md §7).
const (
	codeSuccess      = "000000"
	codeAuthFailed   = "000001"
	codeBadParameter = "000002"
	codeNoInstance   = "000003"
	codeProcessing   = "000004"
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
		f := w.fail(c, "callbacks.md §10", "rule: every order has an instanceId of its own (§10): give each order one (recommended: the businessId of the order's first request), never an empty one",
			"the purchase was answered, but with an instanceId the marketplace cannot use (%q: empty, or already another order's): order %s is %s", id, o.ID, o.State).(*failure)
		f.cause = "the merchant answers purchases with an instanceId the marketplace cannot use (empty, or another order's)"
		return f
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
		return w.fail(nil, "callbacks.md §9.2", "rule: the callbacks of an instance go one at a time (§9.2): an earlier callback about the instance is still being retried; fix that one first",
			"the %s callback (%s) was not sent: the callbacks of an instance go one at a time", kind, m.Activity)
	case m.Outcome == simulator.Succeeded || m.Outcome == simulator.SucceededAfterRestart:
		return nil
	case c.attempt.Verdict == simulator.Refused:
		return w.fail(c, specOf(kind), "rule: a renewal that changes the specification is allowed with 000000 (§5.14) unless the merchant cannot serve the new one (say, a quantity below what the instance uses): look the instance up and refuse only such a change",
			"the merchant refused a change of specification of an instance it has: %s", c.attempt.Verdict)
	}
	return w.fail(c, specOf(kind), w.hintFor(c), "the merchant did not acknowledge the %s callback (%s): %s", kind, m.Activity, c.attempt.Verdict)
}

// specOf is the spec section of a kind of callback: its calls' rows.
func specOf(kind string) string {
	var events []activity.Event
	switch kind {
	case "renewal", "conversion":
		events = []activity.Event{activity.Renewal}
	case "freeze", "unfreeze":
		events = []activity.Event{activity.Expiry, activity.StatusChange}
	case "upgrade":
		events = []activity.Event{activity.UpgradeEvent}
	case "release":
		events = []activity.Event{activity.Release}
	case "query":
		events = []activity.Event{activity.Query}
	case "License":
		return activity.Sections(func(s activity.Spec) bool { return s.Name == activity.GetLicense || s.Name == activity.GetLicenseAsync })
	case "change check":
		events = []activity.Event{activity.ChangeCheck}
	default:
		return "callbacks.md §5"
	}
	return activity.Sections(func(s activity.Spec) bool { return slices.Contains(events, s.Event) })
}

// hint is the likely fix for a verdict, after the rule it is about
// (callbacks.md §8). A RESULT_CODE's depends on the code: hintFor.
func hint(v simulator.Verdict) string {
	switch v {
	case simulator.Unreachable:
		return "rule: the production interface answers (§8 row 1): the marketplace could not connect; check the URL, that the service listens there and, with https, its certificate"
	case simulator.Timeout:
		return "rule: an answer within 20 s (§8 row 2; 5 s recommended): do slow work in the background (V2 newInstance may answer 000004)"
	case simulator.HTTPStatus:
		return "rule: every answer is HTTP 200, its outcome in resultCode (§7, §8 row 3): the production interface must take this activity at this URL; redirects are not followed"
	case simulator.BodySignMissing:
		return `rule: a V1 answer carries Body-Sign (§3.4): add the header Body-Sign: sign_type="HMAC-SHA256", signature="<Base64 of HMAC-SHA256 over the body bytes, keyed with the access key>"`
	case simulator.BodySignMismatch:
		return "rule: Body-Sign covers the exact bytes of the body (§3.4): compute it over the bytes written to the response, after serialising, with the access key"
	case simulator.ContentType:
		return "rule: answers are declared application/json (§8 row 5): send Content-Type: application/json"
	case simulator.BodyParse:
		return `rule: the answer is a JSON object with a string resultCode (§8 row 6): {"resultCode":"000000","resultMsg":"success"}`
	case simulator.MissingField:
		return "rule: the answer has the members the marketplace requires (§8 row 8): add the member the detail names (§5)"
	case simulator.FieldLength:
		return "rule: members within their documented lengths (§8 row 9): shorten the member the detail names"
	case simulator.NotReady:
		return "rule: after 000004, queryInstance lists the instance once provisioned (§10.1): list it in info[] with appInfo.frontEndUrl"
	}
	return ""
}

// codeMeaning is what a result code says (callbacks.md §7).
func codeMeaning(code string) string {
	switch code {
	case codeSuccess:
		return "success"
	case codeAuthFailed:
		return "authentication failed"
	case codeBadParameter:
		return "invalid parameter"
	case codeNoInstance:
		return "the instance does not exist"
	case codeProcessing:
		return "in progress"
	case "000005":
		return "internal error"
	}
	return "a business refusal"
}

// resultCodeHint is the likely fix for a call the marketplace sent as it
// is and the merchant refused: chosen by the code it answered.
func (w *world) resultCodeHint(c *call) string {
	code := resultCodeOf(c.attempt)
	switch code {
	case codeAuthFailed:
		if w.product.Protocol == simulator.V1 {
			return "rule: a call the marketplace signed is accepted (§3.2): the merchant answered 000001 (authentication failed) to a correctly signed call; compute authToken over the URL-decoded parameters but authToken, sorted by name, keyed with accessKey + timeStamp, without trimming values (kgsim verify v1 shows each step)"
		}
		return "rule: a call the marketplace signed is accepted (§4.1, §4.2): the merchant answered 000001 (authentication failed) to a correctly signed call; verify the signature over the exact body bytes, hex compared without case, timestamp in milliseconds within 60 s (kgsim verify v2 shows each step)"
	case codeBadParameter:
		return fmt.Sprintf("rule: the merchant takes every call of the activities its product needs, with their documented parameters (§2.1, §5): it answered %s 000002 (invalid parameter); its resultMsg names the parameter it refused, or says it does not know the activity: implement %s", c.activity, c.activity)
	case codeNoInstance:
		return "rule: a call about an instance the merchant acknowledged finds it by the instanceId it answered (§10): it answered 000003 (the instance does not exist); keep each instance under the instanceId of its purchase answer, and keep a released instance's record: a repeated release succeeds (§5.4, §10 c)"
	case codeProcessing:
		return "rule: 000004 (in progress) is accepted only from V2 newInstance and getLicenseAsync (§7): finish the work before answering, or answer 000000 and finish in the background"
	}
	return fmt.Sprintf("rule: a call the marketplace sends as it is succeeds with 000000 (§7): the merchant answered %s (%s); its resultMsg and logs say why", code, codeMeaning(code))
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
	if a.Verdict == simulator.ResultCode {
		return w.resultCodeHint(c)
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
	return code.Type == gjson.String && (code.Str == codeSuccess || code.Str == codeProcessing && c.spec().Async != activity.NotAsync)
}

// spec is the row of a call's activity. The method tells the protocol:
// V1 calls are GETs (callbacks.md §3.1), V2 calls and kit syncs POSTs.
func (c *call) spec() activity.Spec {
	if strings.Contains(c.attempt.Method, "GET") {
		s, _ := activity.Lookup(simulator.V1, c.activity)
		return s
	}
	if s, ok := activity.Lookup(simulator.V2, c.activity); ok {
		return s
	}
	s, _ := activity.Lookup(simulator.Kit, c.activity)
	return s
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
func (w *world) mustRefuse(ctx context.Context) error {
	c, err := w.lastCall()
	if err != nil {
		return err
	}
	if !accepts(c) {
		if err := w.readableRefusal(c); err != nil {
			return err
		}
		return w.controlled(ctx)
	}
	spec, fix := w.lastCraft.rule(w.product.Protocol)
	return w.fail(c, spec, fix, "the merchant accepted a %s call it should have refused", c.activity)
}

// readableRefusal checks a call about an instance the merchant never
// created was refused in an answer the marketplace reads: HTTP 200 and a
// JSON resultCode other than 000000. An HTTP 404 or 501, or a page of
// HTML, says the interface is not there, not that the instance is not.
func (w *world) readableRefusal(c *call) error {
	// A changeInstanceCheck's refusal is a business answer: REFUSED.
	if !w.lastCraft.unknown || c.attempt.Verdict == simulator.ResultCode || c.attempt.Verdict == simulator.Refused {
		return nil
	}
	return w.fail(c, "callbacks.md §7, §8", w.hintFor(c),
		"the merchant answered a %s about an instance it never created with %s: that refuses nothing; a refusal is an answer the marketplace reads (HTTP 200, a JSON resultCode), 000003 here",
		c.activity, c.attempt.Verdict)
}

// controlled checks the merchant accepts the call a refusal check
// tampered with, as the marketplace sends it: a merchant that refuses
// every call refuses a forged one too, which shows nothing. nil when it
// accepts it, or already accepted a call of that activity in the scenario;
// else the check is blocked by the cause of that refusal.
func (w *world) controlled(ctx context.Context) error {
	cr := w.lastCraft
	if !cr.tampered() {
		return nil
	}
	calls, err := w.attempts(ctx)
	if err != nil {
		return err
	}
	for i := range calls {
		if calls[i].activity == cr.activity && accepts(&calls[i]) {
			return nil
		}
	}
	twin := craft{activity: cr.activity, params: cr.params}
	if _, ok := lookup(twin.params, "businessId"); ok {
		twin.params = with(twin.params, "businessId", newID())
	}
	if spec, _ := activity.Lookup(cmp.Or(cr.protocol, w.product.Protocol), cr.activity); spec.Event == activity.Purchase {
		twin.params = forNewOrder(twin.params, w.clock.Now())
		if err := w.recordCrafted(ctx, twin.params); err != nil {
			return err
		}
	}
	// The control is not "the call" of the steps after this one.
	last, lastCraft, lastRequest := w.last, w.lastCraft, w.lastRequest
	c, err := w.send(ctx, twin)
	w.last, w.lastCraft, w.lastRequest = last, lastCraft, lastRequest
	if err != nil || accepts(c) {
		return err
	}
	f := w.fail(c, "callbacks.md §13", w.hintFor(c),
		"the merchant refused the %s call sent as the marketplace sends it, too: its refusal of the altered one shows nothing until it accepts that one", c.activity).(*failure)
	f.blocked = true
	return f
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
	spec, fix := w.lastCraft.rule(w.product.Protocol)
	if err := w.answeredWith(c, codes, "refused ", spec, fix); err != nil {
		return err
	}
	return w.controlled(ctx)
}

// answeredWith checks a call was answered HTTP 200 with a JSON resultCode
// among codes. Its hint is chosen by what the merchant answered: the rule
// (spec, fix) the codes are about when it accepted the call, the code's
// meaning when it answered another, the format when it answered none.
func (w *world) answeredWith(c *call, codes []string, what, spec, fix string) error {
	got := gjson.GetBytes(c.attempt.ResponseBody, "resultCode")
	if c.attempt.Error == "" && c.attempt.Status == 200 && got.Type == gjson.String && slices.Contains(codes, got.Str) {
		return nil
	}
	var want []string
	for _, code := range codes {
		want = append(want, code+" ("+codeMeaning(code)+")")
	}
	switch {
	case c.attempt.Verdict.Failed() && c.attempt.Verdict != simulator.ResultCode:
		fix = w.hintFor(c)
	case got.Str != codeSuccess:
		fix = fmt.Sprintf("rule: the documented code for this call is %s (§7): the merchant answered %s (%s)", strings.Join(want, " or "), got.Str, codeMeaning(got.Str))
	}
	f := w.fail(c, "callbacks.md §7; "+spec, fix, "the %s call was not %swith resultCode %s", c.activity, what, strings.Join(codes, " or ")).(*failure)
	f.wants = codes
	return f
}

func (w *world) answersCallWith(_ context.Context, code, other string) error {
	c, err := w.lastCall()
	if err != nil {
		return err
	}
	spec, fix := w.lastCraft.rule(w.product.Protocol)
	return w.answeredWith(c, []string{code, other}, "answered ", spec, fix)
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
	if err := w.answeredWith(c, []string{code, other}, "answered ", "callbacks.md §2.4, §5.8", "rule: V2 newInstance is answered 000000 (provisioned) or 000004 (provisioning in the background) with its instanceId (§5.8)"); err != nil {
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
	return w.answeredWith(c, []string{code, other}, "answered ", specOf(kind), "rule: this call is answered with one of the codes its activity documents (§5)")
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
	return w.fail(c, "callbacks.md §5.1, §5.8, §8", fmt.Sprintf("rule: the answer's %s is a non-empty string of at most %d characters (§5, §8 rows 8, 9)", path, max),
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
	return w.fail(c, "callbacks.md §2.2, §10", "rule: different orders, and an on-demand order's different specifications, never share an instanceId (§2.2, §10): key instances on orderId + productId (V1 on-demand) or orderId + orderLineId (V2)",
		"the answer's %s is %s, the same as the %s's", path, orAbsent(now), what)
}

func sameHint(path string) string {
	if path == "license" {
		return "rule: the same License request gets the same License (§5.16, §5.17, §10): store the License per order (and per eventId with deviceFingerprint) and return it again"
	}
	return "rule: a purchase sent again returns the same instance (§10 a): store the instanceId per order (V1 orderId, on-demand orderId + productId, V2 orderId + orderLineId) and return it again instead of creating a new instance"
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
	return w.fail(calls[1], "callbacks.md §10", "rule: different orders get different instances (§10 b): create a new instance, with a new instanceId, for every new order (recommended: the businessId of its first request)",
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
	// kgsim replay judges the answer by the same rule.
	if len(delivery.Unlisted(p.instanceID, c.attempt.ResponseBody)) > 0 {
		f := w.fail(c, "callbacks.md §5.9", "rule: queryInstance lists each instance asked for in info[] (§5.9), or the buyer's resource details show nothing: add an info entry with its instanceId and appInfo",
			"the %s answer has no info entry for instance %q", c.activity, p.instanceID).(*failure)
		f.cause = "the merchant's queryInstance answer does not list the instance asked for in info[]"
		return c, entry, f
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
	return w.fail(c, "callbacks.md §5.9", "rule: the buyer's resource details show the instance's access data (§5.9): give the instance's "+path+" in its info entry", "the info entry of the instance has no %s", path)
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
	return w.fail(c, "callbacks.md §2.2, §5.9", "rule: on-demand and package products report usage in queryInstance (§2.2, §5.9): usageInfo entries with usageValue and statisticalTime (yyyyMMddHHmmssSSS)",
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
			return w.fail(c, "callbacks.md §5.6, §5.9, §5.11", "rule: a state the merchant reports is the one the marketplace set (§5.6, §5.11): apply updateInstanceStatus/instanceStatus to the instance and report its current state",
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
	seen := w.proxy.sightings(m.Activity, m.OrderID)
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
