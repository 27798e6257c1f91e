package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/schedule"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
)

// A notice is shown from the sender it is mailed from: kgsim serve's
// --smtp-from, not a fixed address.
func TestConsoleNoticeShowsTheConfiguredSender(t *testing.T) {
	for _, c := range []struct{ from, want string }{
		{"Marketplace Ops <robot@market.example>", "Marketplace Ops <robot@market.example>"},
		{"alerts@market.example", "<alerts@market.example>"},
		{"", "KooGallery simulator <kgsim@localhost>"},
	} {
		w := newWorldOn(t, schedule.NewVirtual(t0), Access{}, func(db *sqlite.DB) simulator.Store { return db },
			func(cfg *Config) { cfg.MailFrom = c.from })
		w.catalogue()
		w.merchant.Down(true)
		w.must(http.StatusCreated, "POST", "/admin/v1/orders", `{"productId":"p1","customerId":"c1","periodNumber":1}`)
		w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"1m"}`)
		b := newBrowser(w)
		id := regexp.MustCompile(`href="/console/notices/([^"/]+)"`).FindStringSubmatch(b.get(http.StatusOK, "/console/notices").body)
		if id == nil {
			t.Fatal("no notice in the mailbox")
		}
		p := b.get(http.StatusOK, "/console/notices/"+id[1])
		from := regexp.MustCompile(`<dd id="mail-from">([^\n]*?)</dd>`).FindStringSubmatch(p.body)
		if from == nil || text(from[1]) != c.want {
			t.Errorf("--smtp-from %q: the notice shows the sender %q, want %q", c.from, from, c.want)
		}
		if c.from != "" && strings.Contains(p.body, "kgsim@localhost") {
			t.Errorf("--smtp-from %q: the notice still names kgsim@localhost", c.from)
		}
	}
}

// A sender that is no address stops the HTTP surface from starting,
// rather than showing one address and mailing from none.
func TestNewRefusesABadSender(t *testing.T) {
	var cfg Config
	newWorldOn(t, schedule.NewVirtual(t0), Access{}, func(db *sqlite.DB) simulator.Store { return db }, func(c *Config) { cfg = *c })
	cfg.Registry, cfg.Logger = prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.MailFrom = "robot at market"
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "--smtp-from") {
		t.Errorf("New with --smtp-from %q: err = %v, want one naming --smtp-from", cfg.MailFrom, err)
	}
}
