package delivery

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/tidwall/gjson"
)

// dialect is one protocol's way of calling a merchant: which key signs a
// message, how an attempt's request is built and signed with it, and how
// its answer is judged. V1 callbacks, V2 callbacks and kit syncs have one
// each; a message's protocol chooses it.
type dialect interface {
	signer(ctx context.Context, ps *products, m simulator.Message) (signer, error)
	// request signs params, a JSON object in the order the call's table
	// gives, to url with key at now.
	request(url, name string, params []byte, key string, now time.Time, random io.Reader, layout KitLayout) (*Request, error)
	judge(c Call, a Answer) Judgement
}

type (
	v1Dialect  struct{}
	v2Dialect  struct{}
	kitDialect struct{}
)

// dialectOf returns a protocol's dialect, nil for a protocol kgsim does
// not speak.
func dialectOf(p simulator.Protocol) dialect {
	switch p {
	case simulator.V1:
		return v1Dialect{}
	case simulator.V2:
		return v2Dialect{}
	case simulator.Kit:
		return kitDialect{}
	}
	return nil
}

// NewRequest builds an attempt at m, signed with key at now, the wall
// clock the merchant checks its freshness against, by m's protocol: a V1
// GET, a V2 POST or a kit sync's POST whose body is laid out as layout
// says. A call whose row takes a fresh businessId on every attempt (a
// purchase: "每一次请求,businessId皆不一致", callbacks.md §9.2) gets one,
// drawn from random like the nonces. Every attempt is built with it, and
// so is kgsim replay's.
func NewRequest(m simulator.Message, key string, now time.Time, random io.Reader, layout KitLayout) (*Request, error) {
	d := dialectOf(m.Protocol)
	if d == nil {
		return nil, fmt.Errorf("protocol %q is neither v1, v2 nor kit", m.Protocol)
	}
	params := gjson.ParseBytes(m.Params)
	if !params.IsObject() {
		return nil, fmt.Errorf("params are not a JSON object: %s", m.Params)
	}
	body := m.Params
	if activity.Of(m).FreshBusinessID && (params.Get("businessId").Exists() || params.Get("orderInfo.0.businessId").Exists()) {
		id, err := BusinessID(random)
		if err != nil {
			return nil, err
		}
		body = withBusinessID(params, `"`+id+`"`)
	}
	return d.request(m.URL, m.Activity, body, key, now, random, layout)
}

// signer is the product's: its access key, or for a generic product's
// orderNotify the generic interface's key (callbacks.md §5.15).
func callbackSigner(ctx context.Context, ps *products, m simulator.Message) (signer, error) {
	p, err := ps.product(ctx, m)
	if err != nil {
		return signer{}, err
	}
	return signer{product: p, key: activity.Of(m).Key(&p)}, nil
}

func (v1Dialect) signer(ctx context.Context, ps *products, m simulator.Message) (signer, error) {
	return callbackSigner(ctx, ps, m)
}

func (v2Dialect) signer(ctx context.Context, ps *products, m simulator.Message) (signer, error) {
	return callbackSigner(ctx, ps, m)
}

// signer is the app's kit key, which belongs to the merchant's application
// credential, not to a product (kit-sync.md §1); the app's product, if it
// has one, gets the notices. An app without a product still gets its
// syncs; their notices go to no one.
func (kitDialect) signer(ctx context.Context, ps *products, m simulator.Message) (signer, error) {
	_, appID, ok := simulator.ParseKitQueue(m.Queue)
	if !ok {
		return signer{}, fmt.Errorf("message %s: kit sync in queue %q, which names no tenant and app", m.ID, m.Queue)
	}
	app, err := ps.store.App(ctx, appID)
	if err != nil {
		return signer{}, fmt.Errorf("message %s: its app %q holds the kit key: %w", m.ID, appID, err)
	}
	s := signer{product: simulator.Product{ID: m.ProductID}, key: app.KitKey}
	if m.ProductID != "" {
		if s.product, err = ps.product(ctx, m); err != nil {
			return signer{}, err
		}
	}
	if app.KitKey == "" {
		return signer{}, fmt.Errorf("message %s: app %s has no kit key to sign with", m.ID, appID)
	}
	return s, nil
}

// request renders the parameters as V1's query, in their order.
func (v1Dialect) request(url, _ string, params []byte, key string, now time.Time, _ io.Reader, _ KitLayout) (*Request, error) {
	var ps []protocol.Param
	gjson.ParseBytes(params).ForEach(func(k, v gjson.Result) bool {
		ps = append(ps, protocol.Param{Name: k.Str, Value: v.String()})
		return true
	})
	return NewV1Request(url, key, ps, now)
}

// judge requires Body-Sign of every V1 answer (callbacks.md §3.4).
func (v1Dialect) judge(c Call, a Answer) Judgement { return judgeCallback(c, a, true) }

func (v2Dialect) request(url, _ string, params []byte, key string, now time.Time, random io.Reader, _ KitLayout) (*Request, error) {
	nonce, err := protocol.NewNonce(random)
	if err != nil {
		return nil, err
	}
	return NewV2Request(url, key, params, now, nonce, false)
}

// judge requires Body-Sign of a V2 answer only where the product says
// so; one that carries it must carry the right one (callbacks.md §4.6).
func (v2Dialect) judge(c Call, a Answer) Judgement { return judgeCallback(c, a, c.RequireV2BodySign) }

// request renews the body's timeStamp, as a retry re-sends the same body
// with a new x-nonce, x-timestamp and timeStamp (kit-sync.md §8).
func (kitDialect) request(url, name string, params []byte, key string, now time.Time, random io.Reader, layout KitLayout) (*Request, error) {
	body := params
	if obj := gjson.ParseBytes(params); obj.Get(kitTimeStampMember).Exists() {
		body = replaceMember(obj, kitTimeStampMember, strconv.Quote(simulator.KitTime(now)))
	}
	nonce, err := protocol.NewNonce(random)
	if err != nil {
		return nil, err
	}
	return NewKitRequest(url, name, key, body, now, nonce, layout)
}

func (kitDialect) judge(c Call, a Answer) Judgement { return judgeKit(c, a) }
