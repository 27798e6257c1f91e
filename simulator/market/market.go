// Package market wires the simulated marketplace's parts together: the
// engine, delivery with its settlers, the dial tests, the joint-operation
// console with its kit syncs, the identity provider and the scheduler,
// over one store and one scheduling clock. kgsim serve and the certification
// steps build the same marketplace through it.
package market

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/delivery"
	"github.com/kgsim/kgsim/simulator/dialtest"
	"github.com/kgsim/kgsim/simulator/engine"
	"github.com/kgsim/kgsim/simulator/identity"
	"github.com/kgsim/kgsim/simulator/kit"
	"github.com/kgsim/kgsim/simulator/openapi"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/kgsim/kgsim/simulator/schedule"
	"github.com/prometheus/client_golang/prometheus"
)

// Config is what a marketplace is built from. Store and Clock are required.
type Config struct {
	Store simulator.Store
	// Clock is the scheduling clock: a *schedule.Virtual, or schedule.Wall.
	Clock     simulator.Clock
	Products  []simulator.Product
	Customers []simulator.Customer
	// Sellers are stored before the products that name them.
	Sellers []simulator.Seller
	// Timeout bounds a merchant's complete answer; 0 means the
	// marketplace's 20 s.
	Timeout time.Duration
	Workers int // callbacks in flight at once to one merchant; 0 means delivery's default
	// Wall signs requests; nil means time.Now.
	Wall   func() time.Time
	Random io.Reader // nil means crypto/rand
	// Registry receives delivery and dial-test metrics; nil means none.
	Registry prometheus.Registerer
	Logger   *slog.Logger // nil means none
	// Base is where kgsim is reached (simBase): the unified login page
	// and the tenants' default identity domains, {Base}/t/{tenantCode},
	// which tenantSync sends. Empty means DefaultBase.
	Base string
	// KitOAEPHash encrypts applicationSync's clientSecret (kit.oaepHash);
	// empty means SHA-256. KitLayout lays kit bodies out on the wire
	// (kit.bodyLayout); empty means the document layout.
	KitOAEPHash protocol.OAEPHash
	KitLayout   delivery.KitLayout
	// Identity are the identity provider's settings for every tenant that
	// does not override them; zero fields take the spec's.
	Identity identity.Settings
	// ObserveOpenAPI, when set, is told of every open-API call the
	// marketplace answers (certification reports them).
	ObserveOpenAPI func(openapi.Exchange)
	// Replica shares the callbacks' attempts with the other kgsim
	// processes on the store; nil when this process is the only one.
	Replica *delivery.Replica
	// SharedKey, with Replica, is the key all the replicas sign login
	// forms with.
	SharedKey []byte
}

// DefaultBase is kgsim serve's default address.
const DefaultBase = "http://127.0.0.1:8080"

// Market is a wired marketplace.
type Market struct {
	Store     simulator.Store
	Engine    *engine.Engine
	Deliverer *delivery.Deliverer
	Dial      *dialtest.Tester
	Kit       *kit.Console
	Identity  *identity.Server
	OpenAPI   *openapi.Server
	Scheduler *schedule.Scheduler
}

// New wires a marketplace and loads the catalogue into its store.
func New(ctx context.Context, c Config) (*Market, error) {
	if c.Timeout == 0 {
		c.Timeout = delivery.DefaultTimeout
	}
	if c.Wall == nil {
		c.Wall = time.Now
	}
	if c.Random == nil {
		c.Random = rand.Reader
	}
	if c.Base == "" {
		c.Base = DefaultBase
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Market{Store: c.Store}
	m.Engine = &engine.Engine{Store: c.Store, Clock: c.Clock, Random: c.Random}
	m.Dial = &dialtest.Tester{Store: c.Store, Clock: c.Clock, Random: c.Random}
	m.Kit = &kit.Console{Store: c.Store, Clock: c.Clock, Random: c.Random, Base: c.Base, OAEPHash: c.KitOAEPHash}
	m.Deliverer = &delivery.Deliverer{
		Store: c.Store, Sender: delivery.NewSender(c.Timeout), Clock: c.Clock, Wall: c.Wall, Random: c.Random,
		Settlers: []simulator.Settler{m.Engine, m.Dial, m.Kit}, Workers: c.Workers, KitLayout: c.KitLayout, Replica: c.Replica,
	}
	var err error
	m.Identity, err = identity.New(identity.Config{Store: c.Store, Clock: c.Clock, Random: c.Random, Base: c.Base, Logger: c.Logger,
		Registry: c.Registry, Defaults: c.Identity, Shared: c.Replica != nil, Key: c.SharedKey})
	if err != nil {
		return nil, err
	}
	if c.Registry != nil {
		m.Dial.Metrics = dialtest.NewMetrics(c.Registry)
		m.Deliverer.Metrics = delivery.NewMetrics(c.Registry)
	}
	// The engine and the dial tests first: what they enqueue for an
	// instant is delivered at that instant. The identity provider purges
	// expired logins daily.
	m.Scheduler = schedule.New(c.Clock, c.Logger, m.Engine, m.Dial, m.Deliverer, m.Identity)
	if m.Scheduler.Virtual() {
		m.Scheduler.Keep(c.Store.PutVirtualNow)
	}
	m.Engine.Notify, m.Dial.Notify, m.Kit.Notify, m.Deliverer.Notify = m.Scheduler.Wake, m.Scheduler.Wake, m.Scheduler.Wake, m.Scheduler.Wake
	m.OpenAPI, err = openapi.New(openapi.Config{Store: c.Store, Clock: c.Clock, Wall: c.Wall, Logger: c.Logger, Registry: c.Registry,
		Observe: c.ObserveOpenAPI})
	if err != nil {
		return nil, err
	}
	if err := putSellers(ctx, c.Store, c.Sellers); err != nil {
		return nil, err
	}
	if err := m.Engine.Load(ctx, c.Products, c.Customers); err != nil {
		return nil, err
	}
	return m, nil
}

// putSellers validates the sellers of the catalogue and stores those the
// store lacks: one already stored keeps what the admin API made of it.
func putSellers(ctx context.Context, store simulator.Store, sellers []simulator.Seller) error {
	for i := range sellers {
		if err := sellers[i].Validate(); err != nil {
			return err
		}
	}
	return store.Update(ctx, func(tx simulator.Tx) error {
		for _, sl := range sellers {
			if _, err := tx.Seller(ctx, sl.ID); err == nil {
				continue
			} else if simulator.ErrorCode(err) != simulator.ENOTFOUND {
				return err
			}
			if err := tx.PutSeller(ctx, sl); err != nil {
				return err
			}
		}
		return nil
	})
}
