package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tidwall/gjson"
)

// Admin tokens of these tests: long, so that they can only appear in a
// log or an answer by leaking.
const (
	flagToken = "flag-admin-token-5d1c9a0e7b3f4286"
	envToken  = "env-admin-token-0f6e2b8c4a9d7135"
)

// environ is this process's environment with KGSIM_ADMIN_TOKEN set to
// token, or unset when token is empty, whatever the developer's shell has.
func environ(token string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, adminTokenEnv+"=") {
			env = append(env, kv)
		}
	}
	if token != "" {
		env = append(env, adminTokenEnv+"="+token)
	}
	return env
}

// exchange is one request to a kgsim serve and its answer.
type exchange struct {
	status int
	header http.Header
	body   string
}

// send makes a request to p as a client that sets every header itself;
// host, when set, replaces the Host header.
func (p *process) send(t *testing.T, method, path, host, body string, header ...string) exchange {
	t.Helper()
	req, err := http.NewRequest(method, p.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return exchange{resp.StatusCode, resp.Header, string(b)}
}

// The admin API and /metrics of a real kgsim serve given a token by flag
// and another by environment: the flag's is required, the Host must name
// kgsim, a cross-site text/plain post is refused and changes nothing,
// and the identity provider's routes stay open to any name.
func TestServeAdminAccess(t *testing.T) {
	cmd := serveCmd(buildKgsim(t), filepath.Join(t.TempDir(), "kgsim.db"), writeFixtures(t, "http://127.0.0.1:1"),
		"--log-level", "debug", "--admin-token", flagToken, "--base-url", "http://kgsim.test", "--allowed-host", "kgsim.lan")
	cmd.Env = environ(envToken)
	p := startProcess(t, cmd)
	bearer := "Bearer " + flagToken
	orders := func() int {
		t.Helper()
		x := p.send(t, "GET", "/admin/v1/orders", "", "", "Authorization", bearer)
		if x.status != 200 {
			t.Fatalf("listing orders: %d %s", x.status, x.body)
		}
		return len(gjson.Get(x.body, "orders").Array())
	}

	t.Run("token", func(t *testing.T) {
		for _, path := range []string{"/admin/v1/orders", "/admin/v1/clock", "/metrics"} {
			for _, auth := range []string{"", "Bearer " + envToken, "Bearer " + flagToken[1:]} {
				x := p.send(t, "GET", path, "", "", "Authorization", auth)
				if x.status != 401 || x.header.Get("WWW-Authenticate") != `Bearer realm="kgsim admin"` {
					t.Errorf("%s with %q: %d %v, want 401 and WWW-Authenticate", path, auth, x.status, x.header)
				}
				if e := gjson.Get(x.body, "error"); e.Get("code").String() != "unauthorized" || len(gjson.Parse(x.body).Map()) != 1 {
					t.Errorf("%s with %q: the answer is not the error alone: %s", path, auth, x.body)
				}
			}
			if x := p.send(t, "GET", path, "", "", "Authorization", bearer); x.status != 200 {
				t.Errorf("%s with the flag's token: %d %s", path, x.status, x.body)
			}
		}
	})

	t.Run("cross-site text/plain post", func(t *testing.T) {
		const order = `{"productId":"P-CRASH","customerId":"c-1"}`
		// A page's form: text/plain, its origin, and no token (the
		// browser has none to send); then the same with the token, which
		// a page cannot have but the checks must not depend on.
		for _, auth := range []string{"", bearer} {
			x := p.send(t, "POST", "/admin/v1/orders", "", order, "Content-Type", "text/plain",
				"Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site", "Authorization", auth)
			if x.status != 403 || gjson.Get(x.body, "error.code").String() != "forbidden" {
				t.Errorf("cross-site post (token %v): %d %s, want 403", auth != "", x.status, x.body)
			}
		}
		x := p.send(t, "POST", "/admin/v1/orders", "", order, "Content-Type", "text/plain", "Authorization", bearer)
		if x.status != 415 || gjson.Get(x.body, "error.code").String() != "unsupported_media_type" {
			t.Errorf("text/plain post: %d %s, want 415", x.status, x.body)
		}
		if n := orders(); n != 0 {
			t.Fatalf("%d orders after the refused posts, want 0", n)
		}
		// The body was a valid purchase: sent as JSON, it buys.
		if x := p.send(t, "POST", "/admin/v1/orders", "", order, "Content-Type", "application/json", "Authorization", bearer); x.status != 201 {
			t.Fatalf("the same purchase as JSON: %d %s", x.status, x.body)
		}
		if n := orders(); n != 1 {
			t.Errorf("%d orders, want 1", n)
		}
	})

	t.Run("host", func(t *testing.T) {
		_, port, _ := strings.Cut(strings.TrimPrefix(p.base, "http://"), ":")
		for host, want := range map[string]int{
			"127.0.0.1:" + port: 200, "localhost:" + port: 200, "kgsim.test": 200, "kgsim.lan:" + port: 200,
			"evil.example:" + port: 403, "kgsim.test.evil.example": 403,
		} {
			for _, path := range []string{"/admin/v1/clock", "/metrics"} {
				x := p.send(t, "GET", path, host, "", "Authorization", bearer)
				if x.status != want {
					t.Errorf("%s with Host %s: %d %s, want %d", path, host, x.status, x.body, want)
				}
				if want == 403 && !strings.Contains(x.body, "--allowed-host") {
					t.Errorf("%s with Host %s: the refusal does not say how to allow the name: %s", path, host, x.body)
				}
			}
		}
	})

	t.Run("identity routes under any name, without a token", func(t *testing.T) {
		for _, path := range []string{"/unified-login/", "/healthz"} {
			if x := p.send(t, "GET", path, "sso.merchant.example", ""); x.status != 200 {
				t.Errorf("%s: %d %s", path, x.status, x.body)
			}
		}
	})

	for _, token := range []string{flagToken, envToken} {
		if strings.Contains(p.logText(), token) {
			t.Errorf("the log holds an admin token:\n%s", p.logText())
		}
	}
}

// runServe runs kgsim serve until it listens, stops it with SIGTERM and
// returns all it wrote on standard error.
func runServe(t *testing.T, bin, token string, extra ...string) string {
	t.Helper()
	cmd := serveCmd(bin, filepath.Join(t.TempDir(), "kgsim.db"), writeFixtures(t, "http://127.0.0.1:1"), extra...)
	cmd.Env = environ(token)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr // Wait returns once all of it is copied
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
		cmd.Wait()
		t.Fatalf("kgsim serve did not start: %v\n%s", err, stderr.String())
	}
	cmd.Process.Signal(syscall.SIGTERM)
	io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("kgsim serve: %v\n%s", err, stderr.String())
	}
	return stderr.String()
}

// Listening on every interface without a token prints a warning that
// says what is exposed and how to set a token; with a token, or on
// loopback, there is none.
func TestServeWarnsBeyondLoopback(t *testing.T) {
	bin := buildKgsim(t)
	stderr := runServe(t, bin, "", "--addr", "0.0.0.0:0")
	for _, want := range []string{"warning: listening on", "beyond loopback, without an admin token", "/admin/v1", "/metrics", "KGSIM_ADMIN_TOKEN"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("on 0.0.0.0 without a token, standard error does not say %q:\n%s", want, stderr)
		}
	}
	for name, stderr := range map[string]string{
		"on 0.0.0.0 with a token":      runServe(t, bin, envToken, "--addr", "0.0.0.0:0"),
		"on 127.0.0.1 without a token": runServe(t, bin, ""),
	} {
		if strings.Contains(stderr, "warning") {
			t.Errorf("%s: a warning:\n%s", name, stderr)
		}
		if strings.Contains(stderr, envToken) {
			t.Errorf("%s: the token is on standard error:\n%s", name, stderr)
		}
	}
}

// Bad access flags stop kgsim serve before it listens, naming the flag or
// variable and never showing the token.
func TestServeAccessFlags(t *testing.T) {
	t.Setenv(adminTokenEnv, "")
	for _, c := range []struct {
		args   []string
		env    string
		want   string
		secret string
	}{
		{[]string{"--allowed-host", "kgsim:8080"}, "", `--allowed-host: "kgsim:8080": want a host name without scheme or port`, ""},
		{[]string{"--allowed-host", "http://kgsim"}, "", `--allowed-host: "http://kgsim": want a host name`, ""},
		{[]string{"--admin-token", "hunter2-short"}, "", "--admin-token: the token (not shown) has 13 characters: want 16 to 256", "hunter2-short"},
		{[]string{"--admin-token", "a token with spaces in it"}, "", "--admin-token: the token (not shown)", "a token with spaces in it"},
		{nil, "env-token-with-a-newline\n", "KGSIM_ADMIN_TOKEN: the token (not shown) has 25 characters", "env-token-with"},
		{nil, strings.Repeat("x", 257), "KGSIM_ADMIN_TOKEN: the token (not shown) has 257 characters", strings.Repeat("x", 20)},
	} {
		t.Setenv(adminTokenEnv, c.env)
		r := kgsim(t, "", append([]string{"serve"}, c.args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v %q: exit %d, stderr %q; want exit 2 and %q", c.args, c.env, r.code, r.stderr, c.want)
		}
		if c.secret != "" && strings.Contains(r.stderr+r.stdout, c.secret) {
			t.Errorf("%v: the token is shown: %s", c.args, r.stderr)
		}
	}
}
