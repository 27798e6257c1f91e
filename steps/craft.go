package steps

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/kgsim/kgsim/simulator/delivery"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/tidwall/gjson"
)

// A crafted call is one the marketplace would never send as it is (signed
// with the wrong key, stale, missing a parameter, about an unknown
// instance) or one it sends again. It is built and signed by delivery like
// every callback, then tampered with, sent with delivery's Sender and
// judged by delivery.Judge.
type craft struct {
	activity string
	// protocol is the product's when empty; simulator.Kit for a kit sync.
	protocol simulator.Protocol
	params   []member
	// forged signs with a key that is not the merchant's. basicKey signs
	// with the basic interfaces' access key a call signed with another
	// key (a generic product's orderNotify, callbacks.md §5.15).
	forged, basicKey bool
	// age is how long before sending the request is signed; negative is
	// ahead of time.
	age time.Duration
	// drop is a query parameter removed once signed.
	drop string
	// What the check did to the call, for the rule its refusal is about:
	// missing names the parameter left out (before or after signing),
	// replayed sends a request again unchanged, unknown is about an
	// instance the merchant never created.
	missing           string
	replayed, unknown bool
}

// tampered reports whether the check changed the call from what the
// marketplace sends: its refusal then shows something only if the
// merchant accepts the call as the marketplace sends it.
func (cr craft) tampered() bool {
	return cr.forged || cr.basicKey || cr.age != 0 || cr.missing != "" || cr.replayed
}

// rule is the rule a refusal of the call is about, with its spec section
// and the fix: what the check did to the call decides it.
func (cr craft) rule(p simulator.Protocol) (spec, fix string) {
	v1 := p == simulator.V1
	switch {
	case cr.basicKey:
		return "callbacks.md §5.15, §7", "rule: orderNotify is signed with the key bound to the generic interface (通用接口), a key of its own, not the basic interfaces' access key (§5.15): verify it with that key only; answer 000001 when it does not match"
	case cr.replayed:
		return "callbacks.md §4.5", "rule: a replayed request is refused (§4.5, nonce caching; informational): keep each nonce for the 60 s window of its timestamp and answer 000001 to a request whose nonce was seen already"
	case cr.forged && v1:
		return "callbacks.md §3.2, §7", "rule: a call not signed with the access key is refused (§3.2): recompute authToken from the parameters received and compare before acting; answer 000001 when it does not match"
	case cr.forged:
		return "callbacks.md §4.2, §7", "rule: a call not signed with the access key is refused (§4.2): recompute the signature from the exact body, timestamp and nonce and compare before acting; answer 000001 when it does not match"
	case cr.age > 0 && v1:
		return "callbacks.md §3.2", "rule: none documented for V1 (§3.2 gives no freshness window; informational): refusing a timeStamp far from your clock with 000001 stops old calls being replayed"
	case cr.age != 0:
		return "callbacks.md §4.1, §7", "rule: a timestamp more than 60 s from the merchant's clock, either way, is refused (§4.1): compare the timestamp (milliseconds) with your clock before acting; answer 000001"
	case cr.missing == "orderId":
		return "callbacks.md §5.1, §5.8, §7", "rule: a call without a mandatory parameter is invalid (§5 marks orderId M; recommended: the marketplace never sends one): answer 000002 naming the parameter"
	case cr.missing != "":
		return "callbacks.md §3.2, §4.2, §7", "rule: a call without its " + cr.missing + " cannot be authenticated (§3.2, §4.2): check it is there before verifying; answer 000001"
	case cr.unknown:
		return "callbacks.md §7, §15 Q3", "rule: a call about an instance the merchant does not have is answered 000003 (§7): look the instanceId up before acting, and never renew or freeze an instance you do not know"
	}
	return "callbacks.md §7, §13", "rule: a call the marketplace would not send is refused (§13): answer a resultCode other than 000000 before acting"
}

// member is one top-level member of a callback's parameters, its value as
// raw JSON. Members keep their order; V1 and V2 both sort them on the wire.
type member struct{ name, raw string }

func members(params []byte) []member {
	var out []member
	gjson.ParseBytes(params).ForEach(func(k, v gjson.Result) bool {
		out = append(out, member{k.Str, v.Raw})
		return true
	})
	return out
}

// with returns ms with name set to the string v, added at the end if absent.
func with(ms []member, name, v string) []member {
	raw, _ := json.Marshal(v) // a string always marshals
	out := make([]member, 0, len(ms)+1)
	found := false
	for _, m := range ms {
		if m.name == name {
			m.raw, found = string(raw), true
		}
		out = append(out, m)
	}
	if !found {
		out = append(out, member{name, string(raw)})
	}
	return out
}

// without returns ms without name.
func without(ms []member, name string) []member {
	var out []member
	for _, m := range ms {
		if m.name != name {
			out = append(out, m)
		}
	}
	return out
}

func (m member) value() string { return gjson.Parse(m.raw).String() }

func lookup(ms []member, name string) (string, bool) {
	for _, m := range ms {
		if m.name == name {
			return m.value(), true
		}
	}
	return "", false
}

func encode(ms []member) []byte {
	b := []byte{'{'}
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		name, _ := json.Marshal(m.name)
		b = append(append(append(b, name...), ':'), m.raw...)
	}
	return append(b, '}')
}

// send builds, signs, tampers with and sends a crafted call, and judges the
// answer as the marketplace would.
func (w *world) send(ctx context.Context, cr craft) (*call, error) {
	req, err := w.request(cr)
	if err != nil {
		return nil, err
	}
	w.lastCraft, w.lastRequest = cr, req
	return w.sendRequest(ctx, cr, req), nil
}

// request builds and signs a crafted call, tampered with as it says.
func (w *world) request(cr craft) (*delivery.Request, error) {
	key := w.key(cr.activity)
	if cr.basicKey {
		key = w.target.AccessKey
	}
	if cr.forged {
		key = "not-the-merchant-key-" + newID()
	}
	at := time.Now().Add(-cr.age)
	var req *delivery.Request
	var err error
	if w.product.Protocol == simulator.V1 {
		ps := make([]protocol.Param, 0, len(cr.params))
		for _, m := range cr.params {
			ps = append(ps, protocol.Param{Name: m.name, Value: m.value()})
		}
		req, err = delivery.NewV1Request(w.product.URL, key, ps, at)
	} else {
		var nonce string
		if nonce, err = protocol.NewNonce(rand.Reader); err == nil {
			req, err = delivery.NewV2Request(w.product.URL, key, encode(cr.params), at, nonce, false)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("building the %s call: %w", cr.activity, err)
	}
	if cr.drop != "" {
		req.URL = dropQuery(req.URL, cr.drop)
	}
	return req, nil
}

// sendRequest sends the request of a crafted call as it is, judges and
// records the answer.
func (w *world) sendRequest(ctx context.Context, cr craft, req *delivery.Request) *call {
	started := time.Now()
	return w.recordAnswer(cr, req, started, w.sender.Send(ctx, req))
}

// key is the key a call of the product's named activity is signed with:
// the activity table's row's, the access key for a call the table does
// not have in the product's protocol.
func (w *world) key(name string) string {
	s, _ := activity.Lookup(w.product.Protocol, name)
	return s.Key(&w.product)
}

// recordAnswer judges and records the answer to a crafted call's request
// sent at started.
func (w *world) recordAnswer(cr craft, req *delivery.Request, started time.Time, answer delivery.Answer) *call {
	proto := cr.protocol
	if proto == "" {
		proto = w.product.Protocol
	}
	j := delivery.Judge(delivery.Call{Protocol: proto, Activity: cr.activity, AccessKey: w.key(cr.activity)}, answer)
	a := delivery.NewAttempt(req, started, answer, j)
	a.N = 1
	c := &call{activity: cr.activity, attempt: a, crafted: true}
	w.crafted = append(w.crafted, c)
	w.last = c
	return c
}

// dropQuery removes a parameter from a URL's query, keeping the rest
// byte for byte.
func dropQuery(rawURL, name string) string {
	base, query, _ := strings.Cut(rawURL, "?")
	var kept []string
	for _, p := range strings.Split(query, "&") {
		if n, _, _ := strings.Cut(p, "="); n != name {
			kept = append(kept, p)
		}
	}
	if len(kept) == 0 {
		return base
	}
	return base + "?" + strings.Join(kept, "&")
}

// newID returns 32 random lower-case hex characters: businessIds and
// instanceIds no merchant has seen.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newOrderID returns an order ID of the docs' form: CS, yyMMddHHmm in
// Beijing time and 5 of [0-9A-Z].
func newOrderID(now time.Time) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var b [5]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "CS" + now.In(simulator.Beijing()).Format("0601021504") + string(b[:])
}

// forNewOrder returns a purchase call's parameters moved to a new order:
// what the marketplace sends for an order the merchant has not seen.
func forNewOrder(ms []member, now time.Time) []member {
	id := newOrderID(now)
	ms = with(ms, "orderId", id)
	if _, ok := lookup(ms, "orderLineId"); ok {
		ms = with(ms, "orderLineId", id+"-000001")
	}
	return with(ms, "businessId", newID())
}

// unknownInstance returns the parameters of a call about an instance the
// merchant never created, per protocol (callbacks.md §5.2–§5.4, §5.6,
// §5.10–§5.12).
func unknownInstance(p simulator.Protocol, what string, now time.Time) (string, []member) {
	id, order := "kgsim-unknown-"+newID()[:16], newOrderID(now)
	expire := now.AddDate(0, 1, 0).UTC().Format("20060102150405")
	var ms []member
	add := func(name, v string) { ms = with(ms, name, v) }
	switch {
	case what == "freeze" && p == simulator.V1:
		add("activity", string(activity.InstanceStatus))
		add("instanceId", id)
		add("instanceStatus", "FREEZE")
	case what == "freeze":
		add("activity", string(activity.UpdateInstanceStatus))
		add("instanceId", id)
		add("status", "FREEZE")
	case what == "renewal" && p == simulator.V1:
		add("activity", string(activity.RefreshInstance))
		add("orderId", order)
		add("instanceId", id)
		add("expireTime", expire)
		add("periodType", "month")
		ms = append(ms, member{"periodNumber", "1"})
	case what == "renewal":
		add("activity", string(activity.RefreshInstance))
		add("scene", "RENEWAL")
		add("orderId", order)
		add("orderLineId", order+"-000001")
		add("instanceId", id)
		add("expireTime", expire)
	case what == "change check": // V2 only
		add("activity", string(activity.ChangeInstanceCheck))
		add("instanceId", id)
	case p == simulator.V1: // release
		add("activity", string(activity.ReleaseInstance))
		add("instanceId", id)
		add("orderId", order)
	default:
		add("activity", string(activity.ReleaseInstance))
		add("instanceId", id)
	}
	return ms[0].value(), ms
}
