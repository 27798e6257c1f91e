package main

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/fixtures/merchant"
	"github.com/ory/dockertest/v3"
	dc "github.com/ory/dockertest/v3/docker"
)

// merchantKey is the access key of the sample merchants these tests run.
const merchantKey = "kgsim-sample-access-key"

// sampleMerchant serves the sample merchant, configured by c, on loopback.
func sampleMerchant(t *testing.T, c merchant.Config) string {
	t.Helper()
	c.AccessKey = merchantKey
	srv := httptest.NewServer(merchant.New(c))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestCertifyTheSampleMerchant(t *testing.T) {
	base := sampleMerchant(t, merchant.Config{KitKey: merchant.SampleKitKey, PrivateKey: merchant.SampleKey()})
	pub := filepath.Join(t.TempDir(), "app.pub")
	if err := os.WriteFile(pub, []byte(merchant.SamplePublicKeyPEM()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args  []string
		joint string // the report's "joint operation" list
	}{
		{[]string{"--merchant-url", base + "/produce"}, "none"},
		{[]string{"--merchant-url", base + "/produce/v1", "--protocol", "v1", "--modes", "period,trial,on-demand,package,license", "--encrypt-type", "1"}, "none"},
		{[]string{"--merchant-url", base + "/produce", "--kit-key", merchant.SampleKitKey, "--public-key", pub, "--tags", "@kit"}, "kit"},
		{[]string{"--merchant-url", base + "/produce", "--kit-key", merchant.SampleKitKey, "--public-key", pub, "--app-id", "APP-sample",
			"--login-url", base + "/app/login", "--redirect-uri", base + "/app/callback", "--refresh-url", base + "/app/refresh",
			"--logout-url", base + "/app/logout", "--cas-login-url", base + "/app/cas/login", "--cas-service", base + "/app/cas/callback",
			"--tags", "@login, @cas"}, "kit,login,refresh,logout,cas"},
	} {
		r := kgsim(t, "", append([]string{"certify", "--access-key", merchantKey}, tc.args...)...)
		if r.code != exitOK || !strings.Contains(r.stdout, "PASS: every") || r.stderr != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout:\n%s", tc.args, r.code, r.stderr, r.stdout)
		}
		if !strings.Contains(r.stdout, "joint operation "+tc.joint+", open APIs none)") {
			t.Errorf("%v: the report's header does not say joint operation %s:\n%s", tc.args, tc.joint, r.stdout)
		}
		if strings.Contains(r.stdout, merchantKey) || strings.Contains(r.stdout, merchant.SampleKitKey) {
			t.Errorf("%v: the report shows the access key or the kit key", tc.args)
		}
	}
}

// A merchant with one defect fails with exit 1, and the report names the
// scenario that caught it.
func TestCertifyABrokenMerchant(t *testing.T) {
	base := sampleMerchant(t, merchant.Config{Defect: merchant.DefectReleaseNotRepeatable})
	r := kgsim(t, "", "certify", "--merchant-url", base+"/produce", "--access-key", merchantKey)
	if r.code != exitInvalid || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 1", r.code, r.stderr)
	}
	failed := regexp.MustCompile(`(?m)^\[\s*\d+/\d+\] FAIL  (.+?)  \((\S+\.feature):\d+ @required`).FindAllStringSubmatch(r.stdout, -1)
	if len(failed) == 0 {
		t.Fatalf("no failed required scenario in the report:\n%s", r.stdout)
	}
	named := false
	for _, f := range failed {
		named = named || strings.Contains(strings.ToLower(f[1]), "releas")
	}
	if !named {
		t.Errorf("no release scenario among the failures %q:\n%s", failed, r.stdout)
	}
	if !strings.Contains(r.stdout, "FAIL: ") {
		t.Errorf("no FAIL verdict:\n%s", r.stdout)
	}
}

func TestCertifyCouldNotRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/produce"
	ln.Close()
	base := sampleMerchant(t, merchant.Config{})
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--merchant-url", dead, "--access-key", "k"}, "kgsim certify: merchant unreachable at the start: GET " + dead + ": "},
		{[]string{"--merchant-url", "http://no-such-host.invalid/produce", "--access-key", "k"}, "merchant unreachable at the start"},
		{[]string{"--merchant-url", base, "--access-key", "k", "--tags", "@no-such-tag"}, `--tags: "@no-such-tag" selects no scenario`},
		{[]string{"--merchant-url", base, "--access-key", "k", "--format", "junit:/no/such/dir/r.xml"}, "--format: \"junit:/no/such/dir/r.xml\": the directory /no/such/dir does not exist"},
	}
	for _, tt := range tests {
		wantCouldNotRun(t, kgsim(t, "", append([]string{"certify"}, tt.args...)...), tt.want)
	}
}

// Bad flags exit 2 with one line that names the flag and the form wanted.
func TestCertifyBadFlags(t *testing.T) {
	u := "http://127.0.0.1:1/produce"
	tests := []struct {
		args []string
		want string
	}{
		{nil, "--merchant-url: required; want --merchant-url URL, or --merchant-image IMAGE --merchant-port PORT"},
		{[]string{"--access-key", "k"}, "--merchant-url: required"},
		{[]string{"--merchant-url", u}, "--access-key: required; want --access-key KEY"},
		{[]string{"--merchant-url", "127.0.0.1:8081/produce", "--access-key", "k"}, `--merchant-url: "127.0.0.1:8081/produce": want an absolute http(s) URL`},
		{[]string{"--merchant-url", u, "--merchant-image", "m:1", "--access-key", "k"}, "--merchant-image: give either --merchant-url or --merchant-image, not both"},
		{[]string{"--merchant-url", u, "--merchant-port", "8081", "--access-key", "k"}, "--merchant-port: only with --merchant-image"},
		{[]string{"--merchant-url", u, "--access-key", "k", "--protocol", "v3"}, `--protocol: "v3": want v2 or v1`},
		{[]string{"--merchant-url", u, "--access-key", "k", "--encrypt-type", "3"}, `--encrypt-type: "3": want 1 (AES-256) or 2 (AES-128)`},
		{[]string{"--merchant-url", u, "--access-key", "k", "--modes", "period,weekly"}, `--modes: "period,weekly": want a comma-separated list of period, trial, on-demand, package, license`},
		{[]string{"--merchant-url", u, "--access-key", "k", "--timeout", "soon"}, `--timeout: "soon": want a positive duration`},
		{[]string{"--merchant-url", u, "--access-key", "k", "--tags", "@a and not @b"}, `--tags: "@a and not @b": want tags joined by &&`},
		{[]string{"--merchant-url", u, "--access-key", "k", "--format", "xml:r.xml"}, `--format: "xml:r.xml": want pretty, junit:PATH, cucumber:PATH or html:PATH`},
		{[]string{"--merchant-url", u, "--access-key", "k", "--format", "html"}, `--format: "html": want html:PATH`},
		{[]string{"--merchant-url", u, "--access-key", "k", "--strict=maybe"}, "invalid boolean value"},
		{[]string{"--merchant-url", u, "--access-key", "k", "--frob"}, "unknown flag --frob"},
		{[]string{"--merchant-image", "m:1", "--access-key", "k"}, "--merchant-port: required; want --merchant-port PORT"},
		{[]string{"--merchant-image", "m:1", "--merchant-port", "http", "--access-key", "k"}, `--merchant-port: "http": want the port the service listens on inside the container, 1 to 65535`},
		{[]string{"--merchant-image", "m:1", "--merchant-port", "8081", "--merchant-path", "produce", "--access-key", "k"}, `--merchant-path: "produce": want a path starting with /`},
		{[]string{"--merchant-image", "m:1", "--merchant-port", "8081", "--merchant-env", "NOVALUE", "--access-key", "k"}, `--merchant-env: "NOVALUE": want K=V`},
		{[]string{"--merchant-image", "m:1", "--merchant-port", "8081"}, "--access-key: required"},
		{[]string{"--merchant-image", "m@sha256:abc", "--merchant-port", "8081", "--access-key", "k"}, `--merchant-image: "m@sha256:abc": want NAME[:TAG]`},
		{[]string{"stray", "--merchant-url", u, "--access-key", "k"}, `unexpected argument "stray"`},
	}
	pub, junk := filepath.Join(t.TempDir(), "app.pub"), filepath.Join(t.TempDir(), "junk.pem")
	if err := errors.Join(os.WriteFile(pub, []byte(merchant.SamplePublicKeyPEM()), 0o600), os.WriteFile(junk, []byte("not a key"), 0o600)); err != nil {
		t.Fatal(err)
	}
	kit := []string{"--merchant-url", u, "--access-key", "k", "--kit-key", "kk", "--public-key", pub}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--kit-key", "kk"}, "--public-key: required with --kit-key; want --public-key FILE (PEM)"},
		{[]string{"--public-key", pub}, "--kit-key: required with --public-key; want --kit-key KEY"},
		{[]string{"--kit-key", "k", "--public-key", pub}, "--kit-key: is the --access-key; the kit key is a separate key"},
		{[]string{"--kit-key", "kk", "--public-key", "/no/such.pem"}, "--public-key: cannot read /no/such.pem"},
		{[]string{"--kit-key", "kk", "--public-key", junk}, "--public-key: no PEM block found"},
		{[]string{"--login-url", "http://127.0.0.1:1/app/login"}, "--redirect-uri: required with --login-url; want --redirect-uri URL"},
		{[]string{"--cas-service", "http://127.0.0.1:1/app/cas"}, "--cas-login-url: required with --cas-service"},
		{[]string{"--login-url", "http://127.0.0.1:1/app/login", "--redirect-uri", "http://127.0.0.1:1/app/callback"}, "--login-url: needs --kit-key and --public-key"},
		{append(slices.Clone(kit), "--login-url", "app/login", "--redirect-uri", "http://127.0.0.1:1/app/callback"), `--login-url: "app/login": want an absolute http(s) URL`},
		{append(slices.Clone(kit), "--logout-url", "http://127.0.0.1:1/app/logout"), "--logout-url: only with --login-url"},
		{[]string{"--merchant-image", "m:1", "--merchant-port", "8081", "--access-key", "k", "--kit-key", "kk", "--public-key", pub,
			"--cas-login-url", "http://127.0.0.1:1/app/cas/login", "--cas-service", "http://127.0.0.1:1/app/cas/callback"}, "--cas-login-url: not with --merchant-image"},
	} {
		args := tt.args
		if args[0] != "--merchant-url" && args[0] != "--merchant-image" {
			args = append([]string{"--merchant-url", u, "--access-key", "k"}, args...)
		}
		tests = append(tests, struct {
			args []string
			want string
		}{args, tt.want})
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			wantCouldNotRun(t, kgsim(t, "", append([]string{"certify"}, tt.args...)...), tt.want)
		})
	}
}

// wantCouldNotRun checks a run that exited 2 with one line on standard
// error containing want, and printed nothing else.
func wantCouldNotRun(t *testing.T, r result, want string) {
	t.Helper()
	if r.code != exitUsage || !strings.Contains(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 || r.stdout != "" {
		t.Errorf("exit %d, stderr %q, stdout %q; want exit 2 and one line with %q", r.code, r.stderr, r.stdout, want)
	}
}

// --merchant-image without a Docker daemon: exit 2, saying so.
func TestCertifyMerchantImageWithoutDocker(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no-docker.sock"))
	r := kgsim(t, "", "certify", "--merchant-image", "kgsim-merchant:local", "--merchant-port", "8081", "--access-key", merchantKey)
	if r.code != exitUsage || !strings.Contains(r.stderr, "kgsim certify: Docker missing: no Docker daemon answers at unix://") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want 2 and Docker missing", r.code, r.stderr)
	}
}

// dockerPool is the Docker daemon of the machine, or a skip saying why the
// Docker path is not tested here.
func dockerPool(t *testing.T) *dockertest.Pool {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: builds a container image")
	}
	pool, err := dockertest.NewPool("")
	if err == nil {
		err = pool.Client.Ping()
	}
	if err != nil {
		t.Skipf("NOT TESTED: no Docker daemon answers (%v); the --merchant-image path is tested where one does", err)
	}
	return pool
}

// buildMerchantImage builds kgsim-merchant:local from this checkout with
// the project's own script (nothing is pulled).
func buildMerchantImage(t *testing.T) {
	cmd := exec.Command("bash", "scripts/build-images.sh", "merchant")
	cmd.Dir = filepath.Join("..", "..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/build-images.sh merchant: %v\n%s", err, out)
	}
}

// containerGone checks that the container named in a run's output was
// removed.
func containerGone(t *testing.T, pool *dockertest.Pool, stdout string) {
	t.Helper()
	m := regexp.MustCompile(`as container (kgsim-merchant-[0-9a-f]+)`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("the output names no container:\n%s", stdout)
	}
	_, err := pool.Client.InspectContainer(m[1])
	if _, gone := errors.AsType[*dc.NoSuchContainer](err); !gone {
		t.Errorf("container %s is still there (inspect: %v)", m[1], err)
		pool.RemoveContainerByName(m[1])
	}
	if !strings.Contains(stdout, "removed container "+m[1]) {
		t.Errorf("the output does not say the container was removed:\n%s", stdout)
	}
}

// The sample merchant's image is started, certified and removed: after a
// pass, after a failure (wrong key), and after an interrupt.
func TestCertifyMerchantImage(t *testing.T) {
	pool := dockerPool(t)
	buildMerchantImage(t)
	image := []string{"certify", "--merchant-image", "kgsim-merchant:local", "--merchant-port", "8081", "--merchant-env", "KGSIM_ACCESS_KEY=" + merchantKey}

	t.Run("passes", func(t *testing.T) {
		r := kgsim(t, "", append(image, "--access-key", merchantKey)...)
		if r.code != exitOK || !strings.Contains(r.stdout, "the merchant answered after") || !strings.Contains(r.stdout, "PASS: every required check passed") {
			t.Errorf("exit %d, stderr %q, stdout:\n%s", r.code, r.stderr, r.stdout)
		}
		containerGone(t, pool, r.stdout)
	})
	t.Run("fails", func(t *testing.T) {
		r := kgsim(t, "", append(image, "--access-key", "not-the-merchant's-key", "--protocol", "v1", "--merchant-path", "/produce/v1")...)
		if r.code != exitInvalid || !strings.Contains(r.stdout, "FAIL: ") {
			t.Errorf("exit %d, stderr %q, stdout:\n%s", r.code, r.stderr, r.stdout)
		}
		containerGone(t, pool, r.stdout)
	})
	t.Run("image missing", func(t *testing.T) {
		r := kgsim(t, "", "certify", "--merchant-image", "kgsim-no-such-image:local", "--merchant-port", "8081", "--access-key", merchantKey)
		wantCouldNotRun(t, r, "--merchant-image: kgsim-no-such-image:local is not on the Docker host")
	})
	t.Run("interrupted", func(t *testing.T) {
		// Interrupted (as SIGINT cancels kgsim's context) once the
		// merchant answered, before the suite runs.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		out := &cancelOn{cancel: cancel, text: "the merchant answered"}
		var stderr bytes.Buffer
		code := run(append(image, "--access-key", merchantKey), &env{ctx: ctx, stdout: out, stderr: &stderr, now: time.Now, random: rand.NewChaCha8([32]byte{})})
		if code != exitUsage || !strings.Contains(stderr.String(), "interrupted") {
			t.Errorf("exit %d, stderr %q", code, stderr.String())
		}
		containerGone(t, pool, out.String())
	})
}

// cancelOn cancels a context once text has been written to it.
type cancelOn struct {
	bytes.Buffer
	cancel func()
	text   string
}

func (c *cancelOn) Write(b []byte) (int, error) {
	n, err := c.Buffer.Write(b)
	if strings.Contains(c.String(), c.text) {
		c.cancel()
	}
	return n, err
}
