package sqlite

import (
	"slices"
	"sync"

	"github.com/kgsim/kgsim/simulator"
)

// memo keeps records that are read on every call and seldom written in
// memory: the sellers by AK (every open-API call), the products by ID
// (every order query, usage push and delivery attempt) and the customers
// by ID (every order query). It is the DB's own, and exact: the database
// file is locked to one process, every write goes through this store, and
// a write forgets what it changes.
//
// A write forgets before it commits, and a read outside it cannot run
// meanwhile: the DB's one connection is the transaction's until it ends,
// commit or rollback, so what the read then finds is what the
// transaction left. A read that began before the write and ends after it
// keeps nothing: every write moves the generation on. A transaction's
// read takes what the memo holds: the record as last committed, which is
// what the transaction sees unless it wrote the record itself, and then
// the write forgot it. It fills the memo only while the generation is
// the one its transaction began with: no write of a remembered record
// has run in the transaction (nor could one run outside it), so what it
// read is committed, and stays so should the transaction roll back. A
// read after such a write may see what is rolled back, and keeps nothing.
type memo struct {
	mu        sync.Mutex
	gen       uint64
	sellers   map[string]simulator.Seller  // by AK
	products  map[string]simulator.Product // by ID, shared: handed out as clones
	customers map[string]simulator.Customer
}

// maxRemembered bounds each of the memo's maps: there is a customer for
// every buyer, and a map that is full starts again empty.
const maxRemembered = 10000

func newMemo() *memo {
	return &memo{sellers: map[string]simulator.Seller{}, products: map[string]simulator.Product{}, customers: map[string]simulator.Customer{}}
}

// remembered returns what m holds under key, or what read returns, which
// m keeps unless a write came in meanwhile.
func remembered[T any](mu *memo, m map[string]T, key string, read func() (T, error)) (T, error) {
	return rememberedSince(mu, m, key, mu.generation(), read)
}

// rememberedSince is remembered for a read that keeps what it read only
// if no write came in since generation gen.
func rememberedSince[T any](mu *memo, m map[string]T, key string, gen uint64, read func() (T, error)) (T, error) {
	mu.mu.Lock()
	v, ok := m[key]
	mu.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := read()
	if err != nil {
		return v, err
	}
	mu.mu.Lock()
	if mu.gen == gen {
		if len(m) >= maxRemembered {
			clear(m)
		}
		m[key] = v
	}
	mu.mu.Unlock()
	return v, nil
}

// fromMemo is remembered for a read of s's, in a transaction or not.
func fromMemo[T any](s store, m map[string]T, key string, read func() (T, error)) (T, error) {
	if s.tx != nil {
		return rememberedSince(s.memo, m, key, s.txGen, read)
	}
	return remembered(s.memo, m, key, read)
}

// generation is the memo's generation now.
func (mu *memo) generation() uint64 {
	mu.mu.Lock()
	defer mu.mu.Unlock()
	return mu.gen
}

// forgetSellers forgets every seller: a write may have moved an AK from
// one seller to another, or taken it away.
func (mu *memo) forgetSellers() {
	mu.mu.Lock()
	mu.gen++
	clear(mu.sellers)
	mu.mu.Unlock()
}

// forget forgets the record under key in m, one of the memo's maps.
func forget[T any](mu *memo, m map[string]T, key string) {
	mu.mu.Lock()
	mu.gen++
	delete(m, key)
	mu.mu.Unlock()
}

// cloneProduct is p with lists of its own, so that a caller changing one
// changes neither the memo nor another caller's copy.
func cloneProduct(p simulator.Product) simulator.Product {
	p.NoticeTo = slices.Clone(p.NoticeTo)
	if p.DebugCases != nil {
		cases := make([]simulator.DebugCase, len(p.DebugCases))
		for i, c := range p.DebugCases {
			cases[i] = simulator.DebugCase{Activity: c.Activity, Params: slices.Clone(c.Params)}
		}
		p.DebugCases = cases
	}
	return p
}
