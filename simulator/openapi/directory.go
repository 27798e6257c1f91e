package openapi

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"sync"

	"github.com/gorilla/mux"
	"github.com/tidwall/gjson"

	"github.com/kgsim/kgsim/simulator"
)

// Directory serves the open APIs of several marketplaces at one address,
// as kgsim certify does for its scenarios, each a marketplace of its own:
// a call goes to the marketplace that owns what it is about (the order of
// an order query, the first record's instance of a usage push, the first
// code of a License call), before its signature is verified, so that the
// marketplace whose scenario made the merchant call judges the call, a
// refused one included. A call no marketplace owns (a MOCK order, an
// unknown order or instance, a malformed call) goes to the fallback.
type Directory struct {
	fallback http.Handler
	mu       sync.RWMutex
	members  []*marketplace
}

// marketplace is a member of a directory: its server and its routes.
type marketplace struct {
	s *Server
	h http.Handler
}

// NewDirectory returns a directory that answers the calls no member owns
// with fallback.
func NewDirectory(fallback *Server) *Directory {
	return &Directory{fallback: fallback.handler()}
}

// handler is the server's open APIs on a router of their own.
func (s *Server) handler() http.Handler {
	r := mux.NewRouter()
	s.Register(r)
	return r
}

// Add makes s a member until the returned function is called.
func (d *Directory) Add(s *Server) (remove func()) {
	m := &marketplace{s: s, h: s.handler()}
	d.mu.Lock()
	d.members = append(d.members, m)
	d.mu.Unlock()
	return func() {
		d.mu.Lock()
		d.members = slices.DeleteFunc(d.members, func(o *marketplace) bool { return o == m })
		d.mu.Unlock()
	}
}

// ServeHTTP routes a call to the member that owns its subject.
func (d *Directory) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return // the client went away: nobody to answer
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	h := d.fallback
	if kind, key := subject(r, body); key != "" {
		d.mu.RLock()
		members := slices.Clone(d.members)
		d.mu.RUnlock()
		for _, m := range members {
			if m.s.owns(r.Context(), kind, key) {
				h = m.h
				break
			}
		}
	}
	h.ServeHTTP(w, r)
}

// What a call is about.
const (
	aboutOrder    = "order"
	aboutInstance = "instance"
	aboutLicense  = "license"
)

// subject is what a call is about and its key, read without verifying
// anything: "" when the call names none.
func subject(r *http.Request, body []byte) (kind, key string) {
	switch r.URL.Path {
	case OrderQueryPath:
		return aboutOrder, r.URL.Query().Get("orderId")
	case UsagePath, OldUsagePath:
		return aboutInstance, gjson.GetBytes(body, "usage_records.0.instance_id").String()
	case LicenseActivatePath, LicenseHeartbeatPath:
		return aboutLicense, gjson.GetBytes(body, "license").String()
	case LicenseActivateV2Path, LicenseHeartbeatV2Path:
		return aboutLicense, gjson.GetBytes(body, "licenses.0.license").String()
	}
	return "", ""
}

// owns reports whether the server's store holds the subject of a call:
// an order, a merchant's instanceId, a License code.
func (s *Server) owns(ctx context.Context, kind, key string) bool {
	var err error
	switch kind {
	case aboutOrder:
		_, err = s.store.Order(ctx, key)
	case aboutInstance:
		var is []simulator.Instance
		is, err = s.store.Instances(ctx, simulator.InstanceFilter{ID: key, Limit: 1})
		if err == nil && len(is) == 0 {
			return false
		}
	case aboutLicense:
		_, err = s.store.License(ctx, key)
	default:
		return false
	}
	return err == nil
}
