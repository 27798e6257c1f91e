package simulator

import (
	"context"
	"net/http"
	"time"
)

// Message is one logical callback to a merchant: the spec's call record
// (callbacks.md §12). It is stored before it is sent and keeps its ID
// across retries, restarts and crashes.
type Message struct {
	ID       string // sortable: IDs of one queue are delivered in ID order
	Kind     string // LIFECYCLE, DEBUG or DIAL_TEST
	Protocol Protocol
	Activity string
	// Queue orders delivery: the messages of one queue (one instance, or
	// one order before its instance exists) go one at a time, in ID order.
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
	Error          string // the transport error, if any

	Verdict  Verdict
	Detail   string
	Message  string // the seller-center debugger's text
	Warnings []string
}

// Store persists kgsim's state. Delivery state is written in one
// transaction with the attempt that changed it, so that a crash loses
// nothing acknowledged and repeats at most the attempt in flight.
type Store interface {
	// Enqueue stores new pending messages.
	Enqueue(ctx context.Context, msgs ...Message) error
	// Due returns up to limit pending messages whose next attempt is due at
	// now, each the oldest pending message of its queue, oldest first.
	Due(ctx context.Context, now time.Time, limit int) ([]Message, error)
	// RecordAttempt stores an attempt and the message state it led to.
	RecordAttempt(ctx context.Context, a Attempt, m Message) error
	// Message returns a stored message, or an ENOTFOUND error.
	Message(ctx context.Context, id string) (Message, error)
	// Attempts returns a message's attempts in order.
	Attempts(ctx context.Context, messageID string) ([]Attempt, error)
	Close() error
}
