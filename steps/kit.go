package steps

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/kgsim/kgsim/simulator/delivery"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/tidwall/gjson"
)

// The kit sync checks (kit-sync.md): what the merchant answered the syncs
// the buyer center's actions sent, and calls sent again or tampered with.

// syncs returns the scenario's kit syncs, oldest first.
func (w *world) syncs(ctx context.Context) ([]simulator.Message, error) {
	return w.store.Messages(ctx, simulator.MessageFilter{Protocol: simulator.Kit})
}

// acknowledged checks that the merchant acknowledged every kit sync of
// the scenario and that the syncs named were among them, in this order.
// The first sync not acknowledged is the one reported: the syncs of a
// binding go one at a time, and a failure holds the rest (kit-sync.md §7).
func (w *world) acknowledged(ctx context.Context, names []string) error {
	ms, err := w.syncs(ctx)
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		return w.fail(nil, "kit-sync.md §1, §7", "", "the marketplace sent no kit sync in this scenario")
	}
	for _, m := range ms {
		switch m.Outcome {
		case simulator.Succeeded, simulator.SucceededAfterRestart, simulator.Held:
			// A held sync waits behind a failed one, which is reported.
		default:
			return w.syncFailed(ctx, m)
		}
	}
	i := 0
	for _, m := range ms {
		if i < len(names) && m.Activity == names[i] {
			i++
		}
	}
	if i < len(names) {
		return w.fail(nil, "kit-sync.md §7", "", "the marketplace sent no %s sync after the ones before it in %v", names[i], names)
	}
	return nil
}

// syncFailed is the failure of a sync the merchant did not acknowledge:
// its last attempt and the failure notice the marketplace raised.
func (w *world) syncFailed(ctx context.Context, m simulator.Message) error {
	c, err := w.lastAttempt(ctx, m)
	if err != nil {
		return err
	}
	if c == nil {
		return w.fail(nil, "kit-sync.md §7, §8", "", "the %s sync was not sent (%s)", m.Activity, m.Outcome)
	}
	w.last = c
	ns, err := w.store.Notices(ctx, simulator.NoticeFilter{MessageID: m.ID})
	if err != nil {
		return err
	}
	f := &failure{check: fmt.Sprintf("the merchant did not acknowledge the %s sync (flag %s): %s", m.Activity, flagOf(m.Params), c.attempt.Verdict),
		call: c, spec: kitSpec(m.Activity), hint: kitHint(c), keys: w.keys(), via: w.proxy}
	for _, n := range ns {
		f.extra = append(f.extra, "notice:   "+n.Subject)
		for line := range strings.Lines(n.Body) {
			if detail, ok := strings.CutPrefix(strings.TrimSpace(line), "Detail:"); ok {
				f.extra = append(f.extra, "          it says: "+strings.TrimSpace(detail))
			}
		}
	}
	return f
}

// flagOf is a kit body's flag, "-" for allOrgSync, which has none.
func flagOf(params []byte) string {
	if f := gjson.GetBytes(params, "flag"); f.Exists() {
		return f.Raw
	}
	return "-"
}

// kitSpec is the spec section of a kit sync.
func kitSpec(name string) string {
	s, ok := activity.Lookup(simulator.Kit, name)
	if !ok {
		return "kit-sync.md §2, §3, §5"
	}
	return s.Section + ", §2, §3, §5"
}

// kitHint is the likely fix for a kit sync's answer.
func kitHint(c *call) string {
	a := c.attempt
	if a.Verdict != simulator.ResultCode {
		return hint(a.Verdict)
	}
	switch gjson.GetBytes(a.ResponseBody, "resultCode").Str {
	case "000001":
		return "rule: a sync the marketplace signed is acknowledged (kit-sync.md §2): this one was signed correctly; x-sign = lower-case hex(HMAC-SHA256(kitKey, kitKey + x-nonce + x-timestamp + reqParams)), " +
			"reqParams the body's canonical form (compact, members sorted at every level), with the kit key bound to 联营SaaS同步接口, " +
			"not the basic interfaces' access key; x-timestamp is in milliseconds, within 60 s"
	case "000101":
		return "rule: applicationSync's clientSecret decrypts with the application's private key (kit-sync.md §6): it is Base64 of RSA-OAEP (SHA-256, MGF1 SHA-256) under the public key uploaded with the application: " +
			"decrypt it with the matching private key and the same OAEP setting; kgsim crypto rsa-decrypt names the setting that works"
	}
	return "rule: a sync is acknowledged with 000000 (kit-sync.md §3, §8): store what it carries and answer 000000; a sync sent again, and a delete of something unknown, are answered 000000 too (kit-sync.md §8)"
}

// syncsAcknowledged is the step: "every sync", or a list such as "the
// tenantSync, applicationSync and allOrgSync".
func (w *world) syncsAcknowledged(ctx context.Context, which string) error {
	var names []string
	if which != "every sync" {
		list := strings.ReplaceAll(strings.TrimPrefix(which, "the "), " and ", ",")
		names = strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' })
	}
	return w.acknowledged(ctx, names)
}

// latestSync returns the scenario's last kit sync with a name.
func (w *world) latestSync(ctx context.Context, name string) (simulator.Message, error) {
	ms, err := w.syncs(ctx)
	if err != nil {
		return simulator.Message{}, err
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Activity == name {
			return ms[i], nil
		}
	}
	return simulator.Message{}, fmt.Errorf("the marketplace sent no %s sync in this scenario", name)
}

// sendSync sends a kit sync's body again as the marketplace's retry does
// (a new timeStamp, x-timestamp and x-nonce, kit-sync.md §8), signed with
// key age ago, after change; and judges the answer.
func (w *world) sendSync(ctx context.Context, m simulator.Message, key string, age time.Duration, change func([]member) []member) (*call, error) {
	at := time.Now().Add(-age)
	ms := with(members(m.Params), "timeStamp", simulator.KitTime(at))
	if change != nil {
		ms = change(ms)
	}
	nonce, err := protocol.NewNonce(rand.Reader)
	if err != nil {
		return nil, err
	}
	req, err := delivery.NewKitRequest(m.URL, m.Activity, key, encode(ms), at, nonce, delivery.KitDocument)
	if err != nil {
		return nil, fmt.Errorf("building the %s sync: %w", m.Activity, err)
	}
	cr := craft{activity: m.Activity, protocol: simulator.Kit, params: ms}
	w.lastCraft, w.lastRequest = cr, req
	return w.sendRequest(ctx, cr, req), nil
}

// resendsSync sends the last sync of a name again, as it is or signed
// wrongly.
func (w *world) resendsSync(ctx context.Context, name, how string) error {
	m, err := w.latestSync(ctx, name)
	if err != nil {
		return err
	}
	key, age := w.target.KitKey, time.Duration(0)
	w.joint.refusal = refuseForged
	switch how {
	case "with the wrong kit key":
		key = "not-the-kit-key-" + newID()
	case "with the basic interfaces' access key":
		key = w.target.AccessKey
	case "120 seconds ago":
		age = 120 * time.Second
	}
	_, err = w.sendSync(ctx, m, key, age, nil)
	return err
}

// undecryptableSecret sends the last applicationSync again with a
// clientSecret that is no encryption under the merchant's public key:
// random bytes of its length.
func (w *world) undecryptableSecret(ctx context.Context) error {
	m, err := w.latestSync(ctx, string(activity.ApplicationSync))
	if err != nil {
		return err
	}
	w.joint.refusal = refuseUndecryptable
	size := len(gjson.GetBytes(m.Params, "clientSecret").Str) * 3 / 4
	junk := make([]byte, max(size, 384))
	rand.Read(junk)
	_, err = w.sendSync(ctx, m, w.target.KitKey, 0, func(ms []member) []member {
		return with(ms, "clientSecret", base64.StdEncoding.EncodeToString(junk))
	})
	return err
}

// resendsAll sends again every sync of the scenario the merchant
// acknowledged, or only the deletes (flag 0), in the order first sent.
func (w *world) resendsAll(ctx context.Context, which string) error {
	j, err := w.jointOf()
	if err != nil {
		return err
	}
	ms, err := w.syncs(ctx)
	if err != nil {
		return err
	}
	j.resent = nil
	for _, m := range ms {
		if m.Outcome != simulator.Succeeded || which == "the deletes" && flagOf(m.Params) != "0" {
			continue
		}
		c, err := w.sendSync(ctx, m, w.target.KitKey, 0, nil)
		if err != nil {
			return err
		}
		j.resent = append(j.resent, c)
	}
	if len(j.resent) == 0 {
		return fmt.Errorf("no acknowledged %s to send again", which)
	}
	return nil
}

// deletesUnknownTenant sends tenantSync flag 0 for an enterprise and
// instance the merchant never heard of: a delete must succeed all the same
// (kit-sync.md §8).
func (w *world) deletesUnknownTenant(ctx context.Context) error {
	j, err := w.jointOf()
	if err != nil {
		return err
	}
	if j.app.ID == "" {
		return fmt.Errorf("the application is not registered: start with \"Given the merchant's application is registered for joint operation\"")
	}
	code := "kgsim-gone-" + newID()[:8]
	var ms []member
	for _, kv := range [][2]string{{"instanceId", "kgsim-unknown-" + newID()[:16]}, {"orderId", newOrderID(w.clock.Now())},
		{"tenantId", newID()}, {"tenantCode", code}, {"name", "kgsim 已注销企业"}, {"domainName", w.market.Kit.DomainName(simulator.Tenant{Code: code})}} {
		ms = with(ms, kv[0], kv[1])
	}
	ms = append(ms, member{"flag", "0"}, member{"testFlag", "0"}, member{"timeStamp", `""`})
	_, err = w.sendSync(ctx, simulator.Message{Activity: string(activity.TenantSync), URL: j.app.KitURL, Params: encode(ms)}, w.target.KitKey, 0, nil)
	return err
}

// lastSync is the last kit sync a step sent.
func (w *world) lastSync() (*call, error) {
	c, err := w.lastCall()
	if err == nil && !kitAttempt(c.attempt) {
		err = fmt.Errorf("the last call was a %s callback, not a kit sync", c.activity)
	}
	return c, err
}

// syncAccepted checks the last kit sync sent was acknowledged.
func (w *world) syncAccepted(context.Context) error {
	c, err := w.lastSync()
	if err != nil {
		return err
	}
	return w.syncOK(c)
}

func (w *world) syncOK(c *call) error {
	if !c.attempt.Verdict.Failed() {
		return nil
	}
	return w.fail(c, kitSpec(c.activity)+", §8", kitHint(c), "the merchant did not acknowledge a %s sync the marketplace sends as it is: %s", c.activity, c.attempt.Verdict)
}

// eachAccepted checks every sync the last step sent again was acknowledged.
func (w *world) eachAccepted(context.Context) error {
	j, err := w.jointOf()
	if err != nil {
		return err
	}
	for _, c := range j.resent {
		if err := w.syncOK(c); err != nil {
			return err
		}
	}
	return nil
}

// syncRefused checks the last kit sync sent was refused, with one of codes
// when given.
func (w *world) syncRefused(_ context.Context, code string) error {
	c, err := w.lastSync()
	if err != nil {
		return err
	}
	got := gjson.GetBytes(c.attempt.ResponseBody, "resultCode")
	switch {
	case code == "" && !accepts(c):
		return nil
	case code != "" && c.attempt.Status == 200 && got.Str == code:
		return nil
	case code == "":
		return w.fail(c, kitSpec(c.activity), w.joint.refusal, "the merchant accepted a %s sync it should have refused", c.activity)
	}
	return w.fail(c, "kit-sync.md §5", w.joint.refusal, "the %s sync was not refused with resultCode %s", c.activity, code)
}

// How a merchant refuses the syncs the steps tamper with: the hints of
// their failures.
const (
	refuseForged = "rule: a sync not signed with the kit key, stale or replayed is refused (kit-sync.md §2, §5): recompute x-sign over the canonical body with the kit key, refuse x-timestamps more than 60 s from your clock " +
		"and x-nonces seen before, and answer 000001 before acting"
	refuseUndecryptable = "rule: a clientSecret the merchant cannot decrypt is refused (kit-sync.md §4.2, §6): decrypt clientSecret before storing it and answer 000101 when it does not decrypt with your private key"
)
