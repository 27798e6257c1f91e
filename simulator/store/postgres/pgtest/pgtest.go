// Package pgtest starts a throwaway PostgreSQL cluster for a test package:
// initdb in a temporary directory, postgres on a free loopback port with
// its socket in that directory, as a user other than root (PostgreSQL
// refuses to run as root). Each test gets a database of its own. Without
// a PostgreSQL binary the tests are skipped, saying so, unless
// KGSIM_REQUIRE_POSTGRES is set (CI sets it after
// scripts/install-postgres.sh), where they fail.
package pgtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// missing is why the tests cannot run on this machine.
const missing = "no PostgreSQL binaries (initdb, postgres) in /usr/lib/postgresql/*/bin or on PATH: scripts/install-postgres.sh installs Debian's postgresql package"

// Cluster is a running PostgreSQL server of a test package.
type Cluster struct {
	dir   string
	port  int
	bin   string
	owner *user.User
	cmd   *exec.Cmd
	exit  chan error // the server's exit, once it has stopped
	dbs   atomic.Int64
}

// Main starts a cluster, runs the package's tests and stops it; it
// returns the exit code for os.Exit. *c is the cluster, left nil where
// there is no PostgreSQL (the tests then skip, or fail when required).
//
//	var cluster *pgtest.Cluster
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &cluster)) }
func Main(m *testing.M, c **Cluster) int {
	bin, err := Binaries()
	if err != nil {
		// go test shows this line with -v, or when the package fails.
		fmt.Println("postgres: SKIP: " + err.Error())
		return m.Run()
	}
	cluster, err := Start(bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "postgres: the test cluster did not start:", err)
		return 1
	}
	*c = cluster
	code := m.Run()
	if err := cluster.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "postgres: stopping the test cluster:", err)
	}
	return code
}

// Binaries returns the directory holding initdb and postgres: the newest
// version Debian's packages installed, else the one on PATH.
func Binaries() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, dir := range dirs {
		if executable(filepath.Join(dir, "initdb")) && executable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	if initdb, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("postgres"); err == nil {
			return filepath.Dir(initdb), nil
		}
	}
	return "", errors.New(missing)
}

// version is the major version in a path /usr/lib/postgresql/N/bin.
func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// Start initialises a cluster in a new temporary directory and starts its
// server, as the postgres user when the test runs as root.
func Start(bin string) (*Cluster, error) {
	owner, err := serverUser()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kgsim-postgres-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir}
	if err := c.start(bin, owner); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// serverUser is who runs the server: nil for the test's own user, else
// (for root) Debian's postgres user, which scripts/install-postgres.sh
// makes sure exists.
func serverUser() (*user.User, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("the tests run as root and PostgreSQL refuses to: they run it as the user postgres, which does not exist (%v); scripts/install-postgres.sh creates it", err)
	}
	return u, nil
}

func (c *Cluster) start(bin string, owner *user.User) error {
	if owner != nil {
		if err := chown(c.dir, owner); err != nil {
			return err
		}
	}
	data := filepath.Join(c.dir, "data")
	// Trust on loopback and the private socket: the cluster lives as long
	// as the test binary and holds only test data.
	initdb := command(owner, filepath.Join(bin, "initdb"), "-D", data, "-U", "kgsim", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	c.port, c.bin, c.owner = port, bin, owner
	return c.serve()
}

// serve starts the server on the cluster's data directory and port, and
// returns once it takes connections.
func (c *Cluster) serve() error {
	data, owner, bin, port := filepath.Join(c.dir, "data"), c.owner, c.bin, c.port
	// fsync off: a crash of the machine loses a test cluster, nothing
	// else; the tests of durability are the SQLite store's and kgsim's.
	c.cmd = command(owner, filepath.Join(bin, "postgres"), "-D", data, "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-k", c.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200")
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	cmd, exit := c.cmd, make(chan error, 1)
	c.exit = exit
	ready := make(chan struct{})
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		announced := false
		for sc.Scan() {
			if !announced {
				log.WriteString(sc.Text() + "\n")
			}
			if !announced && strings.Contains(sc.Text(), "ready to accept connections") {
				announced = true
				close(ready)
			}
		}
		io.Copy(io.Discard, stderr)
		exit <- cmd.Wait()
	}()
	select {
	case <-ready:
		return nil
	case err := <-exit:
		exit <- err
		return fmt.Errorf("postgres exited before it was ready (%v): %s", err, log.String())
	case <-time.After(60 * time.Second):
		c.stop()
		return errors.New("postgres was not ready after 60 s")
	}
}

func chown(dir string, u *user.User) error {
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return err
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return err
	}
	return os.Chown(dir, uid, gid)
}

// freePort returns a loopback port no one listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// URL is the connection string of database name.
func (c *Cluster) URL(name string) string {
	return fmt.Sprintf("postgres://kgsim@127.0.0.1:%d/%s?sslmode=disable", c.port, name)
}

// Port is the port the server listens on.
func (c *Cluster) Port() int { return c.port }

// DB returns the connection string of a new, empty database. Without a
// cluster the test is skipped, or fails when KGSIM_REQUIRE_POSTGRES is
// set.
func (c *Cluster) DB(t testing.TB) string {
	t.Helper()
	if c == nil {
		if os.Getenv("KGSIM_REQUIRE_POSTGRES") != "" {
			t.Fatal(missing + "; KGSIM_REQUIRE_POSTGRES is set, so the PostgreSQL tests must run")
		}
		t.Skip(missing + "; skipped (set KGSIM_REQUIRE_POSTGRES=1 to fail instead)")
	}
	name := fmt.Sprintf("kgsim_%d", c.dbs.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	return c.URL(name)
}

// Stop stops the server and removes its directory.
func (c *Cluster) Stop() error {
	err := c.stop()
	if rmErr := os.RemoveAll(c.dir); err == nil {
		err = rmErr
	}
	return err
}

// Down stops the server (a fast shutdown: clients are disconnected) and
// keeps its data; Up starts it again on the same port.
func (c *Cluster) Down() error { return c.stop() }

func (c *Cluster) Up() error { return c.serve() }

func (c *Cluster) stop() error {
	if c.cmd == nil || c.cmd.Process == nil {
		return nil
	}
	c.cmd.Process.Signal(os.Interrupt)
	var err error
	select {
	case err = <-c.exit:
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		err = <-c.exit
	}
	c.cmd = nil
	return err
}
