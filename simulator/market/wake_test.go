package market

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/engine"
	"github.com/kgsim/kgsim/simulator/kit"
	"github.com/kgsim/kgsim/simulator/merchanttest"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/kgsim/kgsim/simulator/schedule"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
)

// What each writer commits is picked up by the running scheduler without
// anyone calling Wake: a purchase's callback (the engine), a dial test
// run now (the catalogue's) and a kit sync (the console's). On synctest's
// clock, which stands still while the test looks, the scheduler waiting
// for its next look (a minute) could only have run the work because the
// writer woke it. Nothing listens at the merchant's address, so each
// callback's attempt fails at once, and is recorded: that is the work
// being picked up.
func TestWritersWakeTheScheduler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		db, err := sqlite.Open(ctx, ":memory:")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		const url = "http://127.0.0.1:1"
		p := simulator.Product{ID: "P1", SKUCode: "S1", Name: "P1", ChargingMode: simulator.Period, PeriodType: "month",
			URL: url + "/produce", Protocol: simulator.V2, AccessKey: "kgsim-test-key-0123456789", NoticeTo: []string{"ops@merchant.example"}}
		m, err := New(ctx, Config{Store: db, Clock: schedule.NewVirtual(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)), Products: []simulator.Product{p},
			Customers: []simulator.Customer{{ID: "c1", Name: "Acme Ltd", Email: "ops@acme.example"}}})
		if err != nil {
			t.Fatal(err)
		}
		run, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			m.Scheduler.Run(run)
			close(done)
		}()
		defer func() {
			stop()
			<-done
		}()
		synctest.Wait()

		// attempted fails the test unless the first callback f lists
		// (the head of its queue) was attempted.
		attempted := func(path string, f simulator.MessageFilter) {
			t.Helper()
			synctest.Wait()
			ms, err := db.Messages(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) == 0 {
				t.Fatalf("%s: no callback enqueued", path)
			}
			if ms[0].Attempts == 0 {
				t.Errorf("%s: %s %s not attempted: the scheduler was not woken", path, ms[0].Activity, ms[0].ID)
			}
		}

		o, _, err := m.Engine.Buy(ctx, engine.Purchase{ProductID: "P1", CustomerID: "c1", PeriodNumber: 1, Amount: "10"})
		if err != nil {
			t.Fatal(err)
		}
		attempted("a purchase", simulator.MessageFilter{OrderID: o.ID})

		params, err := m.Engine.DebugParams(p, "newInstance", "", m.Scheduler.Clock().Now())
		if err != nil {
			t.Fatal(err)
		}
		p.DebugCases = []simulator.DebugCase{{Activity: "newInstance", Params: params}}
		if err := m.Engine.PutProduct(ctx, p); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Dial.RunNow(ctx, "P1"); err != nil {
			t.Fatal(err)
		}
		attempted("a dial test run now", simulator.MessageFilter{Kind: simulator.KindDialTest})

		pub, err := protocol.MarshalPublicKeyPEM(&merchanttest.Key(t).PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		app, err := m.Kit.AddApp(ctx, simulator.App{ID: "APP-1", Name: "Joint office", ProductID: "P1", RedirectURIs: []string{url + "/callback"},
			PublicKeyPEM: string(pub), KitURL: url, KitKey: "kgsim-kit-key-0123456789abcdef"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Kit.AddTenant(ctx, simulator.Tenant{Code: "acme", Name: "Acme Ltd"}); err != nil {
			t.Fatal(err)
		}
		_, sent, err := m.Kit.Bind(ctx, kit.Binding{Tenant: "acme", AppID: app.ID})
		if err != nil {
			t.Fatal(err)
		}
		attempted("a kit binding", simulator.MessageFilter{Queue: sent[0].Queue})
	})
}
