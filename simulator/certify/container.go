package certify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/ory/dockertest/v3"
	dc "github.com/ory/dockertest/v3/docker"
)

// Container is a merchant's image to run for a certification.
type Container struct {
	Image string   // NAME[:TAG], on the Docker host already (built or pulled)
	Port  int      // the port the service listens on inside the container
	Path  string   // the production interface's path; /produce when empty
	Env   []string // K=V, the service's configuration (its access key...)
	// Wait bounds how long the service may take to answer once started;
	// DefaultWait when 0.
	Wait     time.Duration
	Progress io.Writer // what happens, for the person waiting; nil discards
}

// DefaultWait is how long a merchant container may take to answer.
const DefaultWait = time.Minute

// Merchant is a merchant container started for a certification. Close
// removes it.
type Merchant struct {
	URL  string // http://127.0.0.1:HOSTPORT/path
	Name string // the container's name
	pool *dockertest.Pool
	res  *dockertest.Resource
	out  io.Writer
}

// containerLabel marks kgsim's merchant containers, so that one left
// behind by a killed kgsim can be found (docker ps -a --filter label=...).
const containerLabel = "org.kgsim.certify"

// StartMerchant starts c's image with its port published on 127.0.0.1 and
// waits until the service answers. Whatever happens after the container
// was created, StartMerchant either returns it running or removes it.
func StartMerchant(ctx context.Context, c Container) (*Merchant, error) {
	out := c.Progress
	if out == nil {
		out = io.Discard
	}
	repo, tag, err := splitImage(c.Image)
	if err != nil {
		return nil, err
	}
	if c.Port < 1 || c.Port > 65535 {
		return nil, simulator.Errorf(simulator.EINVALID, "merchant port", "%d: want the port the service listens on inside the container, 1 to 65535", c.Port)
	}
	path := c.Path
	if path == "" {
		path = "/produce"
	}
	if !strings.HasPrefix(path, "/") {
		return nil, simulator.Errorf(simulator.EINVALID, "merchant path", "%q: want a path starting with /, such as /produce", path)
	}
	pool, err := connect(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := pool.Client.InspectImage(repo + ":" + tag); err != nil {
		return nil, simulator.Errorf(simulator.EINVALID, "merchant image", "%s:%s is not on the Docker host (%v): build it first (scripts/build-images.sh builds kgsim-merchant:local) or docker pull it; kgsim pulls nothing", repo, tag, err)
	}
	name, err := containerName()
	if err != nil {
		return nil, err
	}
	port := dc.Port(strconv.Itoa(c.Port) + "/tcp")
	fmt.Fprintf(out, "starting %s:%s as container %s\n", repo, tag, name)
	res, err := pool.RunWithOptions(&dockertest.RunOptions{
		Name: name, Repository: repo, Tag: tag, Env: c.Env,
		ExposedPorts: []string{string(port)},
		PortBindings: map[dc.Port][]dc.PortBinding{port: {{HostIP: "127.0.0.1"}}},
		Labels:       map[string]string{containerLabel: "merchant"},
	}, func(hc *dc.HostConfig) {
		// Only the service's port, and only on loopback.
		hc.PublishAllPorts = false
		hc.RestartPolicy = dc.RestartPolicy{Name: "no"}
	})
	if err != nil {
		pool.RemoveContainerByName(name) // created but not started
		return nil, fmt.Errorf("starting container %s from %s:%s: %w", name, repo, tag, err)
	}
	m := &Merchant{Name: name, pool: pool, res: res, out: out}
	hostPort := res.GetPort(string(port))
	if hostPort == "" {
		m.Close()
		return nil, fmt.Errorf("container %s: Docker published no host port for %s", name, port)
	}
	m.URL = "http://127.0.0.1:" + hostPort + path
	wait := c.Wait
	if wait == 0 {
		wait = DefaultWait
	}
	if err := m.waitAnswer(ctx, wait); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// connect finds the Docker daemon: DOCKER_HOST, or the platform's default.
func connect(ctx context.Context) (*dockertest.Pool, error) {
	pool, err := dockertest.NewPool("")
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err = pool.Client.PingWithContext(ctx); err == nil {
			return pool, nil
		}
	}
	where := os.Getenv("DOCKER_HOST")
	if pool != nil {
		where = pool.Client.Endpoint()
	}
	if where == "" {
		where = "the default socket"
	}
	return nil, simulator.Errorf(simulator.EINVALID, "", "Docker missing: no Docker daemon answers at %s (%v); --merchant-image needs one (start it or set DOCKER_HOST), or certify a running service with --merchant-url", where, err)
}

// splitImage splits NAME[:TAG] (the name may hold a registry host:port).
func splitImage(image string) (repo, tag string, err error) {
	if image == "" || strings.ContainsAny(image, "@ \t") {
		return "", "", simulator.Errorf(simulator.EINVALID, "merchant image", "%q: want NAME[:TAG], such as kgsim-merchant:local (digests are not supported)", image)
	}
	repo, tag = image, "latest"
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		repo, tag = image[:i], image[i+1:]
	}
	if repo == "" || tag == "" {
		return "", "", simulator.Errorf(simulator.EINVALID, "merchant image", "%q: want NAME[:TAG], such as kgsim-merchant:local", image)
	}
	return repo, tag, nil
}

// containerName is a fresh name for a merchant container.
func containerName() (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "kgsim-merchant-" + hex.EncodeToString(b[:]), nil
}

// waitAnswer waits until the service answers anything at m.URL, the
// container stops, ctx ends, or wait passes, telling the person waiting.
func (m *Merchant) waitAnswer(ctx context.Context, wait time.Duration) error {
	fmt.Fprintf(m.out, "waiting up to %s for %s to answer\n", wait, m.URL)
	start := time.Now()
	deadline := start.Add(wait)
	delay, told := 20*time.Millisecond, time.Duration(0)
	for {
		err := probe(ctx, m.URL, time.Second)
		if err == nil {
			fmt.Fprintf(m.out, "the merchant answered after %s\n", seconds(time.Since(start)))
			return nil
		}
		if c, ierr := m.pool.Client.InspectContainer(m.res.Container.ID); ierr == nil && !c.State.Running {
			return simulator.Errorf(simulator.EINVALID, "merchant image", "the container %s stopped (exit code %d) before answering; its last output:\n%s", m.Name, c.State.ExitCode, m.logTail())
		}
		if time.Now().After(deadline) {
			return simulator.Errorf(simulator.EINVALID, "merchant image", "the container %s did not answer at %s within %s (%v); is --merchant-port the port it listens on?", m.Name, m.URL, wait, unwrapURLError(err))
		}
		if waited := time.Since(start).Truncate(5 * time.Second); waited > told {
			told = waited
			fmt.Fprintf(m.out, "  still waiting (%s)\n", waited)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for the merchant container: %w", ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

// logTail is the end of the container's output.
func (m *Merchant) logTail() string {
	var buf bytes.Buffer
	m.pool.Client.Logs(dc.LogsOptions{Container: m.res.Container.ID, OutputStream: &buf, ErrorStream: &buf, Stdout: true, Stderr: true, Tail: "20"})
	return strings.TrimRight(buf.String(), "\n")
}

// Close removes the container and its volumes, running or not.
func (m *Merchant) Close() error {
	err := m.pool.Purge(m.res)
	var gone *dc.NoSuchContainer
	if errors.As(err, &gone) {
		err = nil
	}
	if err != nil {
		fmt.Fprintf(m.out, "could not remove container %s: %v (remove it with: docker rm -f %s)\n", m.Name, err, m.Name)
		return err
	}
	fmt.Fprintf(m.out, "removed container %s\n", m.Name)
	return nil
}
