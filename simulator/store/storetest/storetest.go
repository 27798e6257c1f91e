// Package storetest is the conformance suite every simulator.Store back end
// runs from its tests, so that all back ends behave alike.
package storetest

import (
	"context"
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// Run runs the suite; open returns a new, empty store for each test.
//
// Round trips compare with reflect.DeepEqual after one normalisation: a
// back end keeps each time's instant to the nanosecond but not its
// location, and reads times back in UTC (inUTC). Everything else, nil
// and empty lists and byte slices included, reads back exactly as written.
// Two choices are the suite's own: Due and DueInstances refuse a limit
// below 1 and listings a negative Limit (EINVALID); Update rolls back when
// fn panics and lets the panic go on.
func Run(t *testing.T, open func(t *testing.T) simulator.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s simulator.Store)
	}{
		{"MessageRoundTrip", messageRoundTrip},
		{"UnknownRecords", unknownRecords},
		{"EnqueueIsAtomic", enqueueIsAtomic},
		{"DueHeadsOfQueues", dueHeadsOfQueues},
		{"DueOrderAndLimit", dueOrderAndLimit},
		{"DueSkipsQueuesAndOrigins", dueSkipsQueuesAndOrigins},
		{"DueSkipsABacklog", dueSkipsABacklog},
		{"FinalMessagesDoNotBlock", finalMessagesDoNotBlock},
		{"AttemptRoundTrip", attemptRoundTrip},
		{"AttemptForUnknownMessage", attemptForUnknownMessage},
		{"PutMessageUpdatesDeliveryState", putMessageUpdatesDeliveryState},
		{"MessageFilters", messageFilters},
		{"PendingCountsOutboxDepth", pendingCountsOutboxDepth},
		{"BadLimits", badLimits},
		{"UpdateCommits", updateCommits},
		{"UpdateRollsBackOnError", updateRollsBackOnError},
		{"UpdateRollsBackOnPanic", updateRollsBackOnPanic},
		{"UpdatesInParallel", updatesInParallel},
		{"ConcurrentUpdatesFailAlone", concurrentUpdatesFailAlone},
		{"CancelledUpdateFailsAlone", cancelledUpdateFailsAlone},
		{"ProductRoundTrip", productRoundTrip},
		{"CustomerRoundTrip", customerRoundTrip},
		{"OrderRoundTrip", orderRoundTrip},
		{"OrderFilters", orderFilters},
		{"InstanceRoundTrip", instanceRoundTrip},
		{"InstanceFilters", instanceFilters},
		{"DueInstances", dueInstances},
		{"NoticeRoundTrip", noticeRoundTrip},
		{"NoticeAddedOnce", noticeAddedOnce},
		{"NoticeFiltersAndMailing", noticeFiltersAndMailing},
		{"DialRuns", dialRuns},
		{"TenantRoundTrip", tenantRoundTrip},
		{"AppRoundTrip", appRoundTrip},
		{"ClientRoundTrip", clientRoundTrip},
		{"UserRoundTrip", userRoundTrip},
		{"Authorisations", authorisations},
		{"Departments", departments},
		{"Sessions", sessions},
		{"UnknownIdentityRecords", unknownIdentityRecords},
		{"CodeRoundTrip", codeRoundTrip},
		{"CodesAreSingleUse", codesAreSingleUse},
		{"TokenRoundTrip", tokenRoundTrip},
		{"RefreshTokensAreSingleUse", refreshTokensAreSingleUse},
		{"TokenFiltersAndRevocation", tokenFiltersAndRevocation},
		{"TicketRoundTrip", ticketRoundTrip},
		{"PurgeLogins", purgeLogins},
		{"TicketsAreSingleUse", ticketsAreSingleUse},
		{"IdentitySettingsRoundTrip", identitySettingsRoundTrip},
		{"ExpireLogins", expireLogins},
		{"SellerRoundTrip", sellerRoundTrip},
		{"SellersFollowWrites", sellersFollowWrites},
		{"ProductsFollowWrites", productsFollowWrites},
		{"CustomersFollowWrites", customersFollowWrites},
		{"UsageStoredOnce", usageStoredOnce},
		{"UsageIsAtomic", usageIsAtomic},
		{"UsagePages", usagePages},
		{"VirtualNowRoundTrip", virtualNowRoundTrip},
		{"IdempotencyKeys", idempotencyKeys},
		{"LicenseRoundTrip", licenseRoundTrip},
		{"LicenseFilters", licenseFilters},
		{"LicenseIsAtomic", licenseIsAtomic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tt.fn(t, s)
		})
	}
}

// inUTC returns v, a struct, with its time fields in UTC.
func inUTC[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	for i := range rv.NumField() {
		if f := rv.Field(i); f.Type() == reflect.TypeFor[time.Time]() {
			f.Set(reflect.ValueOf(f.Interface().(time.Time).UTC()))
		}
	}
	return v
}

// shanghai is the marketplace's zone: times written in it read back in UTC.
var shanghai = simulator.Beijing()

// check fails the test on a store error.
func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// notFound fails the test unless err is an ENOTFOUND error.
func notFound(t *testing.T, what string, err error) {
	t.Helper()
	if simulator.ErrorCode(err) != simulator.ENOTFOUND {
		t.Errorf("%s: err = %v, want ENOTFOUND", what, err)
	}
}

// keys returns the key of each record, in order.
func keys[T any](records []T, key func(T) string) []string {
	var out []string
	for _, r := range records {
		out = append(out, key(r))
	}
	return out
}

// same fails the test unless a listing returned the keys want, in order.
func same(t *testing.T, what string, got []string, err error, want ...string) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 123456789, time.UTC)

// Pending returns a pending message in queue, due at due.
func Pending(id, queue string, due time.Time) simulator.Message {
	return simulator.Message{
		ID: id, Kind: "LIFECYCLE", Protocol: simulator.V2, Activity: "newInstance", Queue: queue,
		ProductID: "P1", OrderID: "CS1", OrderLineID: "CS1-000001", InstanceID: "", CustomerID: "C1",
		URL: "http://127.0.0.1:1/produce", Params: []byte(`{"activity":"newInstance","orderId":"CS1"}`),
		Outcome: simulator.Pending, NextAttemptAt: due, CreatedAt: t0,
	}
}

func messageRoundTrip(t *testing.T, s simulator.Store) {
	ctx := context.Background()
	m := Pending("01A", "CS1", t0)
	m.InstanceID, m.Attempts, m.FirstAttempt = "i-1", 2, t0.Add(-time.Hour)
	if err := s.Enqueue(ctx, m); err != nil {
		t.Fatal(err)
	}
	got, err := s.Message(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("stored\n %+v\nread back\n %+v", m, got)
	}
}

func enqueueIsAtomic(t *testing.T, s simulator.Store) {
	ctx := context.Background()
	if err := s.Enqueue(ctx, Pending("01A", "q", t0)); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, Pending("01B", "q", t0), Pending("01A", "q", t0)); simulator.ErrorCode(err) != simulator.ECONFLICT {
		t.Fatalf("enqueueing a duplicate ID: err = %v, want ECONFLICT", err)
	}
	if _, err := s.Message(ctx, "01B"); simulator.ErrorCode(err) != simulator.ENOTFOUND {
		t.Errorf("half of a failed batch was stored: %v", err)
	}
}

func ids(ms []simulator.Message) []string {
	return keys(ms, func(m simulator.Message) string { return m.ID })
}

func due(t *testing.T, s simulator.Store, now time.Time, limit int) []string {
	t.Helper()
	ms, err := s.Due(context.Background(), simulator.DueFilter{Now: now, Limit: limit})
	if err != nil {
		t.Fatal(err)
	}
	return ids(ms)
}

// Messages of one queue go one at a time, in the order they were enqueued,
// whatever their IDs: a2 and a3 are enqueued before a1, in two calls.
func dueHeadsOfQueues(t *testing.T, s simulator.Store) {
	ctx := context.Background()
	a1, a2, a3 := Pending("01A1", "A", t0), Pending("01A2", "A", t0), Pending("01A3", "A", t0)
	b1 := Pending("01B1", "B", t0.Add(time.Minute))
	if err := s.Enqueue(ctx, a3, a2); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, a1, b1); err != nil {
		t.Fatal(err)
	}
	if got := due(t, s, t0, 10); !reflect.DeepEqual(got, []string{"01A3"}) {
		t.Fatalf("due at t0 = %v, want [01A3]", got)
	}
	a3.Outcome, a3.Attempts, a3.FirstAttempt, a3.NextAttemptAt = simulator.Succeeded, 1, t0, time.Time{}
	if err := s.RecordAttempt(ctx, simulator.Attempt{MessageID: a3.ID, N: 1, StartedAt: t0, FinishedAt: t0, Verdict: simulator.Success}, a3); err != nil {
		t.Fatal(err)
	}
	if got := due(t, s, t0.Add(time.Minute), 10); !reflect.DeepEqual(got, []string{"01A2", "01B1"}) {
		t.Fatalf("due at t0+1m = %v, want [01A2 01B1]", got)
	}
}

func dueOrderAndLimit(t *testing.T, s simulator.Store) {
	ctx := context.Background()
	if err := s.Enqueue(ctx, Pending("3", "q3", t0), Pending("1", "q1", t0.Add(2*time.Second)), Pending("2", "q2", t0.Add(time.Second)), Pending("4", "q4", t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if got := due(t, s, t0.Add(time.Minute), 10); !reflect.DeepEqual(got, []string{"3", "2", "1"}) {
		t.Errorf("due = %v, want [3 2 1] (by due time)", got)
	}
	if got := due(t, s, t0.Add(time.Minute), 2); !reflect.DeepEqual(got, []string{"3", "2"}) {
		t.Errorf("due with limit 2 = %v", got)
	}
	if got := due(t, s, t0.Add(-time.Second), 10); len(got) != 0 {
		t.Errorf("due before anything is due = %v", got)
	}
	// "The next due message" is asked with a now far in the future.
	if got := due(t, s, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 1); !reflect.DeepEqual(got, []string{"3"}) {
		t.Errorf("due in the year 9999, limit 1 = %v, want [3]", got)
	}
	// Heads due at the same time go in the order they were enqueued.
	if err := s.Enqueue(ctx, Pending("6", "q6", t0.Add(2*time.Hour)), Pending("5", "q5", t0.Add(2*time.Hour))); err != nil {
		t.Fatal(err)
	}
	if got := due(t, s, t0.Add(2*time.Hour), 10); !reflect.DeepEqual(got, []string{"3", "2", "1", "4", "6", "5"}) {
		t.Errorf("due = %v, want [3 2 1 4 6 5] (by due time, then enqueue order)", got)
	}
}

// A message stopped for a manual restart does not hold its queue back.
func finalMessagesDoNotBlock(t *testing.T, s simulator.Store) {
	ctx := context.Background()
	m1, m2 := Pending("1", "q", t0), Pending("2", "q", t0)
	if err := s.Enqueue(ctx, m1, m2); err != nil {
		t.Fatal(err)
	}
	m1.Outcome, m1.Attempts, m1.NextAttemptAt = simulator.Stopped, 5, time.Time{}
	if err := s.RecordAttempt(ctx, simulator.Attempt{MessageID: "1", N: 5, Verdict: simulator.Timeout}, m1); err != nil {
		t.Fatal(err)
	}
	if got := due(t, s, t0, 10); !reflect.DeepEqual(got, []string{"2"}) {
		t.Errorf("due = %v, want [2]", got)
	}
}

func attemptRoundTrip(t *testing.T, s simulator.Store) {
	ctx := context.Background()
	m := Pending("01A", "q", t0)
	if err := s.Enqueue(ctx, m); err != nil {
		t.Fatal(err)
	}
	a1 := simulator.Attempt{
		MessageID: "01A", N: 1, StartedAt: t0, FinishedAt: t0.Add(20 * time.Second),
		Method: "POST", URL: m.URL + "?signature=AB&timestamp=1&nonce=N", Header: http.Header{"Content-Type": {"application/json;charset=UTF-8"}},
		Body: []byte(`{"activity":"newInstance"}`), Timestamp: "1", Nonce: "N", BodyHMAC: "ff", Canonical: "<accessKey>N1ff", Signature: "AB",
		Error: "context deadline exceeded", Verdict: simulator.Timeout, Detail: "no answer", Message: "调测失败,调用接口超时20s.",
	}
	a2 := simulator.Attempt{
		MessageID: "01A", N: 2, StartedAt: t0.Add(time.Hour), FinishedAt: t0.Add(time.Hour + time.Millisecond),
		Method: "POST", URL: m.URL, Header: http.Header{}, Body: []byte{}, Status: 200,
		ResponseHeader: http.Header{"Content-Type": {"application/json"}}, ResponseBody: []byte("{\"resultCode\":\"000000\"}\n"), ResponseTruncated: true,
		Verdict: simulator.Success, Warnings: []string{"RESULT_MSG_MISSING: the answer has no resultMsg"},
	}
	m.Attempts, m.FirstAttempt, m.NextAttemptAt = 1, t0, t0.Add(time.Hour)
	if err := s.RecordAttempt(ctx, a1, m); err != nil {
		t.Fatal(err)
	}
	m.Attempts, m.Outcome, m.NextAttemptAt = 2, simulator.Succeeded, time.Time{}
	if err := s.RecordAttempt(ctx, a2, m); err != nil {
		t.Fatal(err)
	}
	got, err := s.Attempts(ctx, "01A")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !reflect.DeepEqual(normal(got[0]), normal(a1)) || !reflect.DeepEqual(normal(got[1]), normal(a2)) {
		t.Errorf("attempts read back differ:\n got %+v\nwant %+v", got, []simulator.Attempt{a1, a2})
	}
	if back, _ := s.Message(ctx, "01A"); !reflect.DeepEqual(back, m) {
		t.Errorf("message after attempts = %+v, want %+v", back, m)
	}
}

// normal makes empty and absent equal: a back end need not tell an empty
// body or header from none.
func normal(a simulator.Attempt) simulator.Attempt {
	if len(a.Header) == 0 {
		a.Header = nil
	}
	if len(a.ResponseHeader) == 0 {
		a.ResponseHeader = nil
	}
	if len(a.Body) == 0 {
		a.Body = nil
	}
	if len(a.ResponseBody) == 0 {
		a.ResponseBody = nil
	}
	if len(a.Warnings) == 0 {
		a.Warnings = nil
	}
	return a
}

func attemptForUnknownMessage(t *testing.T, s simulator.Store) {
	ctx := context.Background()
	err := s.RecordAttempt(ctx, simulator.Attempt{MessageID: "nope", N: 1, Verdict: simulator.Success}, Pending("nope", "q", t0))
	if err == nil {
		t.Fatal("an attempt for an unknown message was stored")
	}
	if got, _ := s.Attempts(ctx, "nope"); len(got) != 0 {
		t.Errorf("attempts stored anyway: %v", got)
	}
}
