package main

import (
	"runtime/debug"
	"testing"
)

func TestCollectLess(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	collectLess("")
	if got := debug.SetGCPercent(100); got != serveGCPercent {
		t.Errorf("without GOGC, the collector's target is %d, want %d", got, serveGCPercent)
	}
	collectLess("50")
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC=50 set, collectLess changed the target to %d", got)
	}
}
