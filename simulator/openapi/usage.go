package openapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/protocol"
)

// Limits of a usage push (open-api.md §4).
const (
	maxRecords  = 1000
	maxAge      = 21 * 24 * time.Hour // begin_time at most this old
	maxAhead    = 15 * time.Minute    // end_time at most this far ahead of the wall clock [SIM]
	maxFraction = 4                   // usage_value's fraction digits
	usageLayout = "20060102T150405Z"  // yyyyMMdd'T'HHmmss'Z', UTC
)

// refusal is a usage push refused with one of §4.3's codes.
type refusal struct {
	code, field, problem string
	e                    *explanation // replaces the plain explanation when set (a body signature's)
}

func (r *refusal) Error() string {
	if r.field == "" {
		return r.problem
	}
	return r.field + ": " + r.problem
}

func reject(code, field, format string, args ...any) *refusal {
	return &refusal{code: code, field: field, problem: fmt.Sprintf(format, args...)}
}

// The codes of a usage push (open-api.md §4.3).
const (
	mktRange     = "MKT.0100"
	mktBodySign  = "MKT.0102"
	mktRequest   = "MKT.0199"
	mktNoInst    = "MKT.9001"
	mktEntries   = "MKT.9002"
	mktTooMany   = "MKT.9003"
	mktTooOld    = "MKT.9004"
	usageSuccess = "success"
)

// usageStatus is a code's status and message as §4.3 lists them.
func usageStatus(code string) (int, string) {
	switch code {
	case mktRange:
		return http.StatusInternalServerError, "Failure of input parameter"
	case mktInvalid:
		return http.StatusBadRequest, msgInvalid
	case mktBodySign:
		return http.StatusBadRequest, "Invalid body sign"
	case mktRequest:
		return http.StatusBadRequest, "Request parameter error"
	case mktIllegal:
		return http.StatusUnauthorized, msgIllegal
	case mktNoInst:
		return http.StatusInternalServerError, "Instance ID not found."
	case mktEntries:
		return http.StatusInternalServerError, "Invalid usage enties."
	case mktTooMany:
		return http.StatusInternalServerError, "Usage records extends size limit."
	case mktTooOld:
		return http.StatusInternalServerError, "Record beginTime extends Limit."
	}
	return http.StatusInternalServerError, msgInternalError
}

// usageHandler answers a usage push through api: every record is checked
// and the push stored whole, or refused whole with nothing stored.
func (s *Server) usageHandler(api simulator.UsageAPI) func(w http.ResponseWriter, r *http.Request, c call) {
	spec := "open-api.md §4.1"
	if api == simulator.UsageOld {
		spec = "open-api.md §4.2"
	}
	return func(w http.ResponseWriter, r *http.Request, c call) {
		p := &push{s: s, r: r, seller: c.seller, api: api, body: c.body, wall: s.wall(), now: s.clock.Now()}
		records, err := p.check()
		if ref, ok := errors.AsType[*refusal](err); ok {
			s.usage.WithLabelValues("refused").Add(float64(max(p.count, 1)))
			status, msg := usageStatus(ref.code)
			e := ref.e
			if e == nil {
				e = &explanation{Problem: ref.Error(), Field: ref.field}
			}
			e.Spec = spec
			s.log.InfoContext(r.Context(), "usage push refused", "seller", c.seller.ID, "api", string(api), "code", ref.code, "field", e.Field, "problem", e.Problem)
			writeJSON(w, status, usageAnswer(ref.code, msg, e))
			return
		}
		if err != nil {
			s.internal(w, r, err, usageAnswer)
			return
		}
		added, err := s.store.AddUsage(r.Context(), records...)
		if err != nil {
			s.internal(w, r, err, usageAnswer)
			return
		}
		s.usage.WithLabelValues("accepted").Add(float64(added))
		s.usage.WithLabelValues("duplicate").Add(float64(len(records) - added))
		writeJSON(w, http.StatusOK, usageAnswer(mktSuccess, usageSuccess, nil))
	}
}

// push is one usage push being checked.
type push struct {
	s         *Server
	r         *http.Request
	seller    simulator.Seller
	api       simulator.UsageAPI
	body      []byte
	wall, now time.Time
	count     int // records in the push, once known

	instances map[string]owned // by the merchant's instanceId
}

// owned is an instance of the calling seller, with its product.
type owned struct {
	inst    simulator.Instance
	product simulator.Product
}

// check returns the push's records, or the first reason to refuse it.
func (p *push) check() ([]simulator.UsageRecord, error) {
	ct := p.r.Header.Get("Content-Type")
	if media, _, err := mime.ParseMediaType(ct); err != nil || media != "application/json" {
		return nil, reject(mktRequest, "Content-Type", "%q: a usage push is JSON, sent with Content-Type: application/json", ct)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(p.body, &top); err != nil {
		return nil, reject(mktRequest, "", "the body is not a JSON object: %v", err)
	}
	for name := range top {
		if name != "usage_records" {
			return nil, reject(mktInvalid, name, "unknown member; the body is {\"usage_records\":[...]}")
		}
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(top["usage_records"], &raw); err != nil || top["usage_records"] == nil || raw == nil {
		return nil, reject(mktInvalid, "usage_records", "is required: an array of 1 to %d records", maxRecords)
	}
	p.count = len(raw)
	switch {
	case len(raw) == 0:
		return nil, reject(mktEntries, "usage_records", "is empty; push 1 to %d records", maxRecords)
	case len(raw) > maxRecords:
		return nil, reject(mktTooMany, "usage_records", "holds %d records; push at most %d at once", len(raw), maxRecords)
	}
	records := make([]pushed, len(raw))
	for i, b := range raw {
		if err := records[i].parse(p.api, b); err != nil {
			err.field = fmt.Sprintf("usage_records[%d].%s", i, err.field)
			return nil, err
		}
	}
	key := ""
	if p.api == simulator.UsageNew {
		var err error
		if key, err = p.bodySignature(records); err != nil {
			return nil, err
		}
	}
	seen := map[string]int{}
	out := make([]simulator.UsageRecord, len(records))
	for i, rec := range records {
		field := func(name string) string { return fmt.Sprintf("usage_records[%d].%s", i, name) }
		if err := rec.checkTimes(p.wall); err != nil {
			err.field = field(err.field)
			return nil, err
		}
		o, err := p.instance(field("instance_id"), rec.get("instance_id"))
		if err != nil {
			return nil, err
		}
		if err := p.checkProduct(i, rec, o, key); err != nil {
			return nil, err
		}
		u := simulator.UsageRecord{
			SellerID: p.seller.ID, API: p.api, InstanceKey: o.inst.Key, InstanceID: o.inst.ID, ProductID: o.inst.ProductID,
			RecordTime: rec.get("record_time"), BeginTime: rec.get("begin_time"), EndTime: rec.get("end_time"),
			UsageValue: rec.get("usage_value"), MeteringSN: rec.get("metering_sn"), RelatePkgInstance: rec.get("relate_pkg_instance"),
			AcceptedAt: p.now,
		}
		dedupe := u.InstanceKey + "\x00" + u.DedupeKey()
		if j, ok := seen[dedupe]; ok {
			if p.api == simulator.UsageOld {
				return nil, reject(mktInvalid, field("begin_time"), "records %d and %d are for the same instance and span (%s to %s); push each span once", j, i, u.BeginTime, u.EndTime)
			}
			return nil, reject(mktInvalid, field("metering_sn"), "%q is also the metering_sn of record %d for the same instance; each record needs its own", u.MeteringSN, j)
		}
		seen[dedupe] = i
		out[i] = u
	}
	return out, nil
}

// checkProduct checks a record against its instance's product: an
// on-demand product, the product_id the old API names, the package the
// usage draws from, and (new API) the access key that signed the body.
func (p *push) checkProduct(i int, rec pushed, o owned, key string) error {
	field := func(name string) string { return fmt.Sprintf("usage_records[%d].%s", i, name) }
	mode := o.product.ChargingMode
	if mode != simulator.OnDemand && mode != simulator.OnDemandPkg {
		return reject(mktInvalid, field("instance_id"), "instance %s is of product %s, sold %s; usage is pushed only for ON_DEMAND and ON_DEMAND_PKG instances", o.inst.ID, o.product.ID, mode)
	}
	if p.api == simulator.UsageOld && rec.get("product_id") != o.inst.ProductID {
		return reject(mktInvalid, field("product_id"), "%q is not the product of instance %s, which is %s", rec.get("product_id"), o.inst.ID, o.inst.ProductID)
	}
	pkg := rec.get("relate_pkg_instance")
	if pkg == "" && mode == simulator.OnDemandPkg {
		return reject(mktInvalid, field("relate_pkg_instance"), "is required: instance %s is a package (ON_DEMAND_PKG), so its usage names the package instance it draws from", o.inst.ID)
	}
	if pkg != "" {
		po, err := p.instance(field("relate_pkg_instance"), pkg)
		if err != nil {
			return err
		}
		if po.product.ChargingMode != simulator.OnDemandPkg {
			return reject(mktInvalid, field("relate_pkg_instance"), "instance %s is of product %s, sold %s, not a package (ON_DEMAND_PKG)", pkg, po.product.ID, po.product.ChargingMode)
		}
	}
	if p.api == simulator.UsageNew && o.product.AccessKey != key {
		return reject(mktBodySign, field("instance_id"), "instance %s is of product %s, whose access key did not sign this body; "+
			"sign each push with the access key of the product its instances belong to, and push the usage of products with different keys apart", o.inst.ID, o.product.ID)
	}
	return nil
}

// instance finds the seller's instance with the merchant's instanceId id:
// MKT.9001 when no instance has it, MKT.0150 when only other sellers'
// instances do.
func (p *push) instance(field, id string) (owned, error) {
	if o, ok := p.instances[id]; ok {
		return o, nil
	}
	ctx := p.r.Context()
	all, err := p.s.store.Instances(ctx, simulator.InstanceFilter{ID: id})
	if err != nil {
		return owned{}, err
	}
	if len(all) == 0 {
		return owned{}, reject(mktNoInst, field, "no instance has the instanceId %q: push usage with the instanceId the merchant answered newInstance with", id)
	}
	for _, inst := range all {
		pr, err := p.s.store.Product(ctx, inst.ProductID)
		if err != nil {
			return owned{}, err
		}
		if pr.SellerID == p.seller.ID {
			if p.instances == nil {
				p.instances = map[string]owned{}
			}
			p.instances[id] = owned{inst, pr}
			return p.instances[id], nil
		}
	}
	return owned{}, reject(mktIllegal, field, "instance %s is not of a product of seller %s, whose AK signed this call", id, p.seller.ID)
}

// bodySignature checks the new API's ts/nonce/signature headers against
// the access keys of the seller's products and returns the key that
// signed (open-api.md §4.1, vector U1).
func (p *push) bodySignature(records []pushed) (string, error) {
	h := p.r.Header
	ts, nonce, sig := h.Get(protocol.UsageTimestampHeader), h.Get(protocol.UsageNonceHeader), h.Get(protocol.UsageSignatureHeader)
	for _, hv := range [][2]string{{protocol.UsageTimestampHeader, ts}, {protocol.UsageNonceHeader, nonce}, {protocol.UsageSignatureHeader, sig}} {
		if hv[1] == "" {
			return "", reject(mktBodySign, hv[0], "header is missing: the new usage push carries ts, nonce and signature = Base64(HMAC-SHA256(access key, \"ts={ts}&nonce={nonce}&body={canonical body}\"))")
		}
	}
	products, err := p.s.store.Products(p.r.Context())
	if err != nil {
		return "", err
	}
	var keys []string
	for _, pr := range products {
		if pr.SellerID == p.seller.ID && !slices.Contains(keys, pr.AccessKey) {
			keys = append(keys, pr.AccessKey)
		}
	}
	if len(keys) == 0 {
		return "", reject(mktBodySign, protocol.UsageSignatureHeader, "seller %s owns no product, so no product's access key can have signed the body", p.seller.ID)
	}
	for _, k := range keys {
		if protocol.VerifyUsage(k, ts, nonce, sig, p.body) == nil {
			return k, nil
		}
	}
	// Explain with the key of the first record's product when it is the
	// seller's: the one the merchant meant to sign with.
	key := keys[0]
	if o, err := p.instance("", records[0].get("instance_id")); err == nil {
		key = o.product.AccessKey
	}
	err = protocol.VerifyUsage(key, ts, nonce, sig, p.body)
	ref := reject(mktBodySign, protocol.UsageSignatureHeader, "the body signature matches no access key of seller %s's products", p.seller.ID)
	if m, ok := errors.AsType[*protocol.Mismatch](err); ok {
		ref.e = &explanation{
			Problem: ref.problem + "; the string below is what kgsim signed with the access key of the first record's product", Field: ref.field,
			LikelyCause: m.Cause, StringToSign: m.Canonical, ReceivedSignature: m.Received,
		}
	}
	return "", ref
}

// pushed is one record as sent: its members, every one a string.
type pushed map[string]string

// member is a member of a record: mandatory or not, and its longest
// value (a time's is its format's, checked with the format).
type member struct {
	name      string
	mandatory bool
	max       int
}

// fields are the members of a record of each API: mandatory or not, and
// the longest value.
func fields(api simulator.UsageAPI) []member {
	common := []member{
		{"instance_id", true, 64}, {"record_time", true, 17}, {"begin_time", true, 17}, {"end_time", true, 17},
		{"usage_value", true, 20}, {"relate_pkg_instance", false, 64},
	}
	if api == simulator.UsageOld {
		return append(common, member{"product_id", true, 64})
	}
	return append(common, member{"metering_sn", true, 64})
}

func (rec pushed) get(name string) string { return rec[name] }

// parse reads a record: an object of known members, each a string, the
// mandatory ones present, none too long, usage_value a positive decimal.
func (rec *pushed) parse(api simulator.UsageAPI, b json.RawMessage) *refusal {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil || members == nil {
		return reject(mktInvalid, "", "a record must be a JSON object")
	}
	known := fields(api)
	*rec = pushed{}
	for name, v := range members {
		i := slices.IndexFunc(known, func(f member) bool { return f.name == name })
		if i < 0 {
			var names []string
			for _, f := range known {
				names = append(names, f.name)
			}
			return reject(mktInvalid, name, "unknown member; a record of this API has %s", strings.Join(names, ", "))
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil || string(v) == "null" {
			return reject(mktInvalid, name, "%s is not a JSON string; every member of a record is a string, usage_value included (\"1.5\")", v)
		}
		if len(s) > known[i].max && !strings.HasSuffix(name, "_time") {
			return reject(mktRange, name, "has %d characters; at most %d", len(s), known[i].max)
		}
		(*rec)[name] = s
	}
	for _, f := range known {
		if f.mandatory && (*rec)[f.name] == "" {
			return reject(mktInvalid, f.name, "is required")
		}
	}
	if err := checkUsageValue(rec.get("usage_value")); err != nil {
		return err
	}
	return nil
}

// checkUsageValue requires a decimal above 0 with at most 4 fraction
// digits, written plainly (no sign, exponent or spaces).
func checkUsageValue(v string) *refusal {
	whole, frac, dot := strings.Cut(v, ".")
	digits := func(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }
	switch {
	case !digits(whole) || dot && !digits(frac):
		return reject(mktEntries, "usage_value", "%q is not a decimal number above 0 such as \"12\" or \"0.5\" (no sign, exponent or spaces)", v)
	case len(frac) > maxFraction:
		return reject(mktEntries, "usage_value", "%q has %d fraction digits; at most %d", v, len(frac), maxFraction)
	case strings.Trim(whole+frac, "0") == "":
		return reject(mktEntries, "usage_value", "%q is zero; push only usage above 0", v)
	}
	return nil
}

// checkTimes checks the record's times: the format, end after begin,
// begin at most 21 days and end at most 15 minutes ahead of wall (the
// merchant's times come from its own clock).
func (rec pushed) checkTimes(wall time.Time) *refusal {
	times := map[string]time.Time{}
	for _, name := range []string{"record_time", "begin_time", "end_time"} {
		t, err := time.Parse(usageLayout, rec.get(name))
		if err != nil || len(rec.get(name)) != len(usageLayout) {
			return reject(mktRange, name, "%q is not a UTC time of the form yyyyMMddTHHmmssZ, e.g. 20220809T080000Z", rec.get(name))
		}
		times[name] = t
	}
	begin, end := times["begin_time"], times["end_time"]
	switch {
	case !end.After(begin):
		return reject(mktRange, "end_time", "%s is not after begin_time %s", rec.get("end_time"), rec.get("begin_time"))
	case end.After(wall.Add(maxAhead)):
		return reject(mktRange, "end_time", "%s is %s ahead of kgsim's clock (%s): usage is pushed once its period has ended, and times are UTC (a whole number of hours ahead is local time)",
			rec.get("end_time"), end.Sub(wall).Round(time.Second), wall.UTC().Format(usageLayout))
	case begin.Before(wall.Add(-maxAge)):
		return reject(mktTooOld, "begin_time", "%s is %s old; usage older than 21 days is no longer accepted", rec.get("begin_time"), wall.Sub(begin).Round(time.Second))
	}
	return nil
}
