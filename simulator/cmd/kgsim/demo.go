package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/kgsim/kgsim/fixtures/merchant"
	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/certify"
	"github.com/kgsim/kgsim/steps"
)

func demoCommand() *command {
	return &command{
		name:    "demo",
		summary: "certify the sample merchant, in-process: what kgsim certify does, with nothing to set up",
		help: `Usage: kgsim demo

Starts kgsim's sample merchant (fixtures/merchant, a correct V1 and V2
production interface, with the joint-operation kit syncs and a web
application whose users log in through the marketplace) on a free
loopback port and runs the certification suite against it, once as a V2
merchant and once as a V1 merchant, selling every charging mode, with its
sample kit key and key pair and its login entries; the V2 run also serves
the marketplace's open APIs, which the sample merchant calls with the sample
seller's AK/SK (order query, usage, License). It prints the report kgsim
certify prints, and exits 0 because the sample merchant is correct. To certify your own service, run
kgsim certify --merchant-url with its address.

Example:
  kgsim demo`,
		run: runDemo,
	}
}

// demoAccessKey is the sample products' key (fixtures/products.json);
// demoAK and demoSK the sample seller's (fixtures/sellers.json);
// demoOrderNotifyKey the sample merchant's key of the generic order
// notification, which V2's orderNotify checks sign with.
const (
	demoAccessKey      = "kgsim-sample-access-key"
	demoAK             = "KGSIMSAMPLEAK0000001"
	demoSK             = "kgsim-sample-sk"
	demoOrderNotifyKey = "kgsim-sample-order-notify-key"
)

func runDemo(e *env, args []string) error {
	if _, err := newFlags().parse(args, 0, ""); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return simulator.Errorf(simulator.EINVALID, "", "cannot listen on loopback for the sample merchant: %v", err)
	}
	// The V2 run also serves the open APIs, which the merchant calls: it
	// provisions from the order query, pushes on-demand usage and
	// activates License codes. Listened on first, so that the merchant
	// can be given their address.
	openAPI, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ln.Close()
		return simulator.Errorf(simulator.EINVALID, "", "cannot listen on loopback for the open APIs: %v", err)
	}
	defer openAPI.Close()
	sample := merchant.Config{AccessKey: demoAccessKey, OrderNotifyKey: demoOrderNotifyKey, KitKey: merchant.SampleKitKey, PrivateKey: merchant.SampleKey(),
		MarketURL: "http://" + openAPI.Addr().String(), AK: demoAK, SK: demoSK, QueryOrders: true, UsageEvery: 100 * time.Millisecond}
	h := merchant.New(sample)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	ctx, stopUsage := context.WithCancel(e.context())
	pushed := make(chan struct{})
	go func() {
		defer close(pushed)
		merchant.PushUsage(ctx, h)
	}()
	defer func() {
		stopUsage()
		<-pushed
		srv.Close()
		<-served
	}()

	base := "http://" + ln.Addr().String()
	fmt.Fprintf(e.stdout, "kgsim demo: the sample merchant listens on %s; certifying it as a V2 merchant, then as a V1 merchant.\n\n", base)
	failed := false
	for _, run := range []struct {
		protocol  simulator.Protocol
		path      string
		openAPI   certify.OpenAPI
		notifyKey string // orderNotify is a V2 call
	}{
		{simulator.V2, "/produce", certify.OpenAPI{Addr: openAPI.Addr().String(), Listener: openAPI, AK: demoAK, SK: demoSK}, demoOrderNotifyKey},
		{simulator.V1, "/produce/v1", certify.OpenAPI{}, ""},
	} {
		var license string
		if run.openAPI.Addr != "" {
			license = base + "/license" // the sample's License software, which activates codes through the open APIs
		}
		r, err := certify.Run(e.context(), certify.Options{
			OpenAPI: run.openAPI,
			Steps: steps.NewCertification(steps.Target{
				URL: base + run.path, AccessKey: demoAccessKey, Protocol: run.protocol,
				Modes: []simulator.ChargingMode{simulator.Period, simulator.OnDemand, simulator.OnDemandPkg}, Trial: true, License: true, Upgrade: true,
				KitKey: merchant.SampleKitKey, PublicKeyPEM: merchant.SamplePublicKeyPEM(),
				LoginURL: base + "/app/login", RedirectURI: base + "/app/callback", RefreshURL: base + "/app/refresh", LogoutURL: base + "/app/logout",
				CASLoginURL: base + "/app/cas/login", CASService: base + "/app/cas/callback",
				LicenseURL: license, OrderNotifyKey: run.notifyKey, OpenStore: memoryStore,
			}),
			Out: e.stdout,
		})
		if err != nil {
			return couldNotRun(err)
		}
		failed = failed || r.ExitCode() != 0
		fmt.Fprintln(e.stdout)
	}
	if failed {
		// The sample merchant is correct: a failure here is kgsim's bug.
		fmt.Fprintln(e.stderr, "kgsim demo: the sample merchant failed a required check; it is meant to pass, so this is a bug in kgsim")
		return verdictError{}
	}
	fmt.Fprintf(e.stdout, `The sample merchant passed every required check, as V2 and as V1.
Certify your own service the same way, with its production interface and the
access key it verifies callbacks with (the seller center's 接口密钥):
  kgsim certify --merchant-url http://127.0.0.1:8081/produce --access-key YOUR_ACCESS_KEY [--protocol v1]
`)
	return nil
}
