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
// Only reads outside a transaction fill it. A transaction's reads must
// see its own writes, and must not fill it with what may still be rolled
// back. A write forgets before it commits, and a read outside it cannot
// run meanwhile: the DB's one connection is the transaction's until it
// ends, commit or rollback, so what the read then finds is what the
// transaction left. A read that began before the write and ends after it
// keeps nothing: every write moves the generation on. A transaction's
// read may still take what the memo holds (recall): the record as last
// committed, which is what the transaction sees unless it wrote the
// record itself, and then the write forgot it.
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
	mu.mu.Lock()
	v, ok := m[key]
	gen := mu.gen
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

// recall returns what m holds under key, without reading or keeping
// anything: for a read inside a transaction.
func recall[T any](mu *memo, m map[string]T, key string) (T, bool) {
	mu.mu.Lock()
	defer mu.mu.Unlock()
	v, ok := m[key]
	return v, ok
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
