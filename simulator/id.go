package simulator

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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

// Limits of what enters kgsim from outside (the admin API, the fixtures):
// an ID of a record the merchant or the operator names (productId,
// skuCode, customerId) is 1 to MaxID letters, digits, '.', '_' or '-',
// since it travels in URL paths, Location headers and callbacks' JSON;
// free text (a name) is at most MaxText bytes of UTF-8 without control or
// invisible formatting characters (CR, LF, NUL, zero-width spaces), which
// would forge lines in logs and notices or make two IDs look alike.
const (
	MaxID   = 64
	MaxText = 255
)

// CheckID checks an ID named by field.
func CheckID(field, id string) error {
	switch {
	case id == "":
		return Errorf(EINVALID, field, "is required")
	case len(id) > MaxID:
		return Errorf(EINVALID, field, "has %d characters; at most %d", len(id), MaxID)
	}
	if i := strings.IndexFunc(id, func(r rune) bool { return !strings.ContainsRune(idChars, r) }); i >= 0 {
		return Errorf(EINVALID, field, "%q: character %d is not a letter, digit, '.', '_' or '-'", id, i+1)
	}
	return nil
}

// CheckText checks free text named by field; empty passes.
func CheckText(field, s string) error {
	switch {
	case len(s) > MaxText:
		return Errorf(EINVALID, field, "has %d bytes; at most %d", len(s), MaxText)
	case !utf8.ValidString(s):
		return Errorf(EINVALID, field, "is not valid UTF-8")
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }); i >= 0 {
		return Errorf(EINVALID, field, "has a control or invisible character (%U) at byte %d; remove it", []rune(s[i:])[0], i+1)
	}
	return nil
}
