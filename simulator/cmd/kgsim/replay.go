package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/delivery"
	"github.com/kgsim/kgsim/simulator/notice"
	"github.com/kgsim/kgsim/simulator/replay"
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
	calls            []replay.Call
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
		c.calls = []replay.Call{call}
	}
	return c, nil
}

// callsFromNotice reads a notice e-mail or call record: one call, or each
// failed probe of a dial-test run.
func callsFromNotice(path string) ([]replay.Call, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, simulator.Errorf(simulator.EINVALID, "--notice", "cannot read %s: %v", path, err)
	}
	defer f.Close()
	data, err := notice.Parse(f)
	if err != nil {
		return nil, simulator.Errorf(simulator.EINVALID, "--notice", "%s: %v", path, err)
	}
	calls, err := replay.FromNotice(data)
	if err != nil {
		return nil, simulator.Errorf(simulator.EINVALID, "--notice", "%s: %v", path, err)
	}
	return calls, nil
}

// idFlag is a flag giving one id of a failure e-mail, and its parameter.
type idFlag struct{ flag, param string }

func idFlags() []idFlag {
	return []idFlag{
		{"order", "orderId"}, {"order-line", "orderLineId"}, {"instance", "instanceId"},
		{"product", "productId"}, {"customer", "customerId"}, {"sku", "skuCode"},
	}
}

// callFromIDs builds a call from the ids of a real failure e-mail.
func callFromIDs(productURL, proto, name string, ids map[string]*string, params []string) (replay.Call, error) {
	if !absoluteHTTP(productURL) {
		return replay.Call{}, simulator.Errorf(simulator.EINVALID, "--url", "%q: want the production URL, absolute http(s)", productURL)
	}
	if proto == "" {
		return replay.Call{}, simulator.Errorf(simulator.EINVALID, "--protocol", "required with --url; want --protocol v1|v2")
	}
	p, err := replay.ParseProtocol(proto)
	if err != nil {
		return replay.Call{}, simulator.Errorf(simulator.EINVALID, "--protocol", "%q: want v1 or v2", proto)
	}
	if name == "" {
		return replay.Call{}, simulator.Errorf(simulator.EINVALID, "--activity", "required with --url; want --activity ACTIVITY (e.g. newInstance)")
	}
	spec, err := replay.Spec(p, name)
	if err != nil {
		return replay.Call{}, simulator.Errorf(simulator.EINVALID, "--activity", "%v", err)
	}
	obj := map[string]json.RawMessage{"activity": quoteJSON(name)}
	for _, id := range idFlags() {
		if v := *ids[id.flag]; v != "" {
			obj[id.param] = quoteJSON(v)
		}
	}
	for _, kv := range params {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return replay.Call{}, simulator.Errorf(simulator.EINVALID, "--param", "%q: want NAME=VALUE", kv)
		}
		if _, dup := obj[name]; dup {
			return replay.Call{}, simulator.Errorf(simulator.EINVALID, "--param", "%s is given twice", name)
		}
		raw := quoteJSON(value)
		if v := gjson.Parse(value); p == simulator.V2 && (v.IsObject() || v.IsArray()) && gjson.Valid(value) {
			raw = json.RawMessage(value)
		}
		obj[name] = raw
	}
	if spec.FreshBusinessID {
		obj["businessId"] = quoteJSON("") // a fresh one per attempt
	}
	for _, field := range spec.Request {
		if _, ok := obj[field]; ok {
			continue
		}
		flag := "--param"
		hint := "add --param " + field + "=VALUE"
		if i := slices.IndexFunc(idFlags(), func(id idFlag) bool { return id.param == field }); i >= 0 {
			flag, hint = "--"+idFlags()[i].flag, "add --"+idFlags()[i].flag+" ID"
		}
		return replay.Call{}, simulator.Errorf(simulator.EINVALID, flag, "%s is required for a %s %s; %s (%s)", field, strings.ToUpper(string(p)), name, hint, spec.Section)
	}
	body, _ := json.Marshal(obj) // raw members are valid JSON
	return replay.Call{
		Protocol: p, Kind: simulator.KindLifecycle, Activity: name, URL: productURL, Params: body,
		Label: fmt.Sprintf("%s %s%s", strings.ToUpper(string(p)), name, replay.IDsText(*ids["order"], *ids["instance"])),
	}, nil
}

func quoteJSON(s string) json.RawMessage {
	b, _ := json.Marshal(s) // a string always marshals
	return b
}

func runReplay(e *env, args []string) error {
	cfg, err := parseReplay(args)
	if err != nil {
		return err
	}
	sender := delivery.NewSender(cfg.timeout)
	out := &replay.Redactor{W: e.stdout, Key: cfg.key}
	failed := false
	for i, c := range cfg.calls {
		if i > 0 {
			fmt.Fprintln(out)
		}
		req, err := c.Request(cfg.key, cfg.merchantURL, e.now(), e.random)
		if err != nil {
			return invalid("call "+c.Label, err)
		}
		started := e.now()
		answer := sender.Send(e.context(), req)
		j := c.Judge(cfg.key, cfg.requireBodySign, answer)
		fmt.Fprintf(out, "Replaying %s\n", c.Label)
		if c.Redacted {
			fmt.Fprintln(out, "note: the record had the access key replaced by <accessKey> where the merchant echoed it; those bytes are sent as recorded")
		}
		fmt.Fprintln(out)
		var original *replay.View
		if c.Original != nil {
			original = replay.Original(c.Method, c.Original)
		}
		replay.Print(out, cfg.width, original, replay.Fresh(req, answer, j, started))
		fmt.Fprintln(out)
		fmt.Fprintln(out, c.VerdictLine(j))
		failed = failed || j.Verdict.Failed()
		// The buyer's queryInstance is judged as certify judges it: an
		// answer the marketplace accepts may still show nothing.
		if missing := c.Unlisted(answer); !j.Verdict.Failed() && len(missing) > 0 {
			fmt.Fprintf(out, "but: the answer has no info[] entry for instance %s: the marketplace accepts it, and the buyer's resource details show nothing of it; kgsim certify fails it (callbacks.md §5.9)\n", strings.Join(missing, ", "))
			failed = true
		}
	}
	if failed {
		return verdictError{}
	}
	return nil
}
