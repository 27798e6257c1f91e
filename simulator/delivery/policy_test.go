package delivery

import (
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

func TestPolicyFor(t *testing.T) {
	first := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		protocol simulator.Protocol
		activity string
		due      []time.Duration // every attempt's offset from the first
		outcome  simulator.Outcome
	}{
		{simulator.V2, "newInstance", []time.Duration{0, time.Hour, 2 * time.Hour, 3 * time.Hour}, simulator.OrderFailed},
		{simulator.V2, "upgradeInstance", []time.Duration{0, time.Hour, 2 * time.Hour, 3 * time.Hour}, simulator.OrderFailed},
		{simulator.V1, "upgrade", []time.Duration{0, time.Hour, 2 * time.Hour, 3 * time.Hour}, simulator.OrderFailed},
		{simulator.V1, "getLicense", []time.Duration{0, time.Hour, 2 * time.Hour, 3 * time.Hour}, simulator.OrderFailed},
		{simulator.V2, "refreshInstance", []time.Duration{0, 15 * time.Minute, 30 * time.Minute, 45 * time.Minute, time.Hour}, simulator.Stopped},
		{simulator.V2, "releaseInstance", []time.Duration{0, 15 * time.Minute, 30 * time.Minute, 45 * time.Minute, time.Hour}, simulator.Stopped},
		{simulator.V2, "updateInstanceStatus", []time.Duration{0, 15 * time.Minute, 30 * time.Minute, 45 * time.Minute, time.Hour}, simulator.Stopped},
		{simulator.V1, "expireInstance", []time.Duration{0, 15 * time.Minute, 30 * time.Minute, 45 * time.Minute, time.Hour}, simulator.Stopped},
		{simulator.V2, "changeInstanceCheck", []time.Duration{0}, simulator.ChangeRefused},
		{simulator.V2, "getLicenseAsync", []time.Duration{0}, simulator.Stopped},
		{simulator.V2, "queryInstance", []time.Duration{0}, simulator.Stopped},
		{simulator.V2, "orderNotify", []time.Duration{0, time.Hour, 2 * time.Hour, 3 * time.Hour}, simulator.OrderFailed},
		{simulator.V1, "instanceStatus", []time.Duration{0, 15 * time.Minute, 30 * time.Minute, 45 * time.Minute, time.Hour}, simulator.Stopped},
		{simulator.Kit, "tenantSync", []time.Duration{0}, simulator.Stopped},
	}
	for _, tt := range tests {
		t.Run(string(tt.protocol)+" "+tt.activity, func(t *testing.T) {
			p := PolicyFor(simulator.Message{Kind: simulator.KindLifecycle, Protocol: tt.protocol, Activity: tt.activity})
			if p.Attempts() != len(tt.due) || p.Exhausted != tt.outcome {
				t.Fatalf("%d attempts then %s, want %d then %s", p.Attempts(), p.Exhausted, len(tt.due), tt.outcome)
			}
			for n := 1; n < len(tt.due); n++ {
				// After the attempt due before it, on time or a little late.
				for _, late := range []time.Duration{0, time.Second} {
					at, ok := p.Next(first, first.Add(tt.due[n-1]+late))
					if !ok || !at.Equal(first.Add(tt.due[n])) {
						t.Errorf("attempt %d due %v (%v), want %v", n+1, at, ok, first.Add(tt.due[n]))
					}
				}
			}
			if _, ok := p.Next(first, first.Add(tt.due[len(tt.due)-1])); ok {
				t.Error("an attempt after the last")
			}
		})
	}
}

func TestPollOffsets(t *testing.T) {
	o := PollOffsets()
	want := []time.Duration{10 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 20 * time.Minute}
	for i, w := range want {
		if o[i] != w {
			t.Errorf("poll %d at %v, want %v", i+1, o[i], w)
		}
	}
	if last := o[len(o)-1]; last != 3*time.Hour {
		t.Errorf("last poll at %v, want 3h", last)
	}
	if len(o) != 5+18 {
		t.Errorf("%d polls, want 23", len(o))
	}
	for i := 1; i < len(o); i++ {
		if o[i] <= o[i-1] {
			t.Fatalf("polls not increasing at %d", i)
		}
	}
}

// A late attempt skips the retries whose time has passed rather than
// making them all at once.
func TestPolicyNextAfterALateAttempt(t *testing.T) {
	first := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	at, ok := PolicyFor(simulator.Message{Kind: simulator.KindLifecycle, Protocol: simulator.V1, Activity: "newInstance"}).Next(first, first.Add(150*time.Minute))
	if !ok || !at.Equal(first.Add(3*time.Hour)) {
		t.Errorf("next after +2h30 = %v, %v; want +3h", at, ok)
	}
}

// Probes are tried once; a poll follows the polling schedule from the
// answer it polls after, and fails the order when it runs out.
func TestPolicyByKind(t *testing.T) {
	answer := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, kind := range []string{simulator.KindDebug, simulator.KindDialTest, simulator.KindDetails} {
		p := PolicyFor(simulator.Message{Kind: kind, Protocol: simulator.V2, Activity: "newInstance"})
		if p.Attempts() != 1 || p.Exhausted != simulator.Stopped {
			t.Errorf("%s newInstance: %d attempts then %s, want 1 then STOPPED", kind, p.Attempts(), p.Exhausted)
		}
	}
	if p := PolicyFor(simulator.Message{Protocol: simulator.V2, Activity: "refreshInstance", Kind: simulator.KindLifecycle}); p.Attempts() != 5 {
		t.Errorf("a lifecycle refresh: %d attempts, want 5", p.Attempts())
	}
	p := PolicyFor(simulator.Message{Kind: simulator.KindPoll, Activity: "queryInstance"})
	if p.Exhausted != simulator.OrderFailed || p.Attempts() != 23 {
		t.Fatalf("poll: %d attempts then %s, want 23 then ORDER_FAILED_UNSUBSCRIBED", p.Attempts(), p.Exhausted)
	}
	for _, tt := range []struct{ after, want time.Duration }{
		{0, 10 * time.Second}, {10 * time.Second, 30 * time.Second}, {5 * time.Minute, 10 * time.Minute}, {170 * time.Minute, 3 * time.Hour},
	} {
		if at, ok := p.Next(answer, answer.Add(tt.after)); !ok || !at.Equal(answer.Add(tt.want)) {
			t.Errorf("poll after +%v: %v, %v; want +%v", tt.after, at.Sub(answer), ok, tt.want)
		}
	}
	if _, ok := p.Next(answer, answer.Add(3*time.Hour)); ok {
		t.Error("a poll after +3h")
	}
}
