// Package replay reproduces a failed callback: it takes the call from a
// failure notice's call record, or from the ids a failure e-mail gives,
// signs it again now exactly as delivery signs every attempt, judges the
// answer as the marketplace does, and shows the original attempt and the
// new one side by side. kgsim replay is its command line.
package replay

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/kgsim/kgsim/simulator/delivery"
	"github.com/kgsim/kgsim/simulator/notice"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/tidwall/gjson"
)

// Call is one callback to rebuild: its parameters without their old
// signature, and the attempt that failed, if known.
type Call struct {
	Label          string // what the call was, for the heading
	Protocol       simulator.Protocol
	Kind, Activity string
	URL            string // the production URL
	Polled         string // the instanceId a poll after 000004 waits for
	Method         string // as recorded
	Params         []byte // a JSON object: V2's body, V1's query parameters
	Original       *notice.AttemptRecord
	Redacted       bool // the record's bytes had the key replaced
}

// FromNotice reads the call record a notice carries (notice.Parse's
// data): its call, or each probe of a dial-test run whose last attempt
// failed.
func FromNotice(data []byte) ([]Call, error) {
	var records []notice.CallRecord
	if gjson.GetBytes(data, "runId").Exists() {
		var run notice.DialRunRecord
		if err := json.Unmarshal(data, &run); err != nil {
			return nil, fmt.Errorf("the dial-test record does not read: %v", err)
		}
		for _, c := range run.Calls {
			if n := len(c.Attempts); n > 0 && simulator.Verdict(c.Attempts[n-1].Verdict).Failed() {
				records = append(records, c)
			}
		}
		if len(records) == 0 {
			return nil, fmt.Errorf("no probe of dial-test run %s failed: nothing to reproduce", run.RunID)
		}
	} else {
		var rec notice.CallRecord
		if err := json.Unmarshal(data, &rec); err != nil {
			return nil, fmt.Errorf("the call record does not read: %v", err)
		}
		records = append(records, rec)
	}
	var calls []Call
	for _, rec := range records {
		c, err := FromRecord(rec)
		if err != nil {
			return nil, fmt.Errorf("call %s: %v", rec.CallID, err)
		}
		calls = append(calls, c)
	}
	return calls, nil
}

// FromRecord takes the parameters of a record's last attempt: the body
// (V2) or the query (V1) as sent, without the signature, timeStamp and
// the production URL's own parameters.
func FromRecord(rec notice.CallRecord) (Call, error) {
	p, err := ParseProtocol(rec.Protocol)
	if err != nil {
		return Call{}, err
	}
	if len(rec.Attempts) == 0 {
		return Call{}, fmt.Errorf("the record has no attempt, so no parameters to send again")
	}
	last := rec.Attempts[len(rec.Attempts)-1]
	c := Call{
		Protocol: p, Kind: rec.Kind, Activity: rec.Activity, URL: rec.URL, Method: rec.Method, Original: &last, Redacted: rec.Redacted,
		Label: fmt.Sprintf("%s %s, call %s%s", strings.ToUpper(string(p)), rec.Activity, rec.CallID, IDsText(rec.OrderID, rec.InstanceID)),
	}
	if rec.Kind == simulator.KindPoll {
		c.Polled = rec.InstanceID
	}
	if p == simulator.V2 {
		body, err := last.Request.BodyBytes()
		if err != nil || !gjson.ValidBytes(body) || !gjson.ParseBytes(body).IsObject() {
			return c, fmt.Errorf("attempt %d's request body is not a JSON object", last.N)
		}
		c.Params = body
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
	c.Params, _ = json.Marshal(obj) // strings always marshal
	return c, nil
}

// Spec returns the row of a protocol's activity, with an error saying
// so when the protocol has no such callback.
func Spec(p simulator.Protocol, name string) (activity.Spec, error) {
	s, ok := activity.Lookup(p, name)
	if !ok {
		return s, fmt.Errorf("%q is not a %s callback (callbacks.md §5)", name, strings.ToUpper(string(p)))
	}
	return s, nil
}

// IDsText names a call's order and instance, for its heading.
func IDsText(order, instance string) string {
	var s string
	if order != "" {
		s += ", order " + order
	}
	if instance != "" {
		s += ", instance " + instance
	}
	return s
}

// ParseProtocol reads a record's or the command line's protocol.
func ParseProtocol(v string) (simulator.Protocol, error) {
	switch strings.ToLower(v) {
	case "v1":
		return simulator.V1, nil
	case "v2":
		return simulator.V2, nil
	}
	return "", fmt.Errorf("protocol %q is neither V1 nor V2", v)
}

// target is where the call goes: override, keeping the production URL's
// own query parameters (V1 signs them), or the production URL.
func (c Call) target(override string) string {
	if override == "" {
		return c.URL
	}
	if u, err := url.Parse(c.URL); err == nil && u.RawQuery != "" && !strings.Contains(override, "?") {
		return override + "?" + u.RawQuery
	}
	return override
}

// Request signs the call again at now with key, as delivery signs every
// attempt (a purchase gets a new businessId, as every real retry has),
// to override instead of the production URL when it is set.
func (c Call) Request(key, override string, now time.Time, random io.Reader) (*delivery.Request, error) {
	m := simulator.Message{Protocol: c.Protocol, Activity: c.Activity, URL: c.target(override), Params: c.Params}
	return delivery.NewRequest(m, key, now, random, "")
}

// Judge judges the answer to the new attempt as the marketplace does.
func (c Call) Judge(key string, requireBodySign bool, a delivery.Answer) delivery.Judgement {
	return delivery.Judge(delivery.Call{Protocol: c.Protocol, Activity: c.Activity, AccessKey: key, RequireV2BodySign: requireBodySign, Polled: c.Polled}, a)
}

// Unlisted returns what certify finds wrong with an answer the
// marketplace accepts: the instances of a buyer's queryInstance that its
// info[] does not list, whose resource details then show nothing
// (callbacks.md §5.9). Other calls have none.
func (c Call) Unlisted(a delivery.Answer) []string {
	if s, _ := activity.Lookup(c.Protocol, c.Activity); s.Event != activity.Query || c.Polled != "" {
		return nil
	}
	return delivery.Unlisted(gjson.GetBytes(c.Params, "instanceId").String(), a.Body)
}

// VerdictLine compares the new attempt's verdict with the original's.
func (c Call) VerdictLine(j delivery.Judgement) string {
	was := ""
	if c.Original != nil {
		was = " (the original: " + c.Original.Verdict + ")"
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
