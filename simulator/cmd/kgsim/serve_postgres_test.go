package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	smtpd "github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"
	"github.com/kgsim/kgsim/simulator/envtest"
	"github.com/kgsim/kgsim/simulator/notice"
	"github.com/kgsim/kgsim/simulator/store/postgres"
	"github.com/kgsim/kgsim/simulator/store/postgres/pgtest"
)

// cluster is the package's PostgreSQL server, started by TestMain; nil
// where there is none (the PostgreSQL tests then skip, or fail when
// KGSIM_REQUIRE_POSTGRES is set).
var cluster *pgtest.Cluster

// TestMain also says, without -v, which tests the machine made skip.
func TestMain(m *testing.M) {
	os.Exit(envtest.Report(pgtest.Main(m, &cluster), "simulator/cmd/kgsim", pgtest.Need(), envtest.Docker(), apacheNeed()))
}

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

// Killed with SIGKILL while purchases are being placed, kgsim restarted on
// the same PostgreSQL database has every purchase it acknowledged.
func TestKilledMidGroupCommitLosesNothingAcknowledgedPostgres(t *testing.T) {
	killedMidPurchases(t, cluster.DB(t))
}

// replicaCmd is kgsim serve on the real clock, a free loopback port and
// the database db, shared with other replicas. Attempts time out after
// timeout; a dead replica's leases run out after twice that and 10 s.
func replicaCmd(bin, db, fixtures, timeout string) *exec.Cmd {
	return exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", db, "--fixtures", fixtures, "--timeout", timeout)
}

// completed waits until every order in ids is COMPLETED, as p lists
// them, or fails the test after 60 s.
func completed(t *testing.T, p *process, ids []string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		done := map[string]bool{}
		for _, o := range p.call(t, "GET", "/admin/v1/orders?state=COMPLETED&limit=1000", "").Get("orders").Array() {
			done[o.Get("orderId").Str] = true
		}
		missing := 0
		for _, id := range ids {
			if !done[id] {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d orders not completed after 60 s\n%s", missing, len(ids), p.logText())
		}
		time.Sleep(100 * time.Millisecond) // the replicas deliver on the real clock
	}
}

// Two replicas on one database, purchases placed through both: every
// purchase is delivered once, and either replica lists them all. The
// merchant holds the first requests while each replica polls the outbox
// several times: the other's heads in flight are there to be taken, and
// the leases keep them from being sent twice.
func TestReplicasDeliverEachPurchaseOnce(t *testing.T) {
	db := cluster.DB(t)
	bin := buildKgsim(t)
	merchant, merchantURL := newStallingMerchant(t)
	fixtures := writeFixtures(t, merchantURL)
	a := startProcess(t, replicaCmd(bin, db, fixtures, "20s"))
	b := startProcess(t, replicaCmd(bin, db, fixtures, "20s"))
	stall(merchant)
	var ids []string
	for i := range 20 {
		p := a
		if i%2 == 1 {
			p = b
		}
		ids = append(ids, p.call(t, "POST", "/admin/v1/orders", `{"productId":"P-CRASH","customerId":"c-1"}`).Get("order.orderId").Str)
	}
	for range 16 { // each replica's 8 workers busy
		waitHeld(t, merchant)
	}
	time.Sleep(3 * replicaPoll) // each replica looks at the outbox again meanwhile
	unstall(merchant)
	completed(t, a, ids)
	completed(t, b, ids)
	for _, id := range ids {
		if n := sent(merchant, id); n != 1 {
			t.Errorf("order %s reached the merchant %d times, want once", id, n)
		}
	}
}

// An attempt outlasting its queue's lease, its answer recorded late
// because the database holds the recording up (here a transaction locking
// the attempts table, as a long one would): the replica that made it
// renews the lease meanwhile, so the other, looking every second, does
// not take the queue over and send the purchase again (it did before the
// renewals).
func TestReplicasRenewLeaseWhileRecordingWaits(t *testing.T) {
	db := cluster.DB(t)
	bin := buildKgsim(t)
	merchant, merchantURL := newStallingMerchant(t)
	fixtures := writeFixtures(t, merchantURL)
	const timeout = 2 * time.Second     // the merchant answers at once, even on a slow machine
	lease := 2*timeout + 10*time.Second // as kgsim serve takes them
	a := startProcess(t, replicaCmd(bin, db, fixtures, timeout.String()))
	b := startProcess(t, replicaCmd(bin, db, fixtures, timeout.String()))
	conn, err := pgx.Connect(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Reads go on; recording an attempt waits.
	if _, err := tx.Exec(t.Context(), "LOCK TABLE attempts IN EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	id := a.call(t, "POST", "/admin/v1/orders", `{"productId":"P-CRASH","customerId":"c-1"}`).Get("order.orderId").Str
	deadline := time.Now().Add(30 * time.Second)
	for sent(merchant, id) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("order %s never reached the merchant", id)
		}
		time.Sleep(10 * time.Millisecond) // the replicas deliver on the real clock
	}
	time.Sleep(lease + 3*replicaPoll) // the lease would have run out, and the other looked again
	if err := tx.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
	completed(t, a, []string{id})
	completed(t, b, []string{id})
	if n := sent(merchant, id); n != 1 {
		t.Errorf("order %s reached the merchant %d times, want once\n%s\n%s", id, n, a.logText(), b.logText())
	}
}

// A replica SIGKILLed while its callbacks are in flight or waiting: the
// other delivers what it left, once its leases have run out; only the
// attempts in flight at the kill are made again.
func TestReplicaKilledOtherDelivers(t *testing.T) {
	db := cluster.DB(t)
	bin := buildKgsim(t)
	merchant, merchantURL := newStallingMerchant(t)
	fixtures := writeFixtures(t, merchantURL)
	a := startProcess(t, replicaCmd(bin, db, fixtures, "2s"))
	stall(merchant)
	var ids []string
	for range 6 {
		ids = append(ids, a.call(t, "POST", "/admin/v1/orders", `{"productId":"P-CRASH","customerId":"c-1"}`).Get("order.orderId").Str)
	}
	inFlight := map[string]bool{waitHeld(t, merchant): true}
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a.cmd.Wait()
	// What A had sent before it died reached the merchant, and counts.
	for {
		select {
		case h := <-merchant.Arrived():
			inFlight[h.Call.Params["orderId"]] = true
			continue
		default:
		}
		break
	}
	unstall(merchant)
	b := startProcess(t, replicaCmd(bin, db, fixtures, "2s"))
	completed(t, b, ids)
	for _, id := range ids {
		n := sent(merchant, id)
		switch {
		case n == 0:
			t.Errorf("order %s never reached the merchant", id)
		case !inFlight[id] && n != 1:
			t.Errorf("order %s was not in flight at the kill but reached the merchant %d times", id, n)
		case inFlight[id] && n > 2:
			t.Errorf("order %s was in flight at the kill and reached the merchant %d times, want at most twice", id, n)
		}
	}
}

// A virtual clock is each process's own: a replica refuses one while
// another kgsim serve uses the database, and the other way round.
func TestReplicasRefuseVirtualClock(t *testing.T) {
	db := cluster.DB(t)
	bin := buildKgsim(t)
	fixtures := writeFixtures(t, "http://127.0.0.1:1")
	a := startProcess(t, replicaCmd(bin, db, fixtures, "2s"))
	r := kgsim(t, "", "serve", "--addr", "127.0.0.1:0", "--db", db, "--fixtures", fixtures, "--clock", "virtual")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--clock: another kgsim serve uses this database") {
		t.Errorf("a virtual clock beside a replica: exit %d, stderr %s", r.code, r.stderr)
	}
	a.cmd.Process.Kill()
	a.cmd.Wait()
	startServe(t, bin, db, fixtures) // virtual, alone
	r = kgsim(t, "", "serve", "--addr", "127.0.0.1:0", "--db", db, "--fixtures", fixtures)
	if r.code != exitUsage || !strings.Contains(r.stderr, "--clock: a kgsim serve with a virtual clock uses this database alone") {
		t.Errorf("a replica beside a virtual clock: exit %d, stderr %s", r.code, r.stderr)
	}
}

// A login started on one replica finishes on the other: the form rendered
// by A is accepted by B, the code B issued is exchanged at A, and spent
// there it is refused by B.
func TestReplicasShareLogins(t *testing.T) {
	db := cluster.DB(t)
	bin := buildKgsim(t)
	fixtures := writeFixtures(t, "http://127.0.0.1:1")
	a := startProcess(t, replicaCmd(bin, db, fixtures, "2s"))
	b := startProcess(t, replicaCmd(bin, db, fixtures, "2s"))
	a.call(t, "POST", "/admin/v1/apps", `{"appId":"APP-1","productId":"P-CRASH","clientId":"acme-client","clientSecret":"acme-secret-0123456789",`+
		`"redirectUris":["https://isv.example.com/callback"]}`)
	b.call(t, "POST", "/admin/v1/users", `{"tenant":"acme","userName":"zhangsan","password":"pw-zhangsan-8c1f","apps":["acme-client"]}`)

	jar, _ := cookiejar.New(nil) // cookies do not tell ports apart: A's reach B
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page, err := browser.Get(a.base + "/unified-login/?ind=UNOP&appId=APP-1")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(html)
	if csrf == nil {
		t.Fatalf("A's login page has no form: %d\n%s", page.StatusCode, html)
	}
	resp, err := browser.PostForm(b.base+"/unified-login/api/login", url.Values{"ind": {"UNOP"}, "appId": {"APP-1"},
		"csrf": {string(csrf[1])}, "username": {"zhangsan"}, "password": {"pw-zhangsan-8c1f"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	callback, err := url.Parse(resp.Header.Get("Location"))
	code := callback.Query().Get("code")
	if resp.StatusCode != http.StatusFound || err != nil || code == "" {
		t.Fatalf("A's form sent to B: %d to %q, want a redirect with a code", resp.StatusCode, resp.Header.Get("Location"))
	}
	exchange := func(p *process) int {
		resp, err := http.PostForm(p.base+"/t/acme/api/v1/oauth2/token", url.Values{"grant_type": {"authorization_code"},
			"code": {code}, "client_id": {"acme-client"}, "client_secret": {"acme-secret-0123456789"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := exchange(a); got != http.StatusOK {
		t.Errorf("B's code exchanged at A: %d, want 200", got)
	}
	if got := exchange(b); got == http.StatusOK {
		t.Error("the code spent at A was accepted again by B")
	}
	// A tenant's settings changed through one replica are in force at
	// the other, which read them before.
	b.call(t, "GET", "/admin/v1/tenants/acme/identity", "")
	a.call(t, "PUT", "/admin/v1/tenants/acme/identity", `{"casFormat":"xml"}`)
	if got := b.call(t, "GET", "/admin/v1/tenants/acme/identity", "").Get("settings.casFormat").Str; got != "XML" {
		t.Errorf("B's casFormat after A changed it: %q, want XML", got)
	}
}

// PostgreSQL restarted under kgsim serve: purchases during the outage are
// refused at once with 503 (not held), those acknowledged before and after
// are all delivered once it is back, and kgsim reconnects by itself.
// Delivery is at-least-once: the merchant holds the attempts at the
// purchases acknowledged before the outage and answers them while the
// database is down, so their answers cannot be recorded, and each is sent
// again once it is back. Such a purchase reaches the merchant once or
// twice (once if its answer came after all, when the database was back);
// every other exactly once.
func TestServePostgresRestarted(t *testing.T) {
	db := cluster.DB(t)
	bin := buildKgsim(t)
	merchant, merchantURL := newStallingMerchant(t)
	fixtures := writeFixtures(t, merchantURL)
	// A timeout longer than the merchant holds the attempts: a held
	// attempt ends with the merchant's answer, not timed out before the
	// outage (and then sent again on its schedule) on a slow machine.
	p := startProcess(t, replicaCmd(bin, db, fixtures, "20s"))
	order := func() (int, string) {
		resp, err := http.Post(p.base+"/admin/v1/orders", "application/json", strings.NewReader(`{"productId":"P-CRASH","customerId":"c-1"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	stall(merchant)
	var before, after []string
	for range 5 {
		before = append(before, p.call(t, "POST", "/admin/v1/orders", `{"productId":"P-CRASH","customerId":"c-1"}`).Get("order.orderId").Str)
	}
	inFlight := map[string]bool{}
	for range before {
		inFlight[waitHeld(t, merchant)] = true
	}
	if err := cluster.Down(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	status, body := order()
	if status != http.StatusServiceUnavailable || time.Since(start) > 10*time.Second {
		t.Errorf("a purchase while PostgreSQL is down: %d after %v: %s; want 503 at once\n%s", status, time.Since(start), body, p.logText())
	}
	unstall(merchant) // answered while the database is down
	if err := cluster.Up(); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		after = append(after, p.call(t, "POST", "/admin/v1/orders", `{"productId":"P-CRASH","customerId":"c-1"}`).Get("order.orderId").Str)
	}
	completed(t, p, append(slices.Clone(before), after...))
	again := 0
	for _, id := range before {
		n := sent(merchant, id)
		switch {
		case !inFlight[id]:
			t.Errorf("order %s: its attempt was not held by the merchant at the outage", id)
		case n == 2:
			again++
		case n != 1:
			t.Errorf("order %s, in flight when the database went down, reached the merchant %d times, want once or twice", id, n)
		}
	}
	for _, id := range after {
		if n := sent(merchant, id); n != 1 {
			t.Errorf("order %s, placed after the database came back, reached the merchant %d times, want once", id, n)
		}
	}
	t.Logf("%d of the %d attempts answered during the outage were sent again", again, len(before))
}

// slowCatcher is an SMTP server that takes a second to accept each
// message, so that one replica's round of mailing overlaps the other's.
type slowCatcher struct{ mailCatcher }

func (c slowCatcher) NewSession(*smtpd.Conn) (smtpd.Session, error) {
	return &slowSession{catchSession{c.mailCatcher}}, nil
}

type slowSession struct{ catchSession }

func (s *slowSession) Data(r io.Reader) error {
	time.Sleep(time.Second) // the server's own pace, not a wait for kgsim
	return s.catchSession.Data(r)
}

// Two replicas mailing the notices of a merchant that is down: each
// notice is mailed once, though both look for unmailed notices every 2 s
// and a round takes a second a notice.
func TestReplicasMailEachNoticeOnce(t *testing.T) {
	db := cluster.DB(t)
	bin := buildKgsim(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	catcher := slowCatcher{mailCatcher{got: make(chan []byte, 100)}}
	smtp := smtpd.NewServer(catcher)
	smtp.Domain = "mail.test"
	go smtp.Serve(l)
	t.Cleanup(func() { smtp.Close() })
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fixtures := writeFixtures(t, "http://"+dead.Addr().String())
	dead.Close()
	var replicas []*process
	for range 2 {
		cmd := replicaCmd(bin, db, fixtures, "2s")
		cmd.Args = append(cmd.Args, "--smtp", l.Addr().String())
		replicas = append(replicas, startProcess(t, cmd))
	}
	const orders = 4
	for i := range orders {
		replicas[i%2].call(t, "POST", "/admin/v1/orders", `{"productId":"P-CRASH","customerId":"c-1"}`)
	}
	seen := map[string]int{}
	deadline := time.After(60 * time.Second)
	for mailed := 0; mailed < orders; {
		select {
		case raw := <-catcher.got:
			msg, err := mail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			seen[msg.Header.Get("Message-Id")]++
			mailed++
		case <-deadline:
			t.Fatalf("%d of %d notices mailed in 60 s", mailed, orders)
		}
	}
	// Both replicas' next rounds find nothing left to mail.
	quiet := time.After(3 * notice.DefaultInterval)
	for waiting := true; waiting; {
		select {
		case raw := <-catcher.got:
			msg, _ := mail.ReadMessage(bytes.NewReader(raw))
			seen[msg.Header.Get("Message-Id")]++
		case <-quiet:
			waiting = false
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("notice %s was mailed %d times, want once", id, n)
		}
	}
	if len(seen) != orders {
		t.Errorf("%d notices mailed, want %d", len(seen), orders)
	}
}

// kgsim serve on a PostgreSQL database whose disk is really full (a
// tablespace on a small filesystem filled until the server reports
// disk_full). A purchase is refused with 507 storage_full and not stored,
// and /healthz answers 503, as on SQLite; once space is freed purchases
// are taken again. A purchase acknowledged before the disk filled, whose
// answer cannot be recorded while it is full, is held back rather than
// sent again in a loop, and delivered once space is back.
func TestServePostgresDiskFull(t *testing.T) {
	db := cluster.DB(t)
	bin := buildKgsim(t)
	merchant, merchantURL := newStallingMerchant(t)
	p := startProcess(t, replicaCmd(bin, db, writeFixtures(t, merchantURL), "20s"))
	const purchase = `{"productId":"P-CRASH","customerId":"c-1"}`
	disk := cluster.SmallDisk(t, db) // no order yet: the orders' tables are empty
	disk.Fill()
	r := p.send(t, "POST", "/admin/v1/orders", "", purchase, "Content-Type", "application/json")
	if r.status != http.StatusInsufficientStorage || !strings.Contains(r.body, `"storage_full"`) || !strings.Contains(r.body, "disk holding the database is full") {
		t.Fatalf("a purchase on a full disk: %d %s, want 507 storage_full saying the disk is full", r.status, r.body)
	}
	if h := p.send(t, "GET", "/healthz", "", ""); h.status != http.StatusServiceUnavailable || !strings.Contains(h.body, "full") {
		t.Errorf("/healthz on a full disk: %d %s, want 503 saying the disk is full", h.status, h.body)
	}
	disk.Free()
	if n := len(p.call(t, "GET", "/admin/v1/orders", "").Get("orders").Array()); n != 0 {
		t.Errorf("%d orders after the refused purchase, want none", n)
	}

	// No attempt recorded yet: recording the first needs a block.
	stall(merchant)
	id := p.call(t, "POST", "/admin/v1/orders", purchase).Get("order.orderId").Str
	waitHeld(t, merchant)
	disk.Fill()
	full := time.Now()
	unstall(merchant)
	deadline := time.Now().Add(30 * time.Second)
	for {
		h := p.send(t, "GET", "/healthz", "", "")
		if h.status == http.StatusServiceUnavailable && strings.Contains(h.body, "full") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz while an answer cannot be recorded: %d %s, want 503 saying the disk is full\n%s", h.status, h.body, p.logText())
		}
		time.Sleep(10 * time.Millisecond) // the attempt ends on the real clock
	}
	disk.Free()
	completed(t, p, []string{id})
	// A queue held back after a failure goes again after 1 s, then 2 s,
	// 4 s... (delivery's TestUnrecordableAttemptBacksOff times it on
	// synctest's clock): here, a repeat a second at most, where a loop
	// would make hundreds.
	if n, most := sent(merchant, id), 2+int(time.Since(full).Seconds()); n > most {
		t.Errorf("order %s reached the merchant %d times in %v while its answer could not be recorded, want at most %d", id, n, time.Since(full).Round(time.Millisecond), most)
	}
	if h := p.send(t, "GET", "/healthz", "", ""); h.status != http.StatusOK {
		t.Errorf("/healthz once the answer is recorded: %d %s, want 200", h.status, h.body)
	}
}
