package certify

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// OpenAPI is where a run serves the marketplace's open APIs (open-api.md)
// and the seller's AK/SK the merchant signs its calls with. The merchant
// is configured with http://{Addr} as its marketplace API base.
type OpenAPI struct {
	Addr   string // HOST:PORT; empty serves none
	AK, SK string // the SK is never shown
	// Listener, when set, is where they are served instead of a listener
	// of Addr's own (Addr is then its address): the caller listens first,
	// so that the address it gives the merchant cannot be taken meanwhile.
	// The run closes it.
	Listener net.Listener
}

// serveOpenAPI serves v's open APIs at o.Addr until stop is called.
func serveOpenAPI(ctx context.Context, o OpenAPI, v Vocabulary) (func(), error) {
	if o.AK == "" || o.SK == "" {
		return nil, simulator.Errorf(simulator.EINVALID, "ak", "the open APIs need the seller's AK and SK the merchant signs with (--ak, --sk)")
	}
	api, release, err := v.ServeOpenAPI(ctx, o.AK, o.SK)
	if err != nil {
		return nil, simulator.Errorf(simulator.EINVALID, "ak", "%v", err)
	}
	ln, err := o.Listener, error(nil)
	if ln == nil {
		ln, err = net.Listen("tcp", o.Addr)
	}
	if err != nil {
		release()
		return nil, simulator.Errorf(simulator.EINVALID, "open-api-addr", "cannot serve the open APIs at %s: %v; the merchant calls them at that fixed address, so free it or give another", o.Addr, err)
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			ln.Close()
		}
	}()
	stop := func() {
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown) // calls still in flight after 5 s are cut
		<-done
		release()
	}
	return stop, nil
}
