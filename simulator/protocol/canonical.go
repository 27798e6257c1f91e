package protocol

import (
	"bytes"
	"fmt"
	"slices"
	"unicode/utf16"
	"unicode/utf8"
)

// SortDepth says which objects of a body have their members sorted when it
// is canonicalised. The two signing families of the marketplace differ here.
type SortDepth int

const (
	// SortTopLevel sorts the top-level members only and keeps nested objects
	// in the order they were generated: the V2 basic-interface reqParams
	// (callbacks.md §4.3; vectors S1 and S2 prove nested order is kept).
	SortTopLevel SortDepth = iota
	// SortAllLevels sorts the members of every object: kit x-sign and the
	// usage-push body signature (kit-sync.md §2.1).
	SortAllLevels
)

// maxNesting bounds recursion so that a hostile body cannot exhaust the
// stack; real marketplace bodies nest four levels at most.
const maxNesting = 512

// CanonicalJSON returns the canonical form of a JSON object body: compact,
// members sorted by the byte order of their UTF-8 names as depth says,
// members whose value is null omitted at every depth, strings re-escaped
// with the minimum JSON escaping (non-ASCII as raw UTF-8, no HTML or "/"
// escaping), numbers and array order kept exactly as given.
//
// Verifiers must not use this on a body they received when the scheme signs
// the raw bytes (V2 basic interfaces); it is how a body is generated, and how
// the schemes that sign the canonical form (kit, usage push) are checked.
func CanonicalJSON(body []byte, depth SortDepth) ([]byte, error) {
	return AppendCanonicalJSON(make([]byte, 0, len(body)), body, depth)
}

// AppendCanonicalJSON is CanonicalJSON appending to dst.
func AppendCanonicalJSON(dst, body []byte, depth SortDepth) ([]byte, error) {
	c := canonicalizer{in: body, out: dst, depth: depth}
	c.space()
	if c.pos < len(c.in) && c.in[c.pos] != '{' {
		if bytes.HasPrefix(c.in, []byte("\xef\xbb\xbf")) {
			return nil, malformed("body", "starts with a UTF-8 byte order mark; send JSON without a BOM")
		}
		return nil, malformed("body", "must be a JSON object, found %s", c.found())
	}
	if _, err := c.value(0); err != nil {
		return nil, err
	}
	c.space()
	if c.pos != len(c.in) {
		return nil, c.syntax("unexpected %s after the top-level object", c.found())
	}
	return c.out, nil
}

type canonicalizer struct {
	in    []byte
	pos   int
	out   []byte
	depth SortDepth

	// Stacks shared by every nesting level, so that sorting an object
	// allocates nothing once they have grown.
	members []member
	keys    []byte
	scratch []byte
}

// member locates one canonical "name":value pair written to out and its
// decoded name in keys.
type member struct {
	start, end       int // in out
	keyStart, keyEnd int // in keys
}

func (c *canonicalizer) syntax(format string, args ...any) error {
	return malformed("body", "invalid JSON at byte %d: %s", c.pos, fmt.Sprintf(format, args...))
}

func (c *canonicalizer) found() string {
	if c.pos >= len(c.in) {
		return "end of input"
	}
	return fmt.Sprintf("%q", c.in[c.pos])
}

func (c *canonicalizer) space() {
	for c.pos < len(c.in) {
		switch c.in[c.pos] {
		case ' ', '\t', '\n', '\r':
			c.pos++
		default:
			return
		}
	}
}

// value writes the canonical form of the value at pos and reports whether
// it was null, in which case nothing was written.
func (c *canonicalizer) value(level int) (null bool, err error) {
	if level > maxNesting {
		return false, c.syntax("nested more than %d levels", maxNesting)
	}
	if c.pos >= len(c.in) {
		return false, c.syntax("unexpected end of input, want a value")
	}
	switch b := c.in[c.pos]; {
	case b == '{':
		return false, c.object(level)
	case b == '[':
		return false, c.array(level)
	case b == '"':
		return false, c.str(false)
	case b == '-' || b >= '0' && b <= '9':
		return false, c.number()
	case bytes.HasPrefix(c.in[c.pos:], []byte("true")):
		c.pos += 4
		c.out = append(c.out, "true"...)
	case bytes.HasPrefix(c.in[c.pos:], []byte("false")):
		c.pos += 5
		c.out = append(c.out, "false"...)
	case bytes.HasPrefix(c.in[c.pos:], []byte("null")):
		c.pos += 4
		return true, nil
	default:
		return false, c.syntax("unexpected %s, want a value", c.found())
	}
	return false, nil
}

func (c *canonicalizer) object(level int) error {
	sorted := level == 0 || c.depth == SortAllLevels
	c.pos++ // '{'
	open := len(c.out)
	c.out = append(c.out, '{')
	base, keysBase := len(c.members), len(c.keys)
	n := 0
	c.space()
	if c.pos < len(c.in) && c.in[c.pos] == '}' {
		c.pos++
		c.out = append(c.out, '}')
		return nil
	}
	for {
		c.space()
		if c.pos >= len(c.in) || c.in[c.pos] != '"' {
			return c.syntax("unexpected %s, want a member name", c.found())
		}
		start := len(c.out)
		if n > 0 && !sorted {
			c.out = append(c.out, ',')
		}
		keyStart := len(c.keys)
		if err := c.str(sorted); err != nil {
			return err
		}
		c.space()
		if c.pos >= len(c.in) || c.in[c.pos] != ':' {
			return c.syntax("unexpected %s, want ':'", c.found())
		}
		c.pos++
		c.out = append(c.out, ':')
		c.space()
		null, err := c.value(level + 1)
		if err != nil {
			return err
		}
		switch {
		case null:
			c.out = c.out[:start]
			c.keys = c.keys[:keyStart]
		case sorted:
			c.members = append(c.members, member{start, len(c.out), keyStart, len(c.keys)})
			n++
		default:
			n++
		}
		c.space()
		if c.pos >= len(c.in) {
			return c.syntax("unexpected end of input, want ',' or '}'")
		}
		if c.in[c.pos] == '}' {
			c.pos++
			break
		}
		if c.in[c.pos] != ',' {
			return c.syntax("unexpected %s, want ',' or '}'", c.found())
		}
		c.pos++
	}
	if sorted {
		if err := c.sortMembers(open+1, base); err != nil {
			return err
		}
		c.members, c.keys = c.members[:base], c.keys[:keysBase]
	}
	c.out = append(c.out, '}')
	return nil
}

// sortMembers reorders the members written to out since from, which
// members[base:] describe, by name, inserting the separators.
func (c *canonicalizer) sortMembers(from, base int) error {
	ms := c.members[base:]
	name := func(m member) []byte { return c.keys[m.keyStart:m.keyEnd] }
	slices.SortFunc(ms, func(a, b member) int { return bytes.Compare(name(a), name(b)) })
	for i := 1; i < len(ms); i++ {
		if bytes.Equal(name(ms[i-1]), name(ms[i])) {
			return malformed("body", "member %q appears twice in one object; the signature would be ambiguous", name(ms[i]))
		}
	}
	c.scratch = append(c.scratch[:0], c.out[from:]...)
	c.out = c.out[:from]
	for i, m := range ms {
		if i > 0 {
			c.out = append(c.out, ',')
		}
		c.out = append(c.out, c.scratch[m.start-from:m.end-from]...)
	}
	return nil
}

func (c *canonicalizer) array(level int) error {
	c.pos++ // '['
	c.out = append(c.out, '[')
	c.space()
	if c.pos < len(c.in) && c.in[c.pos] == ']' {
		c.pos++
		c.out = append(c.out, ']')
		return nil
	}
	for n := 0; ; n++ {
		if n > 0 {
			c.out = append(c.out, ',')
		}
		c.space()
		// A null element is kept: dropping it would shift the positions of
		// the elements after it.
		null, err := c.value(level + 1)
		if err != nil {
			return err
		}
		if null {
			c.out = append(c.out, "null"...)
		}
		c.space()
		if c.pos >= len(c.in) {
			return c.syntax("unexpected end of input, want ',' or ']'")
		}
		if c.in[c.pos] == ']' {
			c.pos++
			c.out = append(c.out, ']')
			return nil
		}
		if c.in[c.pos] != ',' {
			return c.syntax("unexpected %s, want ',' or ']'", c.found())
		}
		c.pos++
	}
}

// number copies a JSON number verbatim after checking its grammar: the
// marketplace's serialiser chose the digits, and re-formatting them (12.780
// to 12.78) would change the signed bytes.
func (c *canonicalizer) number() error {
	in, i := c.in, c.pos
	digits := func() int {
		n := 0
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if in[i] == '-' {
		i++
	}
	switch {
	case i < len(in) && in[i] == '0':
		i++
	case digits() == 0:
		return c.syntax("malformed number")
	}
	if i < len(in) && in[i] == '.' {
		i++
		if digits() == 0 {
			return c.syntax("malformed number: no digits after '.'")
		}
	}
	if i < len(in) && (in[i] == 'e' || in[i] == 'E') {
		i++
		if i < len(in) && (in[i] == '+' || in[i] == '-') {
			i++
		}
		if digits() == 0 {
			return c.syntax("malformed number: no digits in the exponent")
		}
	}
	c.out = append(c.out, in[c.pos:i]...)
	c.pos = i
	return nil
}

// str decodes the string at pos and writes its canonical encoding to out;
// with key set it also appends the decoded bytes to keys, for sorting.
func (c *canonicalizer) str(key bool) error {
	c.pos++ // opening quote
	c.out = append(c.out, '"')
	for {
		// Copy the run of bytes that need no escaping in one go.
		i := c.pos
		for i < len(c.in) {
			b := c.in[i]
			if b == '"' || b == '\\' || b < 0x20 {
				break
			}
			if b >= utf8.RuneSelf {
				r, size := utf8.DecodeRune(c.in[i:])
				if r == utf8.RuneError && size == 1 {
					c.pos = i
					return c.syntax("invalid UTF-8 in a string")
				}
				i += size
				continue
			}
			i++
		}
		c.out = append(c.out, c.in[c.pos:i]...)
		if key {
			c.keys = append(c.keys, c.in[c.pos:i]...)
		}
		c.pos = i
		if i >= len(c.in) {
			return c.syntax("unterminated string")
		}
		switch b := c.in[i]; {
		case b == '"':
			c.pos++
			c.out = append(c.out, '"')
			return nil
		case b < 0x20:
			return c.syntax("control character %#02x in a string must be escaped", b)
		}
		// Escape sequence.
		if i+1 >= len(c.in) {
			return c.syntax("unterminated escape")
		}
		var r rune
		switch e := c.in[i+1]; e {
		case '"', '\\', '/':
			r = rune(e)
			c.pos += 2
		case 'b':
			r, c.pos = '\b', c.pos+2
		case 'f':
			r, c.pos = '\f', c.pos+2
		case 'n':
			r, c.pos = '\n', c.pos+2
		case 'r':
			r, c.pos = '\r', c.pos+2
		case 't':
			r, c.pos = '\t', c.pos+2
		case 'u':
			var err error
			if r, err = c.unicodeEscape(); err != nil {
				return err
			}
		default:
			return c.syntax("invalid escape \\%c", e)
		}
		c.out = appendEscaped(c.out, r)
		if key {
			c.keys = utf8.AppendRune(c.keys, r)
		}
	}
}

// unicodeEscape decodes \uXXXX at pos, combining a surrogate pair.
func (c *canonicalizer) unicodeEscape() (rune, error) {
	r, ok := hex4(c.in, c.pos+2)
	if !ok {
		return 0, c.syntax("invalid \\u escape")
	}
	c.pos += 6
	if !utf16.IsSurrogate(r) {
		return r, nil
	}
	if lo, ok := hex4(c.in, c.pos+2); ok && c.in[c.pos] == '\\' && c.in[c.pos+1] == 'u' {
		if pair := utf16.DecodeRune(r, lo); pair != utf8.RuneError {
			c.pos += 6
			return pair, nil
		}
	}
	return 0, c.syntax("unpaired surrogate \\u%04x cannot be encoded as UTF-8", r)
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, h := range b[i : i+4] {
		r <<= 4
		switch {
		case h >= '0' && h <= '9':
			r |= rune(h - '0')
		case h >= 'a' && h <= 'f':
			r |= rune(h - 'a' + 10)
		case h >= 'A' && h <= 'F':
			r |= rune(h - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

// appendEscaped appends r with the minimum JSON escaping: only '"', '\\'
// and control characters are escaped; everything else is raw UTF-8. (Go's
// encoding/json also escapes U+2028 and U+2029, which Java serialisers do
// not, so it cannot be used for signed bytes.)
func appendEscaped(dst []byte, r rune) []byte {
	switch r {
	case '"':
		return append(dst, `\"`...)
	case '\\':
		return append(dst, `\\`...)
	case '\b':
		return append(dst, `\b`...)
	case '\f':
		return append(dst, `\f`...)
	case '\n':
		return append(dst, `\n`...)
	case '\r':
		return append(dst, `\r`...)
	case '\t':
		return append(dst, `\t`...)
	}
	if r < 0x20 {
		const hexDigits = "0123456789abcdef"
		return append(dst, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xF])
	}
	return utf8.AppendRune(dst, r)
}
