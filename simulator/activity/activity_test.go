package activity_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
)

// Every row's first section is a heading of the repository's protocol
// documents that names the row's activity, so that a reference the table
// gives resolves for a reader of the repository.
func TestSectionsNameTheirActivity(t *testing.T) {
	headings := map[string][]string{}
	for _, doc := range []string{"callbacks.md", "kit-sync.md"} {
		b, err := os.ReadFile("../../docs/protocol/" + doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`(?m)^#+ (\d+(?:\.\d+)*)\.? (.*)$`).FindAllStringSubmatch(string(b), -1) {
			headings[doc+" §"+m[1]] = append(headings[doc+" §"+m[1]], m[2])
		}
	}
	for _, s := range activity.All() {
		first, _, _ := strings.Cut(s.Section, ",")
		hs, ok := headings[first]
		if !ok {
			t.Errorf("%s %s: %s is no heading of docs/protocol", s.Protocol, s.Name, first)
			continue
		}
		if !strings.Contains(hs[0], string(s.Name)) {
			t.Errorf("%s %s: %s is %q, about another call", s.Protocol, s.Name, first, hs[0])
		}
		if s.Protocol != simulator.Kit && !strings.Contains(hs[0], strings.ToUpper(string(s.Protocol))) {
			t.Errorf("%s %s: %s is %q, about the other protocol", s.Protocol, s.Name, first, hs[0])
		}
	}
}

func TestLookup(t *testing.T) {
	for _, c := range []struct {
		protocol simulator.Protocol
		name     string
		ok       bool
		section  string
	}{
		{simulator.V1, "newInstance", true, "callbacks.md §5.1"},
		{simulator.V2, "newInstance", true, "callbacks.md §5.8"},
		{simulator.V1, "upgrade", true, "callbacks.md §5.5"},
		{simulator.V2, "upgrade", false, ""},
		{simulator.V1, "updateInstanceStatus", false, ""},
		{simulator.V2, "orderNotify", true, "callbacks.md §5.15"},
		{simulator.Kit, "applicationSync", true, "kit-sync.md §4.2, §6"},
		{simulator.V2, "tenantSync", false, ""},
		{simulator.V2, "", false, ""},
	} {
		s, ok := activity.Lookup(c.protocol, c.name)
		if ok != c.ok || s.Section != c.section {
			t.Errorf("Lookup(%s, %q) = %q, %v; want %q, %v", c.protocol, c.name, s.Section, ok, c.section, c.ok)
		}
	}
}

// The rows that differ between protocols or from their neighbours, as
// callbacks.md §5, §7, §8 and §9.2 state them.
func TestRows(t *testing.T) {
	row := func(p simulator.Protocol, n activity.Name) activity.Spec {
		s, ok := activity.Lookup(p, string(n))
		if !ok {
			t.Fatalf("no row for %s %s", p, n)
		}
		return s
	}
	if got := row(simulator.V1, activity.NewInstance).Answer; strings.Join(got, " ") != "instanceId appInfo.frontEndUrl" {
		t.Errorf("V1 newInstance answer fields %v, want instanceId and appInfo.frontEndUrl (§8 row 8)", got)
	}
	if got := row(simulator.V2, activity.NewInstance).Answer; strings.Join(got, " ") != "instanceId" {
		t.Errorf("V2 newInstance answer fields %v, want instanceId: access data comes with queryInstance (§5.8)", got)
	}
	if row(simulator.V1, activity.NewInstance).Async != activity.NotAsync || row(simulator.V2, activity.NewInstance).Async != activity.AsyncPolled ||
		row(simulator.V2, activity.GetLicenseAsync).Async != activity.AsyncUploaded {
		t.Error("000004 is asynchronous for V2 newInstance (polled) and getLicenseAsync (uploaded) only (§7)")
	}
	for _, n := range []activity.Name{activity.NewInstance, activity.GetLicense} {
		if !row(simulator.V1, n).FreshBusinessID {
			t.Errorf("V1 %s: every attempt needs a new businessId (§5.1)", n)
		}
	}
	if s := row(simulator.V2, activity.OrderNotify); s.Retry != activity.RetryHourly || s.FreshBusinessID || len(s.Answer) != 0 {
		t.Errorf("orderNotify %+v: retried as newInstance, no businessId, resultCode only (§5.15, §9.2)", s)
	}
	if s := row(simulator.V2, activity.ChangeInstanceCheck); !s.Refusable || s.Retry != activity.RetryNever {
		t.Errorf("changeInstanceCheck %+v: tried once, any other resultCode refuses the change (§5.14)", s)
	}
}

func TestSections(t *testing.T) {
	for _, c := range []struct {
		events []activity.Event
		want   string
	}{
		{[]activity.Event{activity.UpgradeEvent}, "callbacks.md §5.5, §5.13"},
		{[]activity.Event{activity.Expiry, activity.StatusChange}, "callbacks.md §5.3, §5.6, §5.11"},
		{[]activity.Event{activity.Query}, "callbacks.md §5.7, §5.9"},
		{[]activity.Event{activity.ChangeCheck, activity.KitSync}, "callbacks.md §5.14; kit-sync.md §4.1, §4.2, §6, §4.3, §4.4, §4.5"},
	} {
		got := activity.Sections(func(s activity.Spec) bool {
			for _, e := range c.events {
				if s.Event == e {
					return true
				}
			}
			return false
		})
		if got != c.want {
			t.Errorf("Sections(%v) = %q, want %q", c.events, got, c.want)
		}
	}
}

// A generic product's orderNotify is signed with the generic interface's
// key, and nothing else is (callbacks.md §5.15): not another call to that
// product, nor orderNotify to a basic product.
func TestKey(t *testing.T) {
	generic := simulator.Product{InterfaceType: simulator.GenericInterface, AccessKey: "basic-key", OrderNotifyKey: "generic-key"}
	basic := simulator.Product{InterfaceType: simulator.BasicInterface, AccessKey: "basic-key"}
	for _, c := range []struct {
		p        *simulator.Product
		protocol simulator.Protocol
		name     string
		want     string
	}{
		{&generic, simulator.V2, "orderNotify", "generic-key"},
		{&generic, simulator.V2, "newInstance", "basic-key"},
		{&generic, simulator.V2, "queryInstance", "basic-key"},
		{&basic, simulator.V2, "orderNotify", "basic-key"},
		{&generic, simulator.V2, "noSuchCall", "basic-key"},
	} {
		s, _ := activity.Lookup(c.protocol, c.name)
		if got := s.Key(c.p); got != c.want {
			t.Errorf("the key of %s %s to a %s product = %q, want %q", c.protocol, c.name, c.p.InterfaceType, got, c.want)
		}
	}
}
