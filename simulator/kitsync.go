package simulator

import (
	"net/url"
	"strings"
	"time"
)

// Kit is the protocol of the joint-operation kit syncs (kit-sync.md): a
// POST of a JSON body to {production address}/produceAPI/v2/{call}, signed
// in x-sign headers under the app's kit key, answered with a resultCode.
// A kit sync (tenantSync, applicationSync, authSync, singleOrgSync or
// allOrgSync, its Activity) is a message of this protocol, of kind
// KindLifecycle: the marketplace sends it on its own, as a binding
// changes. Listings find kit syncs by their protocol (MessageFilter).
// Its rows of the activity table try it once, and a failure stops it
// until the console restarts it (kit-sync.md §8).
const Kit Protocol = "kit"

// Held is a kit sync waiting behind an earlier sync of its queue that
// failed: a binding's syncs go in order and the chain stops at a failure
// (kit-sync.md §7). Restarting the failed sync successfully sends the held
// ones, in order.
const Held Outcome = "HELD_BEHIND_FAILED_SYNC"

// KitQueue is the queue of the kit syncs of one app's binding to one
// tenant: they reach the merchant one at a time, in the order enqueued.
func KitQueue(tenantID, appID string) string {
	return "kit/" + url.PathEscape(tenantID) + "/" + url.PathEscape(appID)
}

// ParseKitQueue returns the tenant and app of a KitQueue, false for any
// other queue.
func ParseKitQueue(queue string) (tenantID, appID string, ok bool) {
	rest, ok := strings.CutPrefix(queue, "kit/")
	if !ok {
		return "", "", false
	}
	t, a, ok := strings.Cut(rest, "/")
	if !ok {
		return "", "", false
	}
	tenantID, err1 := url.PathUnescape(t)
	appID, err2 := url.PathUnescape(a)
	if err1 != nil || err2 != nil || tenantID == "" || appID == "" {
		return "", "", false
	}
	return tenantID, appID, true
}

// KitTime renders a time as kit bodies carry it (timeStamp,
// currentSyncTime): yyyyMMddHHmmssSSS in UTC+8 (kit-sync.md §4).
func KitTime(t time.Time) string {
	s := t.In(Beijing()).Format("20060102150405.000")
	return s[:14] + s[15:]
}
