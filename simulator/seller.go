package simulator

import (
	"strconv"
	"strings"
	"time"
)

// Seller is a merchant's account on the marketplace: it owns products and
// holds the access key pair (AK/SK) its open-API calls are signed with
// (open-api.md §2). The SK is a secret: never logged or shown.
type Seller struct {
	ID   string `json:"sellerId"`
	Name string `json:"name"`
	AK   string `json:"ak"`
	SK   string `json:"sk"`
}

// Limits of a seller's fields. An AK travels inside the Authorization
// header, so it holds none of the characters that separate its parts.
const (
	maxSellerID = 64
	maxSellerAK = 128
	maxSellerSK = 256
)

// Validate checks a seller, naming the field at fault.
func (s *Seller) Validate() error {
	switch {
	case s.ID == "" || len(s.ID) > maxSellerID || strings.Trim(s.ID, idChars) != "":
		return Errorf(EINVALID, "sellerId", "%q: want 1 to %d letters, digits, '.', '_' or '-'", s.ID, maxSellerID)
	case strings.TrimSpace(s.Name) == "" || len(s.Name) > 255:
		return Errorf(EINVALID, "name", "is required, at most 255 bytes")
	case s.AK == "" || len(s.AK) > maxSellerAK || strings.Trim(s.AK, idChars) != "":
		return Errorf(EINVALID, "ak", "want 1 to %d letters, digits, '.', '_' or '-' (an AK is sent in the Authorization header as Access=AK)", maxSellerAK)
	case s.SK == "" || len(s.SK) > maxSellerSK:
		return Errorf(EINVALID, "sk", "is required, at most %d bytes", maxSellerSK)
	case strings.TrimSpace(s.SK) != s.SK:
		return Errorf(EINVALID, "sk", "has leading or trailing whitespace, which a merchant's copy would not sign with; trim it")
	}
	return nil
}

// idChars are the characters of seller IDs and AKs.
const idChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

// UsageAPI is which usage push a record came through (open-api.md §4).
type UsageAPI string

const (
	UsageNew UsageAPI = "new" // /api/mkp-openapi-public/global/v1/isv/usage-data
	UsageOld UsageAPI = "old" // /rest/marketplace/v1/isv/usage-data
)

// UsageRecord is one on-demand usage record a merchant pushed and the
// marketplace accepted, with the values as pushed.
type UsageRecord struct {
	// ID is the store's name for the record, given when it is read back:
	// its place in the order records were accepted (UsageID).
	ID       string   `json:"id,omitempty"`
	SellerID string   `json:"sellerId"`
	API      UsageAPI `json:"api"`
	// InstanceKey is the marketplace's key of the instance, InstanceID
	// the merchant's instanceId the record was pushed for.
	InstanceKey string `json:"instanceKey"`
	InstanceID  string `json:"instanceId"`
	ProductID   string `json:"productId"`
	// The pushed values: times as yyyyMMdd'T'HHmmss'Z', the usage as the
	// decimal string sent.
	RecordTime        string    `json:"recordTime"`
	BeginTime         string    `json:"beginTime"`
	EndTime           string    `json:"endTime"`
	UsageValue        string    `json:"usageValue"`
	MeteringSN        string    `json:"meteringSn,omitempty"` // new API only
	RelatePkgInstance string    `json:"relatePkgInstance,omitempty"`
	AcceptedAt        time.Time `json:"acceptedAt"`
}

// DedupeKey is what makes a record a repeat of one already accepted for
// its instance: its metering_sn (new API), or its span (old API, which has
// no metering_sn).
func (u *UsageRecord) DedupeKey() string {
	if u.API == UsageOld {
		return "span:" + u.BeginTime + "/" + u.EndTime
	}
	return "sn:" + u.MeteringSN
}

// UsageFilter selects usage records; zero fields match all.
type UsageFilter struct {
	ID         string // a record's ID
	InstanceID string // the merchant's instanceId
	SellerID   string
	Limit      int // 0 means no limit
	Page           // After: a record's ID
}

// UsageID is the ID of the usage record accepted seq-th.
func UsageID(seq int64) string { return strconv.FormatInt(seq, 10) }

// IsUsageID reports whether id is one UsageID gives: anything else names
// no record.
func IsUsageID(id string) bool {
	seq, err := strconv.ParseInt(id, 10, 64)
	return err == nil && seq > 0 && UsageID(seq) == id
}

// NamesNone reports whether f's ID or After is no usage record's ID, so
// that f matches nothing.
func (f UsageFilter) NamesNone() bool {
	return f.ID != "" && !IsUsageID(f.ID) || f.After != "" && !IsUsageID(f.After)
}
