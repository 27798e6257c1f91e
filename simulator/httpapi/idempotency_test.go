package httpapi

import (
	"crypto/sha256"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/schedule"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
)

// keyed is an admin request sent with an Idempotency-Key.
func (w *world) keyed(key, method, path, body string) answer {
	w.t.Helper()
	req := w.request(method, path, body)
	req.Header.Set("Idempotency-Key", key)
	return w.do(req)
}

const aPurchase = `{"productId":"p1","customerId":"c1","periodNumber":1}`

// A client that saw only a reset retries with its key and gets the first
// answer, and the marketplace holds one order, not two.
func TestIdempotencyKeyRepeatGetsTheFirstAnswer(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	first := w.keyed("8b0f-retry-1", "POST", "/admin/v1/orders", aPurchase)
	again := w.keyed("8b0f-retry-1", "POST", "/admin/v1/orders", aPurchase)
	if first.status != http.StatusCreated || again.status != http.StatusCreated || string(again.body) != string(first.body) {
		t.Fatalf("first %d %s\nagain %d %s\nwant the same 201", first.status, first.body, again.status, again.body)
	}
	if again.header.Get("Idempotent-Replayed") != "true" || again.header.Get("Location") != first.header.Get("Location") || first.header.Get("Location") == "" {
		t.Errorf("the repeat's headers: replayed %q, Location %q (first %q)", again.header.Get("Idempotent-Replayed"), again.header.Get("Location"), first.header.Get("Location"))
	}
	if n := w.orders(); n != 1 {
		t.Errorf("%d orders after a repeat, want 1", n)
	}
	// Another key, or none, is another aPurchase.
	w.keyed("8b0f-retry-2", "POST", "/admin/v1/orders", aPurchase)
	w.must(http.StatusCreated, "POST", "/admin/v1/orders", aPurchase)
	if n := w.orders(); n != 3 {
		t.Errorf("%d orders, want 3", n)
	}
	// The same key with another request is refused, not replayed.
	other := w.keyed("8b0f-retry-1", "POST", "/admin/v1/orders", `{"productId":"p1","customerId":"c1","periodNumber":2}`)
	if other.status != http.StatusConflict || !strings.Contains(other.get("error.message").String(), "another request") {
		t.Errorf("the key with another body: %d %s", other.status, other.body)
	}
	// Keys of other creating POSTs too.
	c1 := w.keyed("cust-1", "POST", "/admin/v1/customers", `{"customerId":"c2","customerName":"Beta"}`)
	c2 := w.keyed("cust-1", "POST", "/admin/v1/customers", `{"customerId":"c2","customerName":"Beta"}`)
	if c1.status != http.StatusCreated || c2.status != http.StatusCreated {
		t.Errorf("adding a customer twice with one key: %d then %d %s, want 201 twice", c1.status, c2.status, c2.body)
	}
}

// A request still running, or cut short by a crash, leaves its outcome
// unknown: a repeat is told so and buys nothing.
func TestIdempotencyKeyOfAnUnfinishedRequest(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	// What a crash in the middle of the aPurchase leaves: the key claimed,
	// no answer kept. Its fingerprint is SHA-256 of "METHOD URI\nbody".
	sum := sha256.Sum256([]byte("POST /admin/v1/orders\n" + aPurchase))
	if err := w.store.ClaimKey(t.Context(), simulator.IdempotentAnswer{Key: "cut-short", Request: sum[:], CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	a := w.keyed("cut-short", "POST", "/admin/v1/orders", aPurchase)
	if a.status != http.StatusConflict || !strings.Contains(a.get("error.message").String(), "outcome is unknown") {
		t.Errorf("repeat of an unfinished request: %d %s", a.status, a.body)
	}
	if n := w.orders(); n != 0 {
		t.Errorf("%d orders, want none", n)
	}
}

// A 5xx answer is not kept: nothing was stored, and the same key may be
// sent again once the cause is gone.
func TestIdempotencyKeyAfterAFailure(t *testing.T) {
	var disk *fullDisk
	w := newWorldOn(t, schedule.NewVirtual(t0), Access{}, func(db *sqlite.DB) simulator.Store {
		disk = &fullDisk{DB: db}
		return disk
	})
	w.catalogue()
	disk.full.Store(true)
	if a := w.keyed("k-full", "POST", "/admin/v1/orders", aPurchase); a.status != http.StatusInsufficientStorage {
		t.Fatalf("on a full disk: %d %s", a.status, a.body)
	}
	disk.full.Store(false)
	if a := w.keyed("k-full", "POST", "/admin/v1/orders", aPurchase); a.status != http.StatusCreated || a.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("the same key once there is space: %d %s (replayed %q), want a new 201", a.status, a.body, a.header.Get("Idempotent-Replayed"))
	}
}

func TestIdempotencyKeyRefusedWhenBad(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	for name, key := range map[string]string{"empty": "", "too long": strings.Repeat("k", 256), "not ASCII": "clé", "a space": "a b"} {
		a := w.keyed(key, "POST", "/admin/v1/orders", aPurchase)
		if a.status != http.StatusBadRequest || a.get("error.field").String() != "Idempotency-Key" {
			t.Errorf("%s key: %d %s", name, a.status, a.body)
		}
	}
	if n := w.orders(); n != 0 {
		t.Errorf("%d orders, want none", n)
	}
}
