package openapi

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/kgsim/kgsim/simulator"
)

// Paths of the License APIs (open-api.md §5): one code at a time (v1) or
// a batch (v2).
const (
	LicenseActivatePath    = "/api/mkp-openapi-public/global/v1/license/activate"
	LicenseHeartbeatPath   = "/api/mkp-openapi-public/global/v1/license/heartbeat"
	LicenseActivateV2Path  = "/api/mkp-openapi-public/global/v2/license/activate"
	LicenseHeartbeatV2Path = "/api/mkp-openapi-public/global/v2/license/heartbeat"
)

// License codes and messages (open-api.md §5.3).
const (
	licSuccess      = "92020000"
	licInternal     = "92020001" // the doc's 500 row; its 403 "Unauthorized" is APIG's refusal here
	licInvalid      = "92020002"
	licIllegalState = "92020003"
	licUnclaimed    = "92020004"
	licNotExist     = "92020005"
	maxLicenseLen   = 64
	maxAccountLen   = 256
	maxIPLen        = 32
	// maxBatch is the most codes a v2 call takes [SIM]: the limit of the
	// License APIs' other batch call (授权码软件使用统计, 100).
	maxBatch = 100
)

// licenseMessage is a code's message and status as §5.3 prints them.
func licenseMessage(code string) (int, string) {
	switch code {
	case licSuccess:
		return http.StatusOK, "success"
	case licInvalid:
		return http.StatusBadRequest, "invalid param"
	case licIllegalState:
		return http.StatusOK, "illegal state"
	case licUnclaimed:
		return http.StatusOK, "can not active before user received."
	case licNotExist:
		return http.StatusOK, "license code not exist."
	}
	return http.StatusInternalServerError, "internal error"
}

// licenseAnswer is a License API's answer: the code, its message, the
// data of a success, and kgsim's explanation of anything else.
type licenseAnswer struct {
	ErrorCode string       `json:"error_code"`
	ErrorMsg  string       `json:"error_msg"`
	Data      any          `json:"data,omitempty"`
	Kgsim     *explanation `json:"kgsim,omitempty"`
}

// licenseShape is the License APIs' refusal of kgsim's own failure.
func licenseShape(_, _ string, e *explanation) any {
	_, msg := licenseMessage(licInternal)
	return licenseAnswer{ErrorCode: licInternal, ErrorMsg: msg, Kgsim: e}
}

// licenseOutcome is what became of one code: a §5.3 code, the data of a
// success, or the problem.
type licenseOutcome struct {
	code  string
	data  any
	field string
	why   string
}

func licenseRefusal(code, field, format string, args ...any) licenseOutcome {
	return licenseOutcome{code: code, field: field, why: fmt.Sprintf(format, args...)}
}

// licenseEntry is one code of a call, as sent.
type licenseEntry struct {
	License        string `json:"license"`
	RealEffectTime string `json:"real_effect_time"`
	HeartbeatInfo  *struct {
		ThirdPartyAccount *string `json:"thirdPartyAccount"`
		IP                *string `json:"ip"`
	} `json:"heartbeatInfo"`
}

// check checks the members of an entry, naming them under prefix.
func (en *licenseEntry) check(prefix string) *licenseOutcome {
	bad := func(field, format string, args ...any) *licenseOutcome {
		o := licenseRefusal(licInvalid, prefix+field, format, args...)
		return &o
	}
	switch {
	case en.License == "":
		return bad("license", "is required: the License code the buyer entered, such as PLXXXXXX")
	case len(en.License) > maxLicenseLen:
		return bad("license", "has %d characters; at most %d", len(en.License), maxLicenseLen)
	case en.RealEffectTime != "" && !validTime(en.RealEffectTime):
		return bad("real_effect_time", "%q is not a UTC time yyyyMMddHHmmss, such as 20250301080000", en.RealEffectTime)
	}
	if hb := en.HeartbeatInfo; hb != nil {
		switch {
		case hb.ThirdPartyAccount == nil || *hb.ThirdPartyAccount == "":
			return bad("heartbeatInfo.thirdPartyAccount", "is required when heartbeatInfo is sent: the user or device the software runs for")
		case utf8.RuneCountInString(*hb.ThirdPartyAccount) > maxAccountLen:
			return bad("heartbeatInfo.thirdPartyAccount", "is over %d characters", maxAccountLen)
		case hb.IP != nil && len(*hb.IP) > maxIPLen:
			return bad("heartbeatInfo.ip", "is over %d characters", maxIPLen)
		}
	}
	return nil
}

func validTime(s string) bool {
	_, err := time.Parse(businessTime, s)
	return err == nil && len(s) == len(businessTime)
}

// licenseHandler answers a License API: activate or heartbeat, one code
// (v1) or a batch (v2).
func (s *Server) licenseHandler(activate, batch bool) func(w http.ResponseWriter, r *http.Request, c call) {
	spec := "open-api.md §5.2"
	if activate {
		spec = "open-api.md §5.1"
	}
	act := s.heartbeat
	if activate {
		act = s.activate
	}
	return func(w http.ResponseWriter, r *http.Request, c call) {
		answer := func(o licenseOutcome) {
			status, msg := licenseMessage(o.code)
			a := licenseAnswer{ErrorCode: o.code, ErrorMsg: msg, Data: o.data}
			if o.code != licSuccess {
				a.Kgsim = &explanation{Problem: o.why, Field: o.field, Spec: spec}
				s.log.InfoContext(r.Context(), "License call refused", "seller", c.seller.ID, "path", r.URL.Path, "code", o.code, "field", o.field, "problem", o.why)
			}
			writeJSON(w, status, a)
		}
		entries, refused := readLicenseBody(r, c.body, batch)
		if refused != nil {
			answer(*refused)
			return
		}
		results := make([]batchResult, len(entries))
		for i, en := range entries {
			o, err := act(r.Context(), c.seller, en)
			if err != nil {
				s.internal(w, r, err, licenseShape)
				return
			}
			if !batch {
				answer(o)
				return
			}
			_, msg := licenseMessage(o.code)
			results[i] = batchResult{License: en.License, ErrorCode: o.code, ErrorMsg: msg}
			switch v := o.data.(type) {
			case activation:
				results[i].LicenseCodeInfo = v.LicenseCodeInfo
			case *licenseInfo:
				results[i].LicenseInfo = v
			}
			if o.code != licSuccess {
				results[i].Kgsim = &explanation{Problem: o.why, Field: fmt.Sprintf("licenses[%d].%s", i, o.field), Spec: spec}
			}
		}
		answer(licenseOutcome{code: licSuccess, data: map[string]any{"results": results}})
	}
}

// batchResult is one code's result in a v2 answer [SIM: the shapes of the
// batch calls are not published]: the code, its §5.3 code and message,
// and the v1 answer's data.
type batchResult struct {
	License         string       `json:"license"`
	ErrorCode       string       `json:"error_code"`
	ErrorMsg        string       `json:"error_msg"`
	LicenseCodeInfo string       `json:"license_code_info,omitempty"`
	LicenseInfo     *licenseInfo `json:"license_info,omitempty"`
	Kgsim           *explanation `json:"kgsim,omitempty"`
}

// readLicenseBody reads the codes of a call: {"license",...} (v1) or
// {"licenses":[{"license",...}]} (v2), JSON sent as such. Members kgsim
// does not know are ignored: heartbeatInfo "supports extension".
func readLicenseBody(r *http.Request, body []byte, batch bool) ([]licenseEntry, *licenseOutcome) {
	bad := func(field, format string, args ...any) ([]licenseEntry, *licenseOutcome) {
		o := licenseRefusal(licInvalid, field, format, args...)
		return nil, &o
	}
	ct := r.Header.Get("Content-Type")
	if media, _, err := mime.ParseMediaType(ct); err != nil || media != "application/json" {
		return bad("Content-Type", "%q: a License call is JSON, sent with Content-Type: application/json", ct)
	}
	if !batch {
		var en licenseEntry
		if err := json.Unmarshal(body, &en); err != nil {
			return bad("", "the body is not {\"license\":\"PL...\",...}: %v", err)
		}
		if o := en.check(""); o != nil {
			return nil, o
		}
		return []licenseEntry{en}, nil
	}
	var b struct {
		Licenses []licenseEntry `json:"licenses"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return bad("", "the body is not {\"licenses\":[{\"license\":\"PL...\",...}]}: %v", err)
	}
	switch {
	case len(b.Licenses) == 0:
		return bad("licenses", "is required: 1 to %d entries {\"license\":\"PL...\"}", maxBatch)
	case len(b.Licenses) > maxBatch:
		return bad("licenses", "holds %d entries; at most %d at once", len(b.Licenses), maxBatch)
	}
	seen := map[string]int{}
	for i, en := range b.Licenses {
		if o := en.check(fmt.Sprintf("licenses[%d].", i)); o != nil {
			return nil, o
		}
		if j, ok := seen[en.License]; ok {
			return bad(fmt.Sprintf("licenses[%d].license", i), "%s is also entry %d; name each code once", en.License, j)
		}
		seen[en.License] = i
	}
	return b.Licenses, nil
}

// activation is the data of an activation: the code's information as a
// JSON string (open-api.md §5.1).
type activation struct {
	LicenseCodeInfo string `json:"license_code_info"`
}

// licenseCodeInfo is what license_code_info holds, in the documented
// order.
type licenseCodeInfo struct {
	Status     string `json:"status"`
	ExpireTime string `json:"expire_time,omitempty"`
	ProductID  string `json:"product_id"`
	Amount     int    `json:"amount"`
	OrderID    string `json:"order_id,omitempty"`
}

// licenseInfo is the heartbeat's data (open-api.md §5.2).
type licenseInfo struct {
	LicenseCode  string `json:"license_code"`
	Status       string `json:"status"`
	ActivateTime string `json:"activate_time"`
	ExpireTime   string `json:"expire_time,omitempty"`
}

// activate activates one code of the seller's: a claimed code only, from
// real_effect_time if given (not before the order) or now.
func (s *Server) activate(ctx context.Context, seller simulator.Seller, en licenseEntry) (licenseOutcome, error) {
	return s.onLicense(ctx, seller, en.License, func(tx Tx, l simulator.License) (licenseOutcome, error) {
		switch l.State {
		case simulator.LicenseUnclaimed:
			return licenseRefusal(licUnclaimed, "license", "code %s has not been received by the buyer yet (UNCLAIMED): the buyer claims it in the console first (kgsim: POST /admin/v1/licenses/%s/claim)", l.Code, l.Code), nil
		case simulator.LicenseActivated:
			return licenseRefusal(licIllegalState, "license", "code %s was activated already, at %s; check it with the heartbeat (%s)", l.Code, l.ActivatedAt.UTC().Format(businessTime), LicenseHeartbeatPath), nil
		case simulator.LicenseExpired, simulator.LicenseReleased:
			return licenseRefusal(licIllegalState, "license", "code %s is %s: it can no longer be activated", l.Code, l.State), nil
		}
		now := s.clock.Now()
		effect := now
		if en.RealEffectTime != "" {
			effect, _ = time.Parse(businessTime, en.RealEffectTime) // checked by readLicenseBody
			placed, err := placedAt(ctx, tx, l)
			if err != nil {
				return licenseOutcome{}, err
			}
			if effect.Before(placed.Truncate(time.Second)) {
				return licenseRefusal(licInvalid, "real_effect_time", "%s is before the order was placed (%s UTC); the code cannot take effect earlier", en.RealEffectTime, placed.UTC().Format(businessTime)), nil
			}
		}
		l.State, l.ActivatedAt, l.UpdatedAt = simulator.LicenseActivated, effect, now
		if err := tx.PutLicense(ctx, l); err != nil {
			return licenseOutcome{}, err
		}
		info, err := codeInfo(ctx, tx, l)
		return licenseOutcome{code: licSuccess, data: activation{LicenseCodeInfo: info}}, err
	})
}

// heartbeat answers what an activated code of the seller's is now, and
// notes when it was last checked.
func (s *Server) heartbeat(ctx context.Context, seller simulator.Seller, en licenseEntry) (licenseOutcome, error) {
	return s.onLicense(ctx, seller, en.License, func(tx Tx, l simulator.License) (licenseOutcome, error) {
		if l.ActivatedAt.IsZero() {
			return licenseRefusal(licIllegalState, "license", "code %s is %s and was never activated: activate it first (%s)", l.Code, l.State, LicenseActivatePath), nil
		}
		l.LastHeartbeatAt = s.clock.Now()
		if err := tx.PutLicense(ctx, l); err != nil {
			return licenseOutcome{}, err
		}
		expire, err := expireTime(ctx, tx, l)
		return licenseOutcome{code: licSuccess, data: &licenseInfo{
			LicenseCode: l.Code, Status: licenseStatus(l.State), ActivateTime: l.ActivatedAt.UTC().Format(businessTime), ExpireTime: expire,
		}}, err
	})
}

// onLicense runs fn on a code of the seller's in one transaction; another
// seller's code is answered as one that does not exist.
func (s *Server) onLicense(ctx context.Context, seller simulator.Seller, code string, fn func(tx Tx, l simulator.License) (licenseOutcome, error)) (licenseOutcome, error) {
	var out licenseOutcome
	err := s.store.Update(ctx, func(tx simulator.Tx) error {
		l, err := tx.License(ctx, code)
		owned := err == nil
		switch {
		case simulator.ErrorCode(err) == simulator.ENOTFOUND:
		case err != nil:
			return err
		default:
			p, err := tx.Product(ctx, l.ProductID)
			if err != nil {
				return err
			}
			owned = p.SellerID == seller.ID
		}
		if !owned {
			out = licenseRefusal(licNotExist, "license", "seller %s has no License code %s: a code is answered only to the AK of the seller whose product it is for (kgsim: POST /admin/v1/licenses creates test codes)", seller.ID, code)
			return nil
		}
		out, err = fn(tx, l)
		return err
	})
	return out, err
}

// licenseStatus is the status the APIs name a state by: ALIVE, EXPIRED
// or RELEASED (open-api.md §5.2).
func licenseStatus(s simulator.LicenseState) string {
	switch s {
	case simulator.LicenseExpired:
		return "EXPIRED"
	case simulator.LicenseReleased:
		return "RELEASED"
	}
	return "ALIVE"
}

// placedAt is when the code's order was placed, or the code created for a
// code tied to no order.
func placedAt(ctx context.Context, tx simulator.OrdersTx, l simulator.License) (time.Time, error) {
	if l.OrderID == "" {
		return l.CreatedAt, nil
	}
	o, err := tx.Order(ctx, l.OrderID)
	return o.CreatedAt, err
}

// expireTime is the expiry of the code's instance, yyyyMMddHHmmss, or ""
// for a code without one.
func expireTime(ctx context.Context, tx simulator.OrdersTx, l simulator.License) (string, error) {
	if l.InstanceKey == "" {
		return "", nil
	}
	inst, err := tx.Instance(ctx, l.InstanceKey)
	if err != nil || inst.ExpireAt.IsZero() {
		return "", err
	}
	return inst.ExpireAt.UTC().Format(businessTime), nil
}

// codeInfo is license_code_info: a JSON string (open-api.md §5.1).
func codeInfo(ctx context.Context, tx simulator.OrdersTx, l simulator.License) (string, error) {
	expire, err := expireTime(ctx, tx, l)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(licenseCodeInfo{Status: licenseStatus(l.State), ExpireTime: expire, ProductID: l.ProductID, Amount: l.Amount, OrderID: l.OrderID})
	return string(b), err
}
