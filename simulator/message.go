package simulator

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// Message is one logical callback to a merchant: the spec's call record
// (callbacks.md §12). It is stored before it is sent and keeps its ID
// across retries, restarts and crashes.
type Message struct {
	ID       string // unique; NewID makes them
	Kind     string // LIFECYCLE, DEBUG, DIAL_TEST, POLL or DETAILS
	Protocol Protocol
	Activity string
	// Queue orders delivery: the messages of one queue (one instance, a
	// dial-test run) go one at a time, in the order they were enqueued.
	Queue                                                   string
	ProductID, OrderID, OrderLineID, InstanceID, CustomerID string
	URL                                                     string // the production URL as configured
	// Params is the activity's parameters, a JSON object in generation
	// order; V1 renders it as a query, V2 sends it in canonical form.
	Params []byte

	Outcome       Outcome
	Attempts      int
	FirstAttempt  time.Time // zero until the first attempt
	NextAttemptAt time.Time // zero once the outcome is final
	CreatedAt     time.Time
}

// Attempt is one try at delivering a message: the request exactly as sent,
// the answer exactly as received and the marketplace's verdict on it.
type Attempt struct {
	MessageID  string
	N          int // 1-based
	StartedAt  time.Time
	FinishedAt time.Time

	Method, URL string
	Header      http.Header
	Body        []byte
	// Signing inputs, never the key: V1 TimeStamp; V2 Timestamp, Nonce,
	// BodyHMAC; both Canonical (the key as <accessKey>) and Signature.
	TimeStamp, Timestamp, Nonce, BodyHMAC, Canonical, Signature string

	Status         int // 0 when no answer came
	ResponseHeader http.Header
	ResponseBody   []byte
	// ResponseTruncated says ResponseBody is the start of a longer answer:
	// what is kept of one is bounded.
	ResponseTruncated bool
	Error             string // the transport error, if any

	Verdict  Verdict
	Detail   string
	Message  string // the seller-center debugger's text
	Warnings []string
}

// Message kinds. A kind decides the retry schedule along with the
// activity: debug calls and dial-test probes are tried once, polls follow
// the polling schedule (callbacks.md §10.1).
const (
	KindLifecycle = "LIFECYCLE"
	KindDebug     = "DEBUG"
	KindDialTest  = "DIAL_TEST"
	KindPoll      = "POLL" // queryInstance after a newInstance answered 000004
	// KindDetails is the V1 newInstance sent again when the buyer opens
	// the resource details (callbacks.md §10): tried once, it settles
	// nothing.
	KindDetails = "DETAILS"
)

// Filters for listings. Zero fields match everything; Limit 0 means no
// limit. Listings are oldest first, or newest first with Page.Newest.
type (
	MessageFilter struct {
		Kind, ProductID, OrderID, Queue string
		Protocol                        Protocol
		Activity                        string
		InstanceID                      string // the merchant's instanceId
		Outcome                         Outcome
		// Created at or after Since and before Until, when set.
		Since, Until time.Time
		Limit        int
		Page
	}
	// DueFilter is what Due reads. Delivery skips the queues it is
	// attempting and the merchants it already calls as often at once as it
	// may, so that the heads it can start are not hidden behind theirs.
	DueFilter struct {
		Now   time.Time
		Limit int // at least 1
		// SkipQueues are left out. SkipOrigins are left out by the
		// origin of their URL (Origin).
		SkipQueues, SkipOrigins []string
	}
	OrderFilter struct {
		ProductID, CustomerID, InstanceKey string
		State                              OrderState
		SettledSince                       time.Time // orders settled at or after
		Limit                              int
		Page
	}
	InstanceFilter struct {
		ProductID, CustomerID string
		ID                    string // the merchant's instanceId
		State                 InstanceState
		Limit                 int
		Page
	}
	NoticeFilter struct {
		ProductID, OrderID, MessageID string
		Unmailed                      bool
		Since                         time.Time // created at or after
		Limit                         int
		Page
	}
	// Page is where a listing resumes: after the record named After (a
	// message's, order's or notice's ID, an instance's key), the last one
	// a previous call returned with the same filter. A listing can thus be
	// read whole, Limit records at a time, however long it grows; an After
	// that names no record lists nothing.
	Page struct {
		After  string
		Newest bool // newest first instead of oldest first
	}
)

// Store persists kgsim's state. Each method of the embedded Tx is a
// transaction of its own; Update groups several into one, so that a
// business change and the callbacks it causes, or an attempt and the state
// it leads to, are committed together or not at all. A crash therefore
// loses nothing acknowledged and repeats at most the attempt in flight.
type Store interface {
	Tx
	Updater
	// Health is nil while the store can keep what it is given, else an
	// EFULL or EUNAVAILABLE error saying why not: damage found when it
	// was opened, or a write that failed for want of space or a broken
	// file, until one succeeds again.
	Health(ctx context.Context) error
	Close() error
}

// Tx reads and writes kgsim's state: the union of the roles below, each
// the part of the store one concern touches. A consumer declares the roles
// it uses, so that its types say what it reads and writes. Reads of a
// missing record return an ENOTFOUND error.
type Tx interface {
	OutboxTx
	CatalogueTx
	OrdersTx
	NoticesTx
	DialRunsTx
	SellersTx
	ClockTx
	IdempotencyTx
	IdentityTx
	LicenseTx
}

// Updater groups several reads and writes into one transaction.
type Updater interface {
	// Update runs fn in one transaction, committed if fn returns nil.
	// fn must use only tx: the store is busy until fn returns.
	Update(ctx context.Context, fn func(tx Tx) error) error
}

// OutboxTx is the outbox: the messages to deliver and their attempts.
type OutboxTx interface {
	// Enqueue stores new pending messages.
	Enqueue(ctx context.Context, msgs ...Message) error
	// Due returns up to f.Limit pending messages whose next attempt is
	// due at f.Now, each the first-enqueued pending message of its queue,
	// earliest due first, leaving out those f skips.
	Due(ctx context.Context, f DueFilter) ([]Message, error)
	// RecordAttempt stores an attempt and the message state it led to.
	RecordAttempt(ctx context.Context, a Attempt, m Message) error
	// PutMessage updates a stored message's delivery state.
	PutMessage(ctx context.Context, m Message) error
	Message(ctx context.Context, id string) (Message, error)
	Messages(ctx context.Context, f MessageFilter) ([]Message, error)
	// Attempts returns a message's attempts in order.
	Attempts(ctx context.Context, messageID string) ([]Attempt, error)
	// Pending counts the messages not yet final: the outbox depth.
	Pending(ctx context.Context) (int, error)
}

// CatalogueTx is the catalogue: products and the customers who buy them.
type CatalogueTx interface {
	PutProduct(ctx context.Context, p Product) error
	Product(ctx context.Context, id string) (Product, error)
	Products(ctx context.Context) ([]Product, error)
	PutCustomer(ctx context.Context, c Customer) error
	Customer(ctx context.Context, id string) (Customer, error)
	Customers(ctx context.Context) ([]Customer, error)
}

// OrdersTx is orders and the instances they create.
type OrdersTx interface {
	PutOrder(ctx context.Context, o Order) error
	Order(ctx context.Context, id string) (Order, error)
	Orders(ctx context.Context, f OrderFilter) ([]Order, error)
	PutInstance(ctx context.Context, i Instance) error
	Instance(ctx context.Context, key string) (Instance, error)
	Instances(ctx context.Context, f InstanceFilter) ([]Instance, error)
	// DueInstances returns up to limit instances whose NextEventAt is set
	// and at or before now, earliest first.
	DueInstances(ctx context.Context, now time.Time, limit int) ([]Instance, error)
}

// NoticesTx is the failure notices sent to merchants.
type NoticesTx interface {
	AddNotice(ctx context.Context, n Notice) error
	Notice(ctx context.Context, id string) (Notice, error)
	Notices(ctx context.Context, f NoticeFilter) ([]Notice, error)
	MarkMailed(ctx context.Context, id string, at time.Time) error
}

// DialRunsTx is the dial tests' runs.
type DialRunsTx interface {
	PutDialRun(ctx context.Context, r DialRun) error
	// DialRuns returns a product's runs at or after since, oldest first.
	DialRuns(ctx context.Context, productID string, since time.Time) ([]DialRun, error)
}

// SellersTx is sellers and the usage they push (open-api.md).
type SellersTx interface {
	// PutSeller stores a seller, replacing the one with its ID; an AK
	// another seller holds is an ECONFLICT.
	PutSeller(ctx context.Context, s Seller) error
	Seller(ctx context.Context, id string) (Seller, error)
	SellerByAK(ctx context.Context, ak string) (Seller, error)
	// Sellers lists the sellers in the order they were first stored.
	Sellers(ctx context.Context) ([]Seller, error)
	// AddUsage stores the records whose DedupeKey is new for their
	// instance, all or none, and returns how many it stored: a record
	// already accepted is not stored again.
	AddUsage(ctx context.Context, records ...UsageRecord) (int, error)
	// Usage lists accepted records in the order they were accepted.
	Usage(ctx context.Context, f UsageFilter) ([]UsageRecord, error)
}

// ClockTx keeps where the virtual clock stands, for a restart to find
// again.
type ClockTx interface {
	// PutVirtualNow records where the virtual clock stands; VirtualNow
	// reads it back, ENOTFOUND if it never was.
	PutVirtualNow(ctx context.Context, now time.Time) error
	VirtualNow(ctx context.Context) (time.Time, error)
}

// IdempotencyTx keeps the admin requests sent with an Idempotency-Key, so
// that a repeat, even after a restart, gets the first answer.
type IdempotencyTx interface {
	// ClaimKey records that the request of an Idempotency-Key started
	// (Status 0), an ECONFLICT if the key is recorded already; AnswerKey
	// records its answer, or forgets the key when Status is 0; Key reads
	// it.
	ClaimKey(ctx context.Context, k IdempotentAnswer) error
	AnswerKey(ctx context.Context, k IdempotentAnswer) error
	Key(ctx context.Context, key string) (IdempotentAnswer, error)
}

// Settler reacts to a recorded attempt inside the transaction that records
// it: the engine completes or fails the order, the dial tester judges its
// run. Whatever it writes commits with the attempt or not at all.
type Settler interface {
	Settle(ctx context.Context, tx Tx, m Message, a Attempt) error
}

// IdempotentAnswer is what is kept of an admin request sent with an
// Idempotency-Key: a fingerprint of the request, and its answer once there
// is one (Status 0 until then), which a repeat gets again.
type IdempotentAnswer struct {
	Key       string
	Request   []byte // SHA-256 of method, path and body
	Status    int
	Body      []byte
	CreatedAt time.Time
}

// Origin is the server a message's URL reaches: its scheme and authority
// as written, everything before the path, query or fragment
// ("https://merchant.example:8443"). A merchant that hangs, fails or is
// slow is one origin, so delivery bounds the attempts in flight per
// origin; products served by one server share its bound.
func Origin(url string) string {
	scheme := strings.Index(url, "://")
	if scheme < 0 {
		return url
	}
	rest := url[scheme+3:]
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		return url[:scheme+3+end]
	}
	return url
}
