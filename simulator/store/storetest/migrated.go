package storetest

import (
	"testing"

	"github.com/kgsim/kgsim/simulator"
)

// KitKindMigrated checks a store migrated from a database holding a kit
// sync stored as kind KIT (message k: tenantSync on queue kit/T1/A1,
// stopped) and a debug call (message d): k is of the lifecycle kind now,
// found by its protocol as the kit console finds a binding's syncs, and
// d keeps its kind.
func KitKindMigrated(t *testing.T, s simulator.Store) {
	t.Helper()
	ctx := t.Context()
	want := map[string]string{"k": simulator.KindLifecycle, "d": simulator.KindDebug}
	for id, kind := range want {
		if m, err := s.Message(ctx, id); err != nil || m.Kind != kind {
			t.Errorf("message %s after migrating: kind %q, %v; want %q", id, m.Kind, err, kind)
		}
	}
	ms, err := s.Messages(ctx, simulator.MessageFilter{Protocol: simulator.Kit, Queue: "kit/T1/A1", Outcome: simulator.Stopped})
	if err != nil || len(ms) != 1 || ms[0].ID != "k" {
		t.Errorf("the binding's stopped kit syncs after migrating: %+v, %v; want message k", ms, err)
	}
}
