package simulator

import (
	"encoding/hex"
	"fmt"
	"io"
	"time"
)

// NewID returns a unique record ID: prefix, then the time in milliseconds
// and 8 random bytes, in hex. IDs made later sort later, which is what a
// person scanning a listing expects; nothing relies on it.
func NewID(prefix string, now time.Time, random io.Reader) (string, error) {
	var b [8]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", fmt.Errorf("random ID: %w", err)
	}
	return fmt.Sprintf("%s%012x%s", prefix, now.UnixMilli(), hex.EncodeToString(b[:])), nil
}
