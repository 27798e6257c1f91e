// Package activity is the table of the calls the marketplace makes to a
// merchant: one row per protocol and activity, saying what the spec
// requires of the request and of the answer, what 000004 means and how the
// call is retried (callbacks.md §5, §8, §9.2, §10; kit-sync.md §4, §8).
// Delivery, the engine, the dial tester, replay and the certification
// steps read the row instead of comparing activity names.
package activity

import (
	"strings"

	"github.com/kgsim/kgsim/simulator"
)

// Name is an activity: the "activity" member of a callback, the last path
// segment of a kit sync. A message keeps it as a string (Message.Activity).
type Name string

// The activities of callbacks (callbacks.md §5) and kit syncs
// (kit-sync.md §4).
const (
	NewInstance          Name = "newInstance"
	RefreshInstance      Name = "refreshInstance"
	ExpireInstance       Name = "expireInstance"
	ReleaseInstance      Name = "releaseInstance"
	Upgrade              Name = "upgrade"
	UpgradeInstance      Name = "upgradeInstance"
	InstanceStatus       Name = "instanceStatus"
	UpdateInstanceStatus Name = "updateInstanceStatus"
	QueryInstance        Name = "queryInstance"
	ChangeInstanceCheck  Name = "changeInstanceCheck"
	OrderNotify          Name = "orderNotify"
	GetLicense           Name = "getLicense"
	GetLicenseAsync      Name = "getLicenseAsync"

	TenantSync      Name = "tenantSync"
	ApplicationSync Name = "applicationSync"
	AuthSync        Name = "authSync"
	SingleOrgSync   Name = "singleOrgSync"
	AllOrgSync      Name = "allOrgSync"
)

// Event is what a call tells the merchant, whatever its protocol names
// it: V1 upgrade and V2 upgradeInstance are both an Upgrade.
type Event string

const (
	// Purchase: newInstance, V1 getLicense, and orderNotify for the
	// products on the generic order notification (§5.15).
	Purchase     Event = "purchase"
	Renewal      Event = "renewal"       // refreshInstance
	Expiry       Event = "expiry"        // V1 expireInstance
	StatusChange Event = "status change" // instanceStatus, updateInstanceStatus
	Release      Event = "release"       // releaseInstance
	UpgradeEvent Event = "upgrade"       // upgrade, upgradeInstance
	ChangeCheck  Event = "change check"  // changeInstanceCheck
	Query        Event = "query"         // queryInstance
	License      Event = "License"       // getLicenseAsync
	KitSync      Event = "kit sync"      // the five kit calls
)

// Retry is a call's retry class: its schedule and what it leads to once
// the schedule runs out (callbacks.md §9.2).
type Retry int

const (
	// RetryOnce: one attempt, then the seller center's restart button
	// (queryInstance from the buyer's page, getLicenseAsync, kit syncs,
	// which the console restarts: kit-sync.md §8).
	RetryOnce Retry = iota
	// RetryHourly: T0 and three hourly retries; then the order fails and
	// is unsubscribed.
	RetryHourly
	// RetryQuarterHourly: every 15 minutes through the hour; then the
	// calls stop until restarted.
	RetryQuarterHourly
	// RetryNever: one attempt, whose failure refuses the change.
	RetryNever
)

// Async is what a resultCode 000004 means for a call (callbacks.md §7).
type Async int

const (
	// NotAsync: 000004 is a wrong resultCode like any other.
	NotAsync Async = iota
	// AsyncPolled: accepted, provisioning goes on; queryInstance is
	// polled for the instance's access data (§10.1).
	AsyncPolled
	// AsyncUploaded: accepted; the merchant uploads the License later
	// through the open API (§5.17).
	AsyncUploaded
)

// Spec is one row of the table.
type Spec struct {
	Protocol simulator.Protocol
	Name     Name
	Event    Event
	// Section is where the spec describes the call.
	Section string
	// Request are the members every request carries besides activity,
	// businessId and the signature's (the M rows of the spec's table).
	Request []string
	// Answer are the members the debugger requires of an accepted answer,
	// in the order it checks them (callbacks.md §8 row 8); "a[].b" is b
	// in every entry of the array a.
	Answer []string
	Async  Async
	// Refusable: a resultCode other than 000000 is the merchant's "no",
	// a business answer rather than a failed call (§5.14).
	Refusable bool
	Retry     Retry
	// FreshBusinessID: every attempt carries a businessId of its own,
	// retries included ("每一次请求,businessId皆不一致", §5.1, §5.8).
	FreshBusinessID bool
	// Generic: the call of the generic interface, signed, and its answer
	// checked, with a generic product's key of that interface (§5.15).
	Generic bool
}

// Key is the key a call of this row to p is signed with, and its answer's
// Body-Sign checked with: a generic product's generic interface key for
// the generic interface's call, the basic interfaces' access key for any
// other.
func (s Spec) Key(p *simulator.Product) string {
	if s.Generic && p.Generic() {
		return p.OrderNotifyKey
	}
	return p.AccessKey
}

// table is every call kgsim makes, in the order of the spec's sections.
func table() []Spec {
	const cb, kit = "callbacks.md ", "kit-sync.md "
	v1, v2 := simulator.V1, simulator.V2
	newInstanceAnswer := []string{"instanceId"}
	queryAnswer := []string{"info[].instanceId", "info[].usageInfo[].usageValue", "info[].usageInfo[].statisticalTime"}
	return []Spec{
		{Protocol: v1, Name: NewInstance, Event: Purchase, Section: cb + "§5.1", Request: []string{"customerId", "orderId", "productId"},
			Answer: []string{"instanceId", "appInfo.frontEndUrl"}, Retry: RetryHourly, FreshBusinessID: true},
		{Protocol: v1, Name: RefreshInstance, Event: Renewal, Section: cb + "§5.2", Request: []string{"orderId", "instanceId", "expireTime"}, Retry: RetryQuarterHourly},
		{Protocol: v1, Name: ExpireInstance, Event: Expiry, Section: cb + "§5.3", Request: []string{"instanceId", "orderId"}, Retry: RetryQuarterHourly},
		{Protocol: v1, Name: ReleaseInstance, Event: Release, Section: cb + "§5.4", Request: []string{"instanceId", "orderId"}, Retry: RetryQuarterHourly},
		{Protocol: v1, Name: Upgrade, Event: UpgradeEvent, Section: cb + "§5.5", Request: []string{"instanceId", "orderId", "skuCode", "productId"}, Retry: RetryHourly},
		{Protocol: v1, Name: InstanceStatus, Event: StatusChange, Section: cb + "§5.6", Request: []string{"instanceId", "instanceStatus"}, Retry: RetryQuarterHourly},
		{Protocol: v1, Name: QueryInstance, Event: Query, Section: cb + "§5.7", Request: []string{"instanceId"}, Answer: queryAnswer, Retry: RetryOnce},
		{Protocol: v2, Name: NewInstance, Event: Purchase, Section: cb + "§5.8", Request: []string{"orderId", "orderLineId"},
			Answer: newInstanceAnswer, Async: AsyncPolled, Retry: RetryHourly, FreshBusinessID: true},
		{Protocol: v2, Name: QueryInstance, Event: Query, Section: cb + "§5.9", Request: []string{"instanceId"}, Answer: queryAnswer, Retry: RetryOnce},
		{Protocol: v2, Name: RefreshInstance, Event: Renewal, Section: cb + "§5.10", Request: []string{"scene", "orderId", "orderLineId", "instanceId", "expireTime"}, Retry: RetryQuarterHourly},
		{Protocol: v2, Name: UpdateInstanceStatus, Event: StatusChange, Section: cb + "§5.11", Request: []string{"instanceId", "status"}, Retry: RetryQuarterHourly},
		{Protocol: v2, Name: ReleaseInstance, Event: Release, Section: cb + "§5.12", Request: []string{"instanceId"}, Retry: RetryQuarterHourly},
		{Protocol: v2, Name: UpgradeInstance, Event: UpgradeEvent, Section: cb + "§5.13", Request: []string{"instanceId", "orderId", "orderLineId"}, Retry: RetryHourly},
		{Protocol: v2, Name: ChangeInstanceCheck, Event: ChangeCheck, Section: cb + "§5.14", Request: []string{"instanceId", "productInfo"}, Refusable: true, Retry: RetryNever},
		{Protocol: v2, Name: OrderNotify, Event: Purchase, Section: cb + "§5.15", Request: []string{"orderId", "orderLineId"}, Retry: RetryHourly, Generic: true},
		{Protocol: v1, Name: GetLicense, Event: Purchase, Section: cb + "§5.16", Request: []string{"customerId", "orderId"}, Retry: RetryHourly, FreshBusinessID: true},
		{Protocol: v2, Name: GetLicenseAsync, Event: License, Section: cb + "§5.17", Request: []string{"instanceId", "effectiveTime", "eventId"},
			Async: AsyncUploaded, Retry: RetryOnce},

		{Protocol: simulator.Kit, Name: TenantSync, Event: KitSync, Section: kit + "§4.1",
			Request: []string{"instanceId", "orderId", "tenantId", "tenantCode", "name", "domainName", "flag", "testFlag", "timeStamp"}, Retry: RetryOnce},
		{Protocol: simulator.Kit, Name: ApplicationSync, Event: KitSync, Section: kit + "§4.2, §6",
			Request: []string{"instanceId", "tenantId", "appId", "clientId", "clientSecret", "flag", "testFlag", "timeStamp"}, Retry: RetryOnce},
		{Protocol: simulator.Kit, Name: AuthSync, Event: KitSync, Section: kit + "§4.3",
			Request: []string{"instanceId", "tenantId", "appId", "userList", "currentSyncTime", "flag", "testFlag", "timeStamp"}, Retry: RetryOnce},
		{Protocol: simulator.Kit, Name: SingleOrgSync, Event: KitSync, Section: kit + "§4.4",
			Request: []string{"instanceId", "tenantId", "orgCode", "orgName", "parentCode", "flag", "testFlag", "timeStamp"}, Retry: RetryOnce},
		{Protocol: simulator.Kit, Name: AllOrgSync, Event: KitSync, Section: kit + "§4.5",
			Request: []string{"instanceId", "tenantId", "orgInfoList", "testFlag", "timeStamp"}, Retry: RetryOnce},
	}
}

// rows is the table, built once and only read: the workers share it.
// A Spec's slices are the table's own and must not be changed.
var rows = table()

// Lookup returns the row of a protocol's activity, false when the protocol
// has no such call (a debug case may name anything).
func Lookup(p simulator.Protocol, name string) (Spec, bool) {
	for _, s := range rows {
		if s.Protocol == p && string(s.Name) == name {
			return s, true
		}
	}
	return Spec{}, false
}

// Of returns the row of a message's call, the zero Spec (tried once, no
// requirements) for a call the table does not have.
func Of(m simulator.Message) Spec {
	s, _ := Lookup(m.Protocol, m.Activity)
	return s
}

// Is reports whether a message's activity is name.
func Is(m simulator.Message, name Name) bool { return m.Activity == string(name) }

// All returns every row, in the order of the spec's sections.
func All() []Spec { return table() }

// Sections returns the sections of the calls that match, in table order
// and joined as a reference reads: "callbacks.md §5.5, §5.13".
func Sections(match func(Spec) bool) string {
	var out, doc string
	for _, s := range rows {
		if !match(s) {
			continue
		}
		d, sec, _ := strings.Cut(s.Section, " ")
		switch {
		case out == "":
			out, doc = s.Section, d
		case d == doc:
			out += ", " + sec
		default:
			out += "; " + s.Section
			doc = d
		}
	}
	return out
}
