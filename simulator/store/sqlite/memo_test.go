package sqlite

import (
	"fmt"
	"testing"
)

// The memo holds at most maxRemembered records of a kind: past that it
// starts again, and reads what it forgot from the database.
func TestMemoIsBounded(t *testing.T) {
	mu := newMemo()
	reads := 0
	read := func(key string) func() (string, error) {
		return func() (string, error) { reads++; return "v-" + key, nil }
	}
	m := map[string]string{}
	for i := range maxRemembered + 1 {
		key := fmt.Sprint(i)
		if v, err := remembered(mu, m, key, read(key)); err != nil || v != "v-"+key {
			t.Fatalf("remembered(%s) = %q, %v", key, v, err)
		}
	}
	if len(m) != 1 || reads != maxRemembered+1 {
		t.Errorf("after %d records the memo holds %d, read %d times; want 1 and %d", maxRemembered+1, len(m), reads, maxRemembered+1)
	}
	if v, _ := remembered(mu, m, fmt.Sprint(maxRemembered), read("x")); v != fmt.Sprint("v-", maxRemembered) || reads != maxRemembered+1 {
		t.Errorf("the last record was read again: %q after %d reads", v, reads)
	}
}

// A read that began before a write and ends after it keeps nothing: it
// may have found the record as it was before.
func TestMemoKeepsNoReadOverlappingAWrite(t *testing.T) {
	mu := newMemo()
	m := map[string]string{}
	v, err := remembered(mu, m, "k", func() (string, error) {
		forget(mu, m, "k")
		return "old", nil
	})
	if err != nil || v != "old" {
		t.Fatalf("remembered = %q, %v", v, err)
	}
	if _, ok := m["k"]; ok {
		t.Error("the memo kept what was read while the record was written")
	}
}
