//go:build !linux

package pgtest

import "testing"

// mount skips the test: a small filesystem is mounted on Linux only.
func (c *Cluster) mount(t testing.TB, size int) string {
	t.Skip("mounting a small filesystem to fill is done on Linux only; skipped")
	return ""
}
