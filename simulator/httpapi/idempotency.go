package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// maxIdempotencyKey bounds an Idempotency-Key: a UUID is 36 characters.
const maxIdempotencyKey = 255

// kept is what an Idempotency-Key keeps of the first answer: its body and
// the Location of what it created.
type kept struct {
	Location string `json:"location,omitempty"`
	Answer   []byte `json:"answer"` // the exact bytes
}

// idempotent makes an admin POST safe to send again: with an
// Idempotency-Key header, the first request's answer is kept, and a
// repeat with the same key, method, path and body gets that answer again
// (with Idempotent-Replayed: true) instead of buying, adding or acting a
// second time. A client that saw only a reset retries with its key and
// learns what happened. The key is claimed before the request runs, so a
// repeat while it runs, or after kgsim stopped in the middle of it, is a
// 409 that says the outcome is unknown rather than a second purchase. A
// 5xx answer is not kept: nothing was done, and the request may be sent
// again with the same key. Keys are printable ASCII, 1 to 255 characters,
// and are kept with the database.
func (a *api) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := r.Header["Idempotency-Key"]
		if !ok || r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		if err := checkKey(key); err != nil {
			a.writeError(w, r, err)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256([]byte(r.Method + " " + r.URL.RequestURI() + "\n" + string(body)))
		ctx := context.WithoutCancel(r.Context())
		claim := simulator.IdempotentAnswer{Key: key[0], Request: sum[:], CreatedAt: time.Now().UTC()}
		err = a.store.ClaimKey(ctx, claim)
		if simulator.ErrorCode(err) == simulator.ECONFLICT {
			a.replay(w, r, claim)
			return
		}
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		rec := &answerCopy{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if rec.status >= 500 {
			claim.Status = 0 // forget the key
		} else {
			claim.Status = rec.status
			claim.Body, _ = json.Marshal(kept{Location: rec.Header().Get("Location"), Answer: rec.body.Bytes()})
		}
		if err := a.store.AnswerKey(ctx, claim); err != nil {
			a.log.ErrorContext(r.Context(), "keeping the answer to an Idempotency-Key failed", "requestId", requestID(r), "err", err)
		}
	})
}

// checkKey checks an Idempotency-Key header's value.
func checkKey(values []string) error {
	if len(values) != 1 {
		return simulator.Errorf(simulator.EINVALID, "Idempotency-Key", "sent %d times; send it once", len(values))
	}
	k := values[0]
	if k == "" || len(k) > maxIdempotencyKey {
		return simulator.Errorf(simulator.EINVALID, "Idempotency-Key", "has %d characters; want 1 to %d (a UUID is fine)", len(k), maxIdempotencyKey)
	}
	for i := range len(k) {
		if k[i] < 0x21 || k[i] > 0x7e {
			return simulator.Errorf(simulator.EINVALID, "Idempotency-Key", "character %d is not printable ASCII; want letters, digits and punctuation (a UUID is fine)", i+1)
		}
	}
	return nil
}

// replay answers a repeat of a request whose key was claimed before.
func (a *api) replay(w http.ResponseWriter, r *http.Request, claim simulator.IdempotentAnswer) {
	first, err := a.store.Key(context.WithoutCancel(r.Context()), claim.Key)
	switch {
	case err != nil:
		a.writeError(w, r, err)
	case !bytes.Equal(first.Request, claim.Request):
		a.writeError(w, r, simulator.Errorf(simulator.ECONFLICT, "Idempotency-Key", "%q was first sent with another request (method, path or body); a new request needs a new key", claim.Key))
	case first.Status == 0:
		a.writeError(w, r, simulator.Errorf(simulator.ECONFLICT, "Idempotency-Key",
			"the request first sent with %q is still running, or kgsim stopped while it ran: its outcome is unknown; look it up (GET the listing) before sending it with a new key, or send it again later with this one", claim.Key))
	default:
		var k kept
		if err := json.Unmarshal(first.Body, &k); err != nil {
			a.writeError(w, r, err)
			return
		}
		if k.Location != "" {
			w.Header().Set("Location", k.Location)
		}
		w.Header().Set("Idempotent-Replayed", "true")
		writeBody(w, first.Status, k.Answer)
	}
}

// answerCopy keeps a copy of what a handler answers.
type answerCopy struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (rec *answerCopy) WriteHeader(status int) {
	rec.status = status
	rec.ResponseWriter.WriteHeader(status)
}

func (rec *answerCopy) Write(b []byte) (int, error) {
	rec.body.Write(b)
	return rec.ResponseWriter.Write(b)
}
