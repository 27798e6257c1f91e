package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	smtpd "github.com/emersion/go-smtp"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/merchanttest"
	"github.com/kgsim/kgsim/simulator/notice"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
	"github.com/tidwall/gjson"
)

// These tests run kgsim serve as a real process, to kill it.

const crashKey = "crash-test-access-key"

// buildKgsim compiles the command once per test binary run.
func buildKgsim(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kgsim")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// newStallingMerchant is a V2 merchant that verifies every request and
// provisions every order, except that while stalled it holds each request
// until released.
func newStallingMerchant(t *testing.T) (*merchanttest.Merchant, string) {
	m := &merchanttest.Merchant{T: t, Key: crashKey}
	return m, m.Start()
}

// stall makes the merchant hold every request from now on.
func stall(m *merchanttest.Merchant) { m.Answer("", merchanttest.Reply{Hold: true}) }

// unstall releases the requests held and answers every later one at once.
func unstall(m *merchanttest.Merchant) {
	m.Answer("")
	m.ReleaseAll()
}

// sentByOrder counts the requests of each order that reached the
// merchant.
func sentByOrder(m *merchanttest.Merchant) map[string]int {
	n := map[string]int{}
	for _, c := range m.Calls() {
		n[c.Params["orderId"]]++
	}
	return n
}

// sent counts the requests of order that reached the merchant.
func sent(m *merchanttest.Merchant, order string) int { return sentByOrder(m)[order] }

// writeFixtures writes a catalogue of one V2 product at url.
func writeFixtures(t *testing.T, url string) string {
	t.Helper()
	dir := t.TempDir()
	products := fmt.Sprintf(`[{"productId":"P-CRASH","skuCode":"sku-1","name":"crash test","chargingMode":"PERIOD","periodType":"month",
		"url":%q,"protocol":"v2","accessKey":%q,"dialTests":false,"noticeTo":["merchant@example.com"]}]`, url+"/produce", crashKey)
	customers := `[{"customerId":"c-1","customerName":"buyer"}]`
	for name, data := range map[string]string{"products.json": products, "customers.json": customers} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// process is a running kgsim serve.
type process struct {
	cmd  *exec.Cmd
	base string
	// shuttingDown is closed when the log says shutdown has begun.
	shuttingDown chan struct{}
	mu           sync.Mutex
	log          bytes.Buffer
}

// readLog keeps the process's log and notices the start of shutdown.
func (p *process) readLog(r io.Reader) {
	s := bufio.NewScanner(r)
	closed := false
	for s.Scan() {
		p.mu.Lock()
		p.log.WriteString(s.Text() + "\n")
		p.mu.Unlock()
		if !closed && strings.Contains(s.Text(), "shutting down") {
			close(p.shuttingDown)
			closed = true
		}
	}
}

func (p *process) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// startServe starts kgsim serve on a virtual clock and returns once it
// listens.
func startServe(t *testing.T, bin, db, fixtures string, extra ...string) *process {
	t.Helper()
	return startProcess(t, serveCmd(bin, db, fixtures, extra...))
}

// serveCmd is kgsim serve on a virtual clock and a free loopback port,
// with extra flags (a repeated flag wins over the default's).
func serveCmd(bin, db, fixtures string, extra ...string) *exec.Cmd {
	return exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--fixtures", fixtures,
		"--clock", "virtual", "--start", "2025-01-01T00:00:00Z"}, extra...)...)
}

// startProcess starts cmd, a kgsim serve, and returns once it listens.
func startProcess(t *testing.T, cmd *exec.Cmd) *process {
	t.Helper()
	p := &process{cmd: cmd, shuttingDown: make(chan struct{})}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	go p.readLog(stderr)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("kgsim serve did not start: %v\n%s", err, p.logText())
	}
	_, rest, ok := strings.Cut(line, "listening on ")
	if !ok {
		t.Fatalf("unexpected first line %q", line)
	}
	p.base, _, _ = strings.Cut(rest, " ")
	go io.Copy(io.Discard, stdout)
	return p
}

func (p *process) call(t *testing.T, method, path, body string) gjson.Result {
	t.Helper()
	req, err := http.NewRequest(method, p.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json") // the admin API takes nothing else
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return gjson.ParseBytes(b)
}

// waitHeld waits until the merchant holds a request.
func waitHeld(t *testing.T, m *merchanttest.Merchant) string {
	t.Helper()
	select {
	case h := <-m.Arrived():
		return h.Call.Params["orderId"]
	case <-time.After(30 * time.Second):
		t.Fatal("no callback reached the merchant")
		return ""
	}
}

// Killed with SIGKILL while callbacks are in flight, kgsim restarted on
// the same database delivers every pending callback, and repeats none that
// it had recorded as delivered (at-least-once).
func TestKilledMidDeliveryLosesNothing(t *testing.T) {
	killedMidDelivery(t, filepath.Join(t.TempDir(), "kgsim.db"))
}

// killedMidDelivery is TestKilledMidDeliveryLosesNothing on the database
// db, SQLite's or PostgreSQL's.
func killedMidDelivery(t *testing.T, db string) {
	bin := buildKgsim(t)
	merchant, merchantURL := newStallingMerchant(t)
	fixtures := writeFixtures(t, merchantURL)

	p := startServe(t, bin, db, fixtures)
	const orders = 20
	var ids []string
	for i := range orders {
		if i == orders/2 {
			// Half are delivered; the rest will be in flight or waiting.
			stall(merchant)
		}
		ids = append(ids, p.call(t, "POST", "/admin/v1/orders", `{"productId":"P-CRASH","customerId":"c-1"}`).Get("order.orderId").Str)
		if i < orders/2 {
			// Make sure it is recorded: advancing by 0 runs what is due.
			p.call(t, "POST", "/admin/v1/clock/advance", `{"by":"0s"}`)
		}
	}
	waitHeld(t, merchant)
	delivered := map[string]bool{}
	for _, o := range p.call(t, "GET", "/admin/v1/orders?state=COMPLETED&limit=1000", "").Get("orders").Array() {
		delivered[o.Get("orderId").Str] = true
	}
	if len(delivered) < orders/2 {
		t.Fatalf("%d orders completed before the kill, want at least %d", len(delivered), orders/2)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()

	unstall(merchant)
	p = startServe(t, bin, db, fixtures)
	p.call(t, "POST", "/admin/v1/clock/advance", `{"by":"0s"}`)
	completed := p.call(t, "GET", "/admin/v1/orders?state=COMPLETED&limit=1000", "").Get("orders").Array()
	if len(completed) != orders {
		t.Fatalf("%d of %d orders completed after the restart\n%s", len(completed), orders, p.logText())
	}
	for _, id := range ids {
		n := sent(merchant, id)
		switch {
		case n == 0:
			t.Errorf("order %s never reached the merchant", id)
		case delivered[id] && n != 1:
			t.Errorf("order %s was recorded as delivered before the kill but sent %d times", id, n)
		}
	}
}

// SIGTERM lets the attempt in flight finish and be recorded before kgsim
// exits.
func TestSIGTERMFinishesTheAttemptInFlight(t *testing.T) {
	bin := buildKgsim(t)
	merchant, merchantURL := newStallingMerchant(t)
	fixtures := writeFixtures(t, merchantURL)
	db := filepath.Join(t.TempDir(), "kgsim.db")
	p := startServe(t, bin, db, fixtures)
	stall(merchant)
	order := p.call(t, "POST", "/admin/v1/orders", `{"productId":"P-CRASH","customerId":"c-1"}`).Get("order.orderId").Str
	waitHeld(t, merchant)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Release the merchant only once kgsim is shutting down.
	select {
	case <-p.shuttingDown:
	case <-time.After(30 * time.Second):
		t.Fatalf("kgsim did not start shutting down:\n%s", p.logText())
	}
	unstall(merchant)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("kgsim serve exited with %v\n%s", err, p.logText())
	}
	store, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	msgs, err := store.Messages(context.Background(), simulator.MessageFilter{OrderID: order})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("messages of %s: %v, %v", order, msgs, err)
	}
	attempts, err := store.Attempts(context.Background(), msgs[0].ID)
	if err != nil || len(attempts) != 1 || attempts[0].Verdict != simulator.Success || msgs[0].Outcome != simulator.Succeeded {
		b, _ := json.Marshal(attempts)
		t.Fatalf("after SIGTERM: outcome %s, attempts %s, %v", msgs[0].Outcome, b, err)
	}
}

// mailCatcher is an SMTP server on loopback that hands over each message
// it accepts.
type mailCatcher struct{ got chan []byte }

func (c mailCatcher) NewSession(*smtpd.Conn) (smtpd.Session, error) { return &catchSession{c}, nil }

type catchSession struct{ c mailCatcher }

func (s *catchSession) Mail(string, *smtpd.MailOptions) error { return nil }
func (s *catchSession) Rcpt(string, *smtpd.RcptOptions) error { return nil }
func (s *catchSession) Reset()                                {}
func (s *catchSession) Logout() error                         { return nil }
func (s *catchSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err == nil {
		s.c.got <- b
	}
	return err
}

// With --smtp, the notice of a failed callback reaches the merchant's
// mailbox with its call record attached.
func TestServeMailsFailureNotices(t *testing.T) {
	bin := buildKgsim(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	catcher := mailCatcher{got: make(chan []byte, 10)}
	srv := smtpd.NewServer(catcher)
	srv.Domain = "mail.test"
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	// A production URL nobody listens on.
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + dead.Addr().String()
	dead.Close()
	p := startServe(t, bin, filepath.Join(t.TempDir(), "kgsim.db"), writeFixtures(t, deadURL), "--smtp", l.Addr().String())
	order := p.call(t, "POST", "/admin/v1/orders", `{"productId":"P-CRASH","customerId":"c-1"}`).Get("order.orderId").Str

	var raw []byte
	select {
	case raw = <-catcher.got:
	case <-time.After(30 * time.Second):
		t.Fatalf("no notice was mailed\n%s", p.logText())
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if want := "newInstance call failed: UNREACHABLE (order " + order + ")"; !strings.Contains(subject, want) {
		t.Errorf("subject %q lacks %q", subject, want)
	}
	if to := msg.Header.Get("To"); !strings.Contains(to, "merchant@example.com") {
		t.Errorf("To: %q", to)
	}
	record, err := notice.Parse(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("the mailed notice has no readable call record: %v", err)
	}
	if got := gjson.GetBytes(record, "orderId").Str; got != order {
		t.Errorf("record orderId %q, want %q", got, order)
	}
	if bytes.Contains(raw, []byte(crashKey)) {
		t.Error("the access key is in the e-mail")
	}
}

func TestCPUProfileIsWrittenWhenServeStops(t *testing.T) {
	bin := buildKgsim(t)
	_, merchantURL := newStallingMerchant(t)
	dir := t.TempDir()
	profile := filepath.Join(dir, "cpu.pprof")
	p := startServe(t, bin, filepath.Join(dir, "kgsim.db"), writeFixtures(t, merchantURL), "--cpuprofile", profile)
	p.call(t, "GET", "/admin/v1/products", "")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("kgsim serve exited with %v\n%s", err, p.logText())
	}
	b, err := os.ReadFile(profile)
	// A CPU profile is a gzipped protocol buffer.
	if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("profile: %d bytes, %v", len(b), err)
	}
}

func TestCPUProfileInAMissingDirectoryIsRefused(t *testing.T) {
	r := kgsim(t, "", "serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "kgsim.db"),
		"--cpuprofile", filepath.Join(t.TempDir(), "missing", "cpu.pprof"))
	if r.code != 2 || !strings.Contains(r.stderr, "--cpuprofile") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}
