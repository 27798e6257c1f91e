//go:build !linux

package pgtest

import "testing"

// FullDisk fills a small filesystem mounted for the purpose, which the
// tests do on Linux only: elsewhere the test is skipped.
func (c *Cluster) FullDisk(t testing.TB, url string) (free func()) {
	t.Skip("filling a small filesystem is tested on Linux only; skipped")
	return nil
}
