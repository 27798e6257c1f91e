package main

import (
	"net"
	"os"
	"strconv"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/certify"
	"github.com/kgsim/kgsim/steps"
)

// skEnv holds the seller's SK when --sk is not given: a flag shows in
// process listings.
const skEnv = "KGSIM_SK"

// openAPIFlags are kgsim certify's flags of the open APIs.
type openAPIFlags struct {
	addr, ak, sk, usageWait, licenseURL *string
}

func newOpenAPIFlags(f *flags) openAPIFlags {
	return openAPIFlags{
		addr:       f.string("open-api-addr", "HOST:PORT (e.g. 127.0.0.1:8090)", "where the open APIs are served"),
		ak:         f.string("ak", "AK", "the seller's AK"),
		sk:         f.string("sk", "SK (better: "+skEnv+")", "the seller's SK"),
		usageWait:  f.string("usage-wait", "DURATION (e.g. 10s)", "time given for usage"),
		licenseURL: f.string("license-url", "URL", "the License software's entry"),
	}
}

// apply checks the open-API flags and sets them on o and t: an address
// with a port, the seller's pair, and the checks' settings, all only with
// the address.
func (a openAPIFlags) apply(o *certify.Options, t *steps.Target) error {
	sk := *a.sk
	if sk == "" {
		sk = os.Getenv(skEnv)
	}
	if *a.addr == "" {
		for name, v := range map[string]string{"ak": *a.ak, "sk": *a.sk, "usage-wait": *a.usageWait, "license-url": *a.licenseURL} {
			if v != "" {
				return simulator.Errorf(simulator.EINVALID, "--"+name, "only with --open-api-addr: it is about the merchant's calls to the open APIs kgsim serves there")
			}
		}
		return nil
	}
	// Any host kgsim can listen on: 127.0.0.1, or 0.0.0.0 for a merchant
	// in a container.
	_, port, err := net.SplitHostPort(*a.addr)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 {
		return simulator.Errorf(simulator.EINVALID, "--open-api-addr", "%q: want HOST:PORT with a fixed port, such as 127.0.0.1:8090: the merchant's API base is set to it before the run", *a.addr)
	}
	switch {
	case *a.ak == "":
		return simulator.Errorf(simulator.EINVALID, "--ak", "required with --open-api-addr: the AK of the seller the merchant signs its calls with")
	case sk == "":
		return simulator.Errorf(simulator.EINVALID, "--sk", "required with --open-api-addr (or %s): the SK the merchant signs its calls with", skEnv)
	}
	o.OpenAPI = certify.OpenAPI{Addr: *a.addr, AK: *a.ak, SK: sk}
	if *a.usageWait != "" {
		d, err := time.ParseDuration(*a.usageWait)
		if err != nil || d <= 0 {
			return simulator.Errorf(simulator.EINVALID, "--usage-wait", "%q: want a positive duration such as 10s", *a.usageWait)
		}
		t.UsageWait = d
	}
	if *a.licenseURL != "" && !absoluteHTTP(*a.licenseURL) {
		return simulator.Errorf(simulator.EINVALID, "--license-url", "%q: want an absolute http(s) URL such as http://127.0.0.1:8081/license", *a.licenseURL)
	}
	t.LicenseURL = *a.licenseURL
	return nil
}
