package simulator

// Protocol is the signing generation of a product's production interface
// (callbacks.md §1): V1 GET callbacks with authToken and a Body-Signed
// response, or V2 POST callbacks with a signature over the body.
type Protocol string

const (
	V1 Protocol = "v1"
	V2 Protocol = "v2"
)

// Verdict is how the marketplace judges one attempt of a callback
// (callbacks.md §8). Every verdict but Success, AcceptedAsync and Refused
// counts as a failed call.
type Verdict string

const (
	Success       Verdict = "SUCCESS"
	AcceptedAsync Verdict = "ACCEPTED_ASYNC" // V2 newInstance / getLicenseAsync answered 000004
	Refused       Verdict = "REFUSED"        // changeInstanceCheck said no: a business answer

	Unreachable      Verdict = "UNREACHABLE"
	Timeout          Verdict = "TIMEOUT"
	HTTPStatus       Verdict = "HTTP_STATUS"
	BodySignMissing  Verdict = "BODY_SIGN_MISSING"
	BodySignMismatch Verdict = "BODY_SIGN_MISMATCH"
	ContentType      Verdict = "CONTENT_TYPE"
	BodyParse        Verdict = "BODY_PARSE"
	ResultCode       Verdict = "RESULT_CODE"
	MissingField     Verdict = "MISSING_FIELD"
	FieldLength      Verdict = "FIELD_LENGTH"
	// NotReady: a poll after 000004 was answered, but without the
	// instance's access data yet (callbacks.md §10.1).
	NotReady Verdict = "NOT_READY"
)

// Failed reports whether the verdict makes the marketplace count the call
// as failed, to be retried or noticed.
func (v Verdict) Failed() bool {
	switch v {
	case Success, AcceptedAsync, Refused:
		return false
	}
	return true
}

// Outcome is where a callback's delivery ended (callbacks.md §12).
type Outcome string

const (
	Pending               Outcome = "PENDING"
	Succeeded             Outcome = "SUCCEEDED"
	SucceededAfterRestart Outcome = "SUCCEEDED_AFTER_RESTART"
	// OrderFailed: retries of a new purchase or upgrade ran out; the order
	// failed and was unsubscribed automatically.
	OrderFailed Outcome = "ORDER_FAILED_UNSUBSCRIBED"
	// Stopped: retries ran out; the seller center's restart button is the
	// way on.
	Stopped Outcome = "STOPPED_AWAITING_MANUAL_RESTART"
	// Polling: newInstance answered 000004; a POLL message carries on
	// (callbacks.md §10.1).
	Polling       Outcome = "POLLING"
	ChangeRefused Outcome = "REFUSED"
)
