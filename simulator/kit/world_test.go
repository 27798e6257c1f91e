package kit

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/delivery"
	"github.com/kgsim/kgsim/simulator/merchanttest"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/kgsim/kgsim/simulator/schedule"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
)

// t0 is 10:03:04.005 in Beijing, 15 January 2025.
var t0 = time.Date(2025, 1, 15, 2, 3, 4, 5e6, time.UTC)

const (
	kitKey   = "kit-key-0123456789"
	basicKey = "basic-key-0123456789"
	simBase  = "http://kgsim.test:8080"
)

// world is a console and real delivery over one SQLite store, with a
// merchant on loopback that verifies and decrypts every sync.
type world struct {
	t         *testing.T
	ctx       context.Context
	store     *sqlite.DB
	clock     *schedule.Virtual
	console   *Console
	deliverer *delivery.Deliverer
	merchant  *merchanttest.Merchant
	app       simulator.App
	wakes     int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kgsim.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	key := merchanttest.Key(t)
	m := &merchanttest.Merchant{T: t, Key: basicKey, KitKey: kitKey, Private: key}
	url := m.Start()

	w := &world{t: t, ctx: ctx, store: store, clock: schedule.NewVirtual(t0), merchant: m}
	w.console = &Console{Store: store, Clock: w.clock, Random: rand.NewChaCha8([32]byte{6}), Base: simBase, Notify: func() { w.wakes++ }}
	w.deliverer = &delivery.Deliverer{
		Store: store, Sender: delivery.NewSender(5 * time.Second), Clock: w.clock, Wall: time.Now,
		Random: rand.NewChaCha8([32]byte{9}), Settlers: []simulator.Settler{w.console},
	}
	err = store.PutProduct(ctx, simulator.Product{
		ID: "P1", SKUCode: "S1", Name: "Joint office", ChargingMode: simulator.Period, PeriodType: "month",
		URL: url + "/produce", Protocol: simulator.V2, AccessKey: basicKey, NoticeTo: []string{"ops@merchant.test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := protocol.MarshalPublicKeyPEM(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	w.app, err = w.console.AddApp(ctx, simulator.App{
		ID: "APP-1", Name: "Joint office", ProductID: "P1", RedirectURIs: []string{url + "/callback"},
		PublicKeyPEM: string(pub), KitURL: url, KitKey: kitKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// deliver delivers every due sync and returns how many attempts it made.
func (w *world) deliver() int {
	w.t.Helper()
	n, err := w.deliverer.RunDue(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

// tenant adds a tenant with code and name.
func (w *world) tenant(code, name string) simulator.Tenant {
	w.t.Helper()
	tn, err := w.console.AddTenant(w.ctx, simulator.Tenant{Code: code, Name: name})
	if err != nil {
		w.t.Fatal(err)
	}
	return tn
}

// user adds a user that must be accepted.
func (w *world) user(tenant string, u simulator.User, apps ...string) simulator.User {
	w.t.Helper()
	u, _, err := w.console.AddUser(w.ctx, tenant, u, "pw-"+u.UserName, apps)
	if err != nil {
		w.t.Fatal(err)
	}
	return u
}

// bind binds the world's app to a tenant for an instance, authorising
// users as it does.
func (w *world) bind(tenant string, users ...string) (simulator.Client, []simulator.Message) {
	w.t.Helper()
	b, sent, err := w.console.Bind(w.ctx, Binding{Tenant: tenant, AppID: w.app.ID, InstanceID: "inst-1", OrderID: "CS0001", UserNames: users})
	if err != nil {
		w.t.Fatal(err)
	}
	return b, sent
}

// names returns the activities of messages, or the names of calls.
func activities(ms []simulator.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Activity
	}
	return out
}

func callNames(cs []merchanttest.Call) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Activity
	}
	return out
}

// message reads a message back from the store.
func (w *world) message(id string) simulator.Message {
	w.t.Helper()
	m, err := w.store.Message(w.ctx, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return m
}

// outcomes returns the stored outcome of each message.
func (w *world) outcomes(ms []simulator.Message) []simulator.Outcome {
	out := make([]simulator.Outcome, len(ms))
	for i, m := range ms {
		out[i] = w.message(m.ID).Outcome
	}
	return out
}

func equal[T comparable](t *testing.T, what string, got, want []T) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}
