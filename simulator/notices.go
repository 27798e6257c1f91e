package simulator

import "time"

// NoticeKind is why a failure notice was raised (callbacks.md §12).
type NoticeKind string

const (
	NoticeAttemptFailed NoticeKind = "ATTEMPT_FAILED" // one per failed attempt
	NoticeFinal         NoticeKind = "FINAL"          // retries ran out: order failed, or delivery stopped
	NoticeDialTest      NoticeKind = "DIAL_TEST"      // a dial-test run failed
	NoticeProduct       NoticeKind = "PRODUCT_STATUS" // a product was frozen or delisted
)

// Notice is a failure notice as the marketplace e-mails it to the merchant,
// with the record needed to reproduce the call it is about.
type Notice struct {
	ID         string     `json:"noticeId"`
	Kind       NoticeKind `json:"kind"`
	ProductID  string     `json:"productId"`
	OrderID    string     `json:"orderId,omitempty"`
	InstanceID string     `json:"instanceId,omitempty"`
	MessageID  string     `json:"messageId,omitempty"`
	AttemptN   int        `json:"attempt,omitempty"`
	To         []string   `json:"to"`
	Subject    string     `json:"subject"`
	Body       string     `json:"body"` // the e-mail's text
	// Record is the call record of callbacks.md §12 as JSON: activity, IDs,
	// URL, every attempt so far with its request, signing inputs, answer
	// and verdict. Never the access key. kgsim replay reads it.
	Record    []byte    `json:"record,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	MailedAt  time.Time `json:"mailedAt,omitzero"` // zero until sent over SMTP
}

// DialRun is one dial-test run of a product's saved debug cases
// (callbacks.md §11).
type DialRun struct {
	ID        string    `json:"runId"`
	ProductID string    `json:"productId"`
	At        time.Time `json:"at"` // on the scheduling clock
	// Done is set once every case of the run has its verdict.
	Done   bool `json:"done"`
	Passed bool `json:"passed"`
}
