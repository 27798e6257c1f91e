package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/kgsim/kgsim/simulator/store/postgres"
	"github.com/kgsim/kgsim/simulator/store/postgres/pgtest"
)

// cluster is the package's PostgreSQL server, started by TestMain; nil
// where there is none (the PostgreSQL tests then skip, or fail when
// KGSIM_REQUIRE_POSTGRES is set).
var cluster *pgtest.Cluster

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &cluster)) }

// A PostgreSQL server that cannot be reached is tried again, saying so,
// then kgsim exits with status 2 naming --db, without showing the
// password of the connection string.
func TestServeUnreachablePostgres(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there now
	url := fmt.Sprintf("postgres://kgsim:s3cret-pw@127.0.0.1:%d/kgsim?sslmode=disable", port)
	r := kgsim(t, "", "serve", "--addr", "127.0.0.1:0", "--db", url, "--db-wait", "1s")
	if r.code != exitUsage {
		t.Fatalf("exit %d, want %d\n%s", r.code, exitUsage, r.stderr)
	}
	if !strings.Contains(r.stderr, "trying again") || !strings.Contains(r.stderr, "--db") || !strings.Contains(r.stderr, "--db-wait") {
		t.Errorf("stderr does not say it tried again and gave up on --db:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "s3cret-pw") {
		t.Errorf("stderr shows the database password:\n%s", r.stderr)
	}
}

// A database whose schema is newer than this kgsim is refused at once,
// in one line naming --db and the version.
func TestServeRefusesNewerPostgresSchema(t *testing.T) {
	url := cluster.DB(t)
	db, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), "UPDATE schema_version SET version = 999"); err != nil {
		t.Fatal(err)
	}
	r := kgsim(t, "", "serve", "--addr", "127.0.0.1:0", "--db", url)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if r.code != exitUsage || len(lines) != 1 || !strings.Contains(r.stderr, "--db") || !strings.Contains(r.stderr, "schema version 999") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit %d and one line naming --db and schema version 999", r.code, r.stderr, exitUsage)
	}
}

// Killed with SIGKILL mid-delivery, kgsim restarted on the same
// PostgreSQL database delivers every pending callback and repeats none it
// had recorded as delivered.
func TestKilledMidDeliveryLosesNothingPostgres(t *testing.T) {
	killedMidDelivery(t, cluster.DB(t))
}
