package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/delivery"
	"github.com/kgsim/kgsim/simulator/notice"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/tidwall/gjson"
)

func replayCommand() *command {
	return &command{
		name:    "replay",
		summary: "reproduce a failed callback: rebuild, re-sign and resend it, and compare",
		help: `Usage: kgsim replay --notice FILE --access-key KEY [--merchant-url URL]
       kgsim replay --url URL --protocol v1|v2 --activity ACTIVITY --access-key KEY
                    [--order ID] [--order-line ID] [--instance ID] [--product ID]
                    [--customer ID] [--sku CODE] [--param NAME=VALUE]... [--merchant-url URL]
       [--timeout DURATION] [--require-body-sign] [--width COLUMNS]

Rebuilds a callback the marketplace made with its original parameters,
signs it again now (a new timeStamp, or timestamp and nonce; a new
businessId for a purchase, as every real retry has), sends it, judges the
answer exactly as the marketplace does, and shows the original attempt and
the new one side by side (one after the other on a narrow terminal).

  --notice        a failure notice: the e-mail kgsim sends (as saved from a
                  mail client, .eml) or its call-record.json attachment; a
                  dial-test notice replays each probe that failed
  --url           without --notice: the production URL the call went to
  --protocol      v1 or v2 (with --url)
  --activity      newInstance, refreshInstance, releaseInstance ... (with --url)
  --order ...     the ids a real failure e-mail gives (orderId, orderLineId,
                  instanceId, productId, customerId, skuCode)
  --param         any other parameter, NAME=VALUE (V2: a JSON object or
                  array value is sent as JSON); repeatable
  --access-key    the production interface's key (never printed)
  --merchant-url  send to this URL instead (a local build of the service)
  --timeout       the limit for the answer (default 20s, as the marketplace)
  --require-body-sign  a V2 answer without Body-Sign fails (the product's
                  v2RequireBodySign setting)
  --width         terminal columns (default $COLUMNS, else 100); side by
                  side from 120

Exit status: 0 the new attempt succeeds; 1 it fails; 2 it could not run.

Example:
  kgsim replay --notice failure.eml --access-key "$KEY" --merchant-url http://127.0.0.1:8081/produce
  kgsim replay --url https://isv.example.com/produce --protocol v2 --activity releaseInstance \
      --instance i-42 --order CS2501151003ABCDE --access-key "$KEY"`,
		run: runReplay,
	}
}

// replayConfig is kgsim replay's command line, checked.
type replayConfig struct {
	key, merchantURL string
	timeout          time.Duration
	requireBodySign  bool
	width            int
	calls            []replayCall
}

// replayCall is one callback to rebuild: its parameters without their old
// signature, and the attempt that failed, if known.
type replayCall struct {
	label              string // what the call was, for the heading
	protocol           simulator.Protocol
	kind, activity     string
	productURL, polled string
	method             string // as recorded
	params             []byte // a JSON object: V2's body, V1's query parameters
	original           *notice.AttemptRecord
	redacted           bool // the record's bytes had the key replaced
}

func parseReplay(args []string) (replayConfig, error) {
	f := newFlags()
	noticeFile := f.string("notice", "FILE (the notice e-mail or its call-record.json)", "failure notice")
	key := f.string("access-key", "KEY", "access key")
	merchantURL := f.string("merchant-url", "URL", "send here instead")
	timeout := f.string("timeout", "DURATION (e.g. 20s)", "answer time limit")
	width := f.string("width", "COLUMNS", "terminal width")
	requireBodySign := f.fs.Bool("require-body-sign", false, "V2 answers must carry Body-Sign")
	productURL := f.string("url", "URL (the production URL)", "production URL")
	proto := f.string("protocol", "v1|v2", "protocol")
	activity := f.string("activity", "ACTIVITY (e.g. newInstance)", "activity")
	ids := map[string]*string{}
	for _, id := range idFlags() {
		ids[id.flag] = f.string(id.flag, "ID", id.param)
	}
	params := f.list("param", "NAME=VALUE", "parameter")
	if _, err := f.parse(args, 0, ""); err != nil {
		return replayConfig{}, err
	}
	c := replayConfig{key: *key, merchantURL: *merchantURL, requireBodySign: *requireBodySign, width: 100}
	if cols, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && cols > 0 {
		c.width = cols
	}
	if *width != "" {
		n, err := strconv.Atoi(*width)
		if err != nil || n < 40 {
			return c, simulator.Errorf(simulator.EINVALID, "--width", "%q: want a number of columns, 40 or more", *width)
		}
		c.width = n
	}
	var err error
	if c.timeout, err = parseTimeout(*timeout, delivery.DefaultTimeout); err != nil {
		return c, err
	}
	if *merchantURL != "" && !absoluteHTTP(*merchantURL) {
		return c, simulator.Errorf(simulator.EINVALID, "--merchant-url", "%q: want an absolute http(s) URL such as http://127.0.0.1:8081/produce", *merchantURL)
	}
	if *noticeFile == "" && *productURL == "" {
		return c, simulator.Errorf(simulator.EINVALID, "--notice", "required; want --notice FILE, or --url URL --protocol v1|v2 --activity ACTIVITY and the call's ids")
	}
	if err := f.need("access-key", *key); err != nil {
		return c, err
	}
	switch {
	case *noticeFile != "" && *productURL != "":
		return c, simulator.Errorf(simulator.EINVALID, "--url", "give either --notice or --url with the call's ids, not both")
	case *noticeFile != "":
		for _, name := range []string{"protocol", "activity", "param"} {
			if f.given(name) {
				return c, simulator.Errorf(simulator.EINVALID, "--"+name, "only with --url: a notice's record has the call's parameters")
			}
		}
		for name, v := range ids {
			if *v != "" {
				return c, simulator.Errorf(simulator.EINVALID, "--"+name, "only with --url: a notice's record has the call's parameters")
			}
		}
		calls, err := callsFromNotice(*noticeFile)
		if err != nil {
			return c, err
		}
		c.calls = calls
	case *productURL != "":
		call, err := callFromIDs(*productURL, *proto, *activity, ids, *params)
		if err != nil {
			return c, err
		}
		c.calls = []replayCall{call}
	}
	return c, nil
}

// callsFromNotice reads a notice e-mail or call record: one call, or each
// failed probe of a dial-test run.
func callsFromNotice(path string) ([]replayCall, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, simulator.Errorf(simulator.EINVALID, "--notice", "cannot read %s: %v", path, err)
	}
	defer f.Close()
	data, err := notice.Parse(f)
	if err != nil {
		return nil, simulator.Errorf(simulator.EINVALID, "--notice", "%s: %v", path, err)
	}
	var records []notice.CallRecord
	if gjson.GetBytes(data, "runId").Exists() {
		var run notice.DialRunRecord
		if err := json.Unmarshal(data, &run); err != nil {
			return nil, simulator.Errorf(simulator.EINVALID, "--notice", "%s: the dial-test record does not read: %v", path, err)
		}
		for _, c := range run.Calls {
			if n := len(c.Attempts); n > 0 && simulator.Verdict(c.Attempts[n-1].Verdict).Failed() {
				records = append(records, c)
			}
		}
		if len(records) == 0 {
			return nil, simulator.Errorf(simulator.EINVALID, "--notice", "%s: no probe of dial-test run %s failed: nothing to reproduce", path, run.RunID)
		}
	} else {
		var rec notice.CallRecord
		if err := json.Unmarshal(data, &rec); err != nil {
			return nil, simulator.Errorf(simulator.EINVALID, "--notice", "%s: the call record does not read: %v", path, err)
		}
		records = append(records, rec)
	}
	var calls []replayCall
	for _, rec := range records {
		c, err := callFromRecord(rec)
		if err != nil {
			return nil, simulator.Errorf(simulator.EINVALID, "--notice", "%s: call %s: %v", path, rec.CallID, err)
		}
		calls = append(calls, c)
	}
	return calls, nil
}

// callFromRecord takes the parameters of a record's last attempt: the
// body (V2) or the query (V1) as sent, without the signature, timeStamp
// and the production URL's own parameters.
func callFromRecord(rec notice.CallRecord) (replayCall, error) {
	p, err := parseProtocolName(rec.Protocol)
	if err != nil {
		return replayCall{}, err
	}
	if len(rec.Attempts) == 0 {
		return replayCall{}, fmt.Errorf("the record has no attempt, so no parameters to send again")
	}
	last := rec.Attempts[len(rec.Attempts)-1]
	c := replayCall{
		protocol: p, kind: rec.Kind, activity: rec.Activity, productURL: rec.URL, method: rec.Method, original: &last, redacted: rec.Redacted,
		label: fmt.Sprintf("%s %s, call %s%s", strings.ToUpper(string(p)), rec.Activity, rec.CallID, idsText(rec.OrderID, rec.InstanceID)),
	}
	if rec.Kind == simulator.KindPoll {
		c.polled = rec.InstanceID
	}
	if p == simulator.V2 {
		body, err := last.Request.BodyBytes()
		if err != nil || !gjson.ValidBytes(body) || !gjson.ParseBytes(body).IsObject() {
			return c, fmt.Errorf("attempt %d's request body is not a JSON object", last.N)
		}
		c.params = body
		return c, nil
	}
	sent, err := url.Parse(last.Request.FullURL)
	if err != nil {
		return c, fmt.Errorf("attempt %d's URL does not parse: %v", last.N, err)
	}
	all, err := protocol.ParseV1Query(sent.RawQuery)
	if err != nil {
		return c, fmt.Errorf("attempt %d's query: %v", last.N, err)
	}
	var fixed []protocol.Param
	if u, err := url.Parse(rec.URL); err == nil {
		fixed, _ = protocol.ParseV1Query(u.RawQuery)
	}
	obj := map[string]string{}
	for _, q := range all {
		if q.Name == protocol.V1AuthToken || q.Name == protocol.V1TimeStamp || slices.ContainsFunc(fixed, func(f protocol.Param) bool { return f.Name == q.Name }) {
			continue
		}
		obj[q.Name] = q.Value
	}
	c.params, _ = json.Marshal(obj) // strings always marshal
	return c, nil
}

// idsText names a call's order and instance, for its heading.
func idsText(order, instance string) string {
	var s string
	if order != "" {
		s += ", order " + order
	}
	if instance != "" {
		s += ", instance " + instance
	}
	return s
}

func parseProtocolName(v string) (simulator.Protocol, error) {
	switch strings.ToLower(v) {
	case "v1":
		return simulator.V1, nil
	case "v2":
		return simulator.V2, nil
	}
	return "", fmt.Errorf("protocol %q is neither V1 nor V2", v)
}

// idFlag is a flag giving one id of a failure e-mail, and its parameter.
type idFlag struct{ flag, param string }

func idFlags() []idFlag {
	return []idFlag{
		{"order", "orderId"}, {"order-line", "orderLineId"}, {"instance", "instanceId"},
		{"product", "productId"}, {"customer", "customerId"}, {"sku", "skuCode"},
	}
}

// activityParams returns an activity's mandatory parameters (besides
// activity, businessId, and the signature's) and its spec section
// (callbacks.md §5).
func activityParams(p simulator.Protocol, activity string) (required []string, section string, ok bool) {
	if p == simulator.V1 {
		switch activity {
		case "newInstance":
			return []string{"customerId", "orderId", "productId"}, "5.1", true
		case "refreshInstance":
			return []string{"orderId", "instanceId", "expireTime"}, "5.2", true
		case "expireInstance":
			return []string{"instanceId", "orderId"}, "5.3", true
		case "releaseInstance":
			return []string{"instanceId", "orderId"}, "5.4", true
		case "upgrade":
			return []string{"instanceId", "orderId", "skuCode", "productId"}, "5.5", true
		case "instanceStatus":
			return []string{"instanceId", "instanceStatus"}, "5.6", true
		case "queryInstance":
			return []string{"instanceId"}, "5.7", true
		case "getLicense":
			return []string{"customerId", "orderId"}, "5.16", true
		}
		return nil, "", false
	}
	switch activity {
	case "newInstance":
		return []string{"orderId", "orderLineId"}, "5.8", true
	case "queryInstance":
		return []string{"instanceId"}, "5.9", true
	case "refreshInstance":
		return []string{"scene", "orderId", "orderLineId", "instanceId", "expireTime"}, "5.10", true
	case "updateInstanceStatus":
		return []string{"instanceId", "status"}, "5.11", true
	case "releaseInstance":
		return []string{"instanceId"}, "5.12", true
	case "upgradeInstance":
		return []string{"instanceId", "orderId", "orderLineId"}, "5.13", true
	case "changeInstanceCheck":
		return []string{"instanceId", "productInfo"}, "5.14", true
	case "orderNotify":
		return []string{"orderId", "orderLineId"}, "5.15", true
	case "getLicenseAsync":
		return []string{"instanceId", "effectiveTime", "eventId"}, "5.17", true
	}
	return nil, "", false
}

// callFromIDs builds a call from the ids of a real failure e-mail.
func callFromIDs(productURL, proto, activity string, ids map[string]*string, params []string) (replayCall, error) {
	if !absoluteHTTP(productURL) {
		return replayCall{}, simulator.Errorf(simulator.EINVALID, "--url", "%q: want the production URL, absolute http(s)", productURL)
	}
	if proto == "" {
		return replayCall{}, simulator.Errorf(simulator.EINVALID, "--protocol", "required with --url; want --protocol v1|v2")
	}
	p, err := parseProtocolName(proto)
	if err != nil {
		return replayCall{}, simulator.Errorf(simulator.EINVALID, "--protocol", "%q: want v1 or v2", proto)
	}
	if activity == "" {
		return replayCall{}, simulator.Errorf(simulator.EINVALID, "--activity", "required with --url; want --activity ACTIVITY (e.g. newInstance)")
	}
	required, section, ok := activityParams(p, activity)
	if !ok {
		return replayCall{}, simulator.Errorf(simulator.EINVALID, "--activity", "%q is not a %s callback (callbacks.md §5)", activity, strings.ToUpper(string(p)))
	}
	obj := map[string]json.RawMessage{"activity": quoteJSON(activity)}
	for _, id := range idFlags() {
		if v := *ids[id.flag]; v != "" {
			obj[id.param] = quoteJSON(v)
		}
	}
	for _, kv := range params {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return replayCall{}, simulator.Errorf(simulator.EINVALID, "--param", "%q: want NAME=VALUE", kv)
		}
		if _, dup := obj[name]; dup {
			return replayCall{}, simulator.Errorf(simulator.EINVALID, "--param", "%s is given twice", name)
		}
		raw := quoteJSON(value)
		if v := gjson.Parse(value); p == simulator.V2 && (v.IsObject() || v.IsArray()) && gjson.Valid(value) {
			raw = json.RawMessage(value)
		}
		obj[name] = raw
	}
	if activity == "newInstance" || activity == "getLicense" {
		obj["businessId"] = quoteJSON("") // a fresh one per attempt
	}
	for _, name := range required {
		if _, ok := obj[name]; ok {
			continue
		}
		flag := "--param"
		hint := "add --param " + name + "=VALUE"
		if i := slices.IndexFunc(idFlags(), func(id idFlag) bool { return id.param == name }); i >= 0 {
			flag, hint = "--"+idFlags()[i].flag, "add --"+idFlags()[i].flag+" ID"
		}
		return replayCall{}, simulator.Errorf(simulator.EINVALID, flag, "%s is required for a %s %s; %s (callbacks.md §%s)", name, strings.ToUpper(string(p)), activity, hint, section)
	}
	body, _ := json.Marshal(obj) // raw members are valid JSON
	return replayCall{
		protocol: p, kind: simulator.KindLifecycle, activity: activity, productURL: productURL, params: body,
		label: fmt.Sprintf("%s %s%s", strings.ToUpper(string(p)), activity, idsText(*ids["order"], *ids["instance"])),
	}, nil
}

func quoteJSON(s string) json.RawMessage {
	b, _ := json.Marshal(s) // a string always marshals
	return b
}

// target is where the call goes: --merchant-url, keeping the production
// URL's own query parameters (V1 signs them), or the production URL.
func (c replayCall) target(override string) string {
	if override == "" {
		return c.productURL
	}
	if u, err := url.Parse(c.productURL); err == nil && u.RawQuery != "" && !strings.Contains(override, "?") {
		return override + "?" + u.RawQuery
	}
	return override
}

// request signs the call again, now, as delivery would.
func (c replayCall) request(e *env, cfg replayConfig) (*delivery.Request, error) {
	params := gjson.ParseBytes(c.params)
	obj := map[string]json.RawMessage{}
	params.ForEach(func(k, v gjson.Result) bool {
		obj[k.Str] = json.RawMessage(v.Raw)
		return true
	})
	if _, ok := obj["businessId"]; ok {
		// Every real attempt of a purchase has a new businessId
		// (callbacks.md §5.1, §9.2).
		id, err := delivery.BusinessID(e.random)
		if err != nil {
			return nil, err
		}
		obj["businessId"] = quoteJSON(id)
	}
	to := c.target(cfg.merchantURL)
	if c.protocol == simulator.V1 {
		var ps []protocol.Param
		for name, v := range obj {
			ps = append(ps, protocol.Param{Name: name, Value: gjson.ParseBytes(v).String()})
		}
		slices.SortFunc(ps, func(a, b protocol.Param) int { return strings.Compare(a.Name, b.Name) })
		return delivery.NewV1Request(to, cfg.key, ps, e.now())
	}
	body, _ := json.Marshal(obj) // members are valid JSON
	nonce, err := protocol.NewNonce(e.random)
	if err != nil {
		return nil, err
	}
	return delivery.NewV2Request(to, cfg.key, body, e.now(), nonce, false)
}

func runReplay(e *env, args []string) error {
	cfg, err := parseReplay(args)
	if err != nil {
		return err
	}
	sender := delivery.NewSender(cfg.timeout)
	out := &redactor{w: e.stdout, key: cfg.key}
	failed := false
	for i, c := range cfg.calls {
		if i > 0 {
			fmt.Fprintln(out)
		}
		req, err := c.request(e, cfg)
		if err != nil {
			return invalid("call "+c.label, err)
		}
		started := e.now()
		answer := sender.Send(e.context(), req)
		j := delivery.Judge(delivery.Call{Protocol: c.protocol, Activity: c.activity, AccessKey: cfg.key, RequireV2BodySign: cfg.requireBodySign, Polled: c.polled}, answer)
		fmt.Fprintf(out, "Replaying %s\n", c.label)
		if c.redacted {
			fmt.Fprintln(out, "note: the record had the access key replaced by <accessKey> where the merchant echoed it; those bytes are sent as recorded")
		}
		fmt.Fprintln(out)
		var original *view
		if c.original != nil {
			original = recordView(c.method, c.original)
		}
		printViews(out, cfg.width, original, newView(req, answer, j, started))
		fmt.Fprintln(out)
		fmt.Fprintln(out, verdictLine(c, j))
		failed = failed || j.Verdict.Failed()
		// The buyer's queryInstance is judged as certify judges it: an
		// answer the marketplace accepts may still show nothing.
		if c.activity == "queryInstance" && c.polled == "" && !j.Verdict.Failed() {
			if missing := delivery.Unlisted(gjson.GetBytes(c.params, "instanceId").String(), answer.Body); len(missing) > 0 {
				fmt.Fprintf(out, "but: the answer has no info[] entry for instance %s: the marketplace accepts it, and the buyer's resource details show nothing of it; kgsim certify fails it (callbacks.md §5.9)\n", strings.Join(missing, ", "))
				failed = true
			}
		}
	}
	if failed {
		return verdictError{}
	}
	return nil
}

// verdictLine compares the new attempt's verdict with the original's.
func verdictLine(c replayCall, j delivery.Judgement) string {
	was := ""
	if c.original != nil {
		was = " (the original: " + c.original.Verdict + ")"
	}
	if j.Verdict.Failed() {
		detail := j.Detail
		if detail == "" {
			detail = j.Message
		}
		return fmt.Sprintf("verdict: still failing: %s: %s%s", j.Verdict, detail, was)
	}
	return fmt.Sprintf("verdict: the new attempt succeeds: %s%s", j.Verdict, was)
}

// redactor replaces the access key wherever it would be printed, an
// answer echoing it included.
type redactor struct {
	w   io.Writer
	key string
}

func (r *redactor) Write(b []byte) (int, error) {
	out := b
	if r.key != "" {
		out = []byte(strings.ReplaceAll(string(b), r.key, "<accessKey>"))
	}
	if _, err := r.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// view is an attempt as printed: a title and its lines.
type view struct {
	title string
	lines []string
}

func (v *view) add(format string, args ...any) {
	v.lines = append(v.lines, fmt.Sprintf(format, args...))
}

// text adds a possibly multi-line text, indented, cut at maxShown bytes.
func (v *view) text(label, s string) {
	const maxShown = 2 << 10
	if len(s) > maxShown {
		s = s[:maxShown] + fmt.Sprintf("... (%d more bytes)", len(s)-maxShown)
	}
	for i, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if i == 0 {
			v.add("  %s%s", label, line)
		} else {
			v.add("  %s%s", strings.Repeat(" ", len(label)), line)
		}
	}
}

// headers adds h sorted by name, as on the wire.
func (v *view) headers(h http.Header) {
	var b strings.Builder
	h.Write(&b) // a strings.Builder does not fail
	for line := range strings.SplitSeq(strings.TrimSuffix(b.String(), "\r\n"), "\r\n") {
		if line != "" {
			v.add("  %s", line)
		}
	}
}

// signing shows a request's signing inputs, never the key.
func (v *view) signing(pairs ...string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			v.text(pairs[i]+": ", pairs[i+1])
		}
	}
}

func (v *view) verdict(verdict, detail, message string, warnings []string) {
	v.add("verdict: %s", verdict)
	if detail != "" {
		v.text("detail: ", detail)
	}
	if message != "" {
		v.text("debugger: ", message)
	}
	for _, w := range warnings {
		v.text("warning: ", w)
	}
}

// recordView is the original attempt as its record keeps it.
func recordView(method string, a *notice.AttemptRecord) *view {
	v := &view{title: fmt.Sprintf("ORIGINAL: attempt %d at %s", a.N, a.StartedAt)}
	v.add("request")
	v.text("", method+" "+a.Request.FullURL)
	v.headers(a.Request.Headers)
	if a.Request.Body != "" {
		v.text("body: ", shownBody(a.Request.Body, a.Request.BodyBase64))
	}
	s := a.Request.Signing
	v.signing("timeStamp", s.TimeStamp, "canonical", s.CanonicalString, "authToken", s.AuthToken,
		"timestamp", s.Timestamp, "nonce", s.Nonce, "bodyHmac", s.BodyHMACHex, "canonical", s.CanonicalRequest, "signature", s.Signature)
	v.add("response")
	switch {
	case a.Response != nil:
		v.add("  HTTP %d", a.Response.Status)
		v.headers(a.Response.Headers)
		v.text("body: ", shownBody(a.Response.Body, a.Response.BodyBase64))
	case a.Error != nil:
		v.text("error: ", *a.Error)
	default:
		v.add("  none")
	}
	v.verdict(a.Verdict, a.VerdictDetail, a.DebuggerMessage, a.Warnings)
	return v
}

func shownBody(body string, b64 bool) string {
	if b64 {
		return "(base64, not UTF-8) " + body
	}
	return body
}

// newView is the new attempt.
func newView(r *delivery.Request, a delivery.Answer, j delivery.Judgement, started time.Time) *view {
	v := &view{title: "NEW: now, " + started.UTC().Format("2006-01-02T15:04:05.000Z07:00")}
	v.add("request")
	v.text("", r.Method+" "+r.URL)
	v.headers(r.Header)
	if len(r.Body) > 0 {
		v.text("body: ", string(r.Body))
	}
	if r.TimeStamp != "" {
		v.signing("timeStamp", r.TimeStamp, "canonical", r.Canonical, "authToken", r.Signature)
	} else {
		v.signing("timestamp", r.Timestamp, "nonce", r.Nonce, "bodyHmac", r.BodyHMAC, "canonical", r.Canonical, "signature", r.Signature)
	}
	v.add("response")
	if a.Err != nil && a.Status == 0 {
		v.text("error: ", a.Err.Error())
	} else {
		v.add("  HTTP %d in %.1f ms", a.Status, float64(a.Elapsed.Microseconds())/1000)
		v.headers(a.Header)
		v.text("body: ", string(a.Body))
	}
	v.verdict(string(j.Verdict), j.Detail, j.Message, j.Warnings)
	return v
}

// sideBySide is the width from which two attempts are printed in columns.
const sideBySide = 120

// printViews prints the original and the new attempt in two columns when
// the terminal is wide enough, else one after the other.
func printViews(w io.Writer, width int, original, fresh *view) {
	if original == nil {
		fmt.Fprintln(w, "(the ids of an e-mail give no original attempt to compare with)")
		printView(w, fresh)
		return
	}
	if width < sideBySide {
		printView(w, original)
		fmt.Fprintln(w)
		printView(w, fresh)
		return
	}
	col := (width - 3) / 2
	left, right := wrapView(original, col), wrapView(fresh, col)
	for i := range max(len(left), len(right)) {
		var l, r string
		if i < len(left) {
			l = left[i]
		}
		if i < len(right) {
			r = right[i]
		}
		fmt.Fprintln(w, strings.TrimRight(l+strings.Repeat(" ", max(0, col-displayWidth(l)))+" │ "+r, " "))
	}
}

func printView(w io.Writer, v *view) {
	fmt.Fprintln(w, v.title)
	for _, l := range v.lines {
		fmt.Fprintln(w, l)
	}
}

// wrapView is a view's title, a rule and its lines, cut to col columns.
func wrapView(v *view, col int) []string {
	out := []string{v.title, strings.Repeat("─", min(col, displayWidth(v.title)))}
	for _, l := range v.lines {
		out = append(out, wrap(l, col)...)
	}
	return out
}

// wrap cuts a line into pieces at most col columns wide, continuing with
// the line's indentation and two more spaces.
func wrap(line string, col int) []string {
	indent := strings.Repeat(" ", min(len(line)-len(strings.TrimLeft(line, " "))+2, col/2))
	var out []string
	var cur strings.Builder
	w := 0
	for _, r := range line {
		rw := runeWidth(r)
		if w+rw > col {
			out = append(out, cur.String())
			cur.Reset()
			cur.WriteString(indent)
			w = len(indent)
		}
		cur.WriteRune(r)
		w += rw
	}
	return append(out, cur.String())
}

func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// runeWidth is a rune's width in a terminal: two for the wide East Asian
// characters of the debugger's messages, one otherwise.
func runeWidth(r rune) int {
	switch {
	case r >= 0x1100 && r <= 0x115F, r >= 0x2E80 && r <= 0xA4CF, r >= 0xAC00 && r <= 0xD7A3,
		r >= 0xF900 && r <= 0xFAFF, r >= 0xFE30 && r <= 0xFE4F, r >= 0xFF00 && r <= 0xFF60, r >= 0xFFE0 && r <= 0xFFE6:
		return 2
	}
	return 1
}
