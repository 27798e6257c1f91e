package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/httpapi"
)

// adminTokenEnv names the environment variable of the admin token: the
// recommended way to give it, since every user of the machine can read a
// command line in ps.
const adminTokenEnv = "KGSIM_ADMIN_TOKEN"

// minToken is the shortest admin token accepted: 16 random characters
// cannot be guessed over the network.
const minToken = 16

// parseAccess reads --admin-token (else KGSIM_ADMIN_TOKEN) and
// --allowed-host. The token is never echoed, even in an error.
func (c *serveConfig) parseAccess(token string, hosts []string) error {
	source := "--admin-token"
	if token == "" {
		token, source = os.Getenv(adminTokenEnv), adminTokenEnv
	}
	if token != "" {
		if n := len(token); n < minToken || n > httpapi.MaxToken || strings.Trim(token, tokenChars) != "" {
			return simulator.Errorf(simulator.EINVALID, source,
				"the token (not shown) has %d characters: want %d to %d of A-Z a-z 0-9 - . _ ~ + / =, such as the output of openssl rand -hex 16",
				n, minToken, httpapi.MaxToken)
		}
	}
	for _, h := range hosts {
		if h == "" || strings.ContainsAny(h, ":/[]@ ") {
			return simulator.Errorf(simulator.EINVALID, "--allowed-host", "%q: want a host name without scheme or port, such as kgsim.internal", h)
		}
	}
	c.adminToken, c.allowedHosts = token, hosts
	return nil
}

// tokenChars are the characters of an RFC 6750 bearer token, so that
// whatever token is set, a client can send it as it is.
const tokenChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/="

// access is what guards the admin API and /metrics: the token, the base
// URL, and the names kgsim answers to besides IP addresses and localhost
// (the listen address's host when it is a name, and --allowed-host).
func (c *serveConfig) access() httpapi.Access {
	hosts := c.allowedHosts
	if host, _, err := net.SplitHostPort(c.addr); err == nil && host != "" && net.ParseIP(host) == nil {
		hosts = append([]string{host}, hosts...)
	}
	return httpapi.Access{Token: c.adminToken, Base: c.base, Hosts: hosts}
}

// warnExposed warns, on standard error, that kgsim listens beyond
// loopback without an admin token: anyone who reaches the port can drive
// the marketplace.
func warnExposed(w io.Writer, addr net.Addr, token string) {
	if tcp, ok := addr.(*net.TCPAddr); token != "" || ok && tcp.IP.IsLoopback() {
		return
	}
	fmt.Fprintf(w, "kgsim serve: warning: listening on %s, beyond loopback, without an admin token: anyone who can reach this port "+
		"can read and change the marketplace through /admin/v1 and read /metrics; set %s (clients then send "+
		"Authorization: Bearer TOKEN), or listen on 127.0.0.1 only (--addr 127.0.0.1:PORT)\n", addr, adminTokenEnv)
}
