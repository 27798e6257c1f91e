package merchanttest

import (
	"sync"
	"time"
)

// Held is a call the merchant keeps waiting (Reply.Hold) until Release.
type Held struct {
	Call   Call
	Others []Call // the calls held when this one arrived

	once    sync.Once
	release chan struct{}
}

// Release lets the call be answered.
func (h *Held) Release() { h.once.Do(func() { close(h.release) }) }

// Arrived delivers each held call as it arrives.
func (m *Merchant) Arrived() <-chan *Held { return m.arrivals() }

func (m *Merchant) arrivals() chan *Held {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.arrived == nil {
		m.arrived = make(chan *Held, 100)
	}
	return m.arrived
}

// Next returns the next held call to arrive; a test that waits for one in
// vain fails instead of hanging.
func (m *Merchant) Next() *Held {
	m.T.Helper()
	select {
	case h := <-m.Arrived():
		return h
	case <-time.After(10 * time.Second):
		m.T.Fatal("merchant: no call arrived")
		return nil
	}
}

// Holding returns the calls held right now.
func (m *Merchant) Holding() []Call {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Call, len(m.holding))
	for i, h := range m.holding {
		out[i] = h.Call
	}
	return out
}

// ReleaseAll lets every call held right now be answered.
func (m *Merchant) ReleaseAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, h := range m.holding {
		h.Release()
	}
}
