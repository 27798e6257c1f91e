package simulator

import (
	"strings"
	"testing"
)

func TestCheckID(t *testing.T) {
	for _, id := range []string{"P1", "OFFI123456789", "c-1", "a.b_c", strings.Repeat("x", MaxID)} {
		if err := CheckID("productId", id); err != nil {
			t.Errorf("%q refused: %v", id, err)
		}
	}
	for name, id := range map[string]string{
		"empty": "", "too long": strings.Repeat("x", MaxID+1), "100 KB": strings.Repeat("x", 100<<10),
		"NUL": "a\x00b", "CR LF": "a\r\nb", "zero-width space": "a\u200bb", "space": "a b", "slash": "a/b", "non-ASCII": "é",
	} {
		err := CheckID("customerId", id)
		if ErrorCode(err) != EINVALID || !strings.HasPrefix(err.Error(), "customerId: ") {
			t.Errorf("%s: %v, want EINVALID naming customerId", name, err)
		}
		if err != nil && len(err.Error()) > 200 {
			t.Errorf("%s: the error is %d bytes long; it must not echo a long ID", name, len(err.Error()))
		}
	}
}

func TestCheckText(t *testing.T) {
	for _, s := range []string{"", "Acme Ltd", "测试公司 (北京)", strings.Repeat("x", MaxText)} {
		if err := CheckText("customerName", s); err != nil {
			t.Errorf("%q refused: %v", s, err)
		}
	}
	for name, s := range map[string]string{
		"too long": strings.Repeat("x", MaxText+1), "NUL": "a\x00", "LF": "a\nb", "zero-width joiner": "a\u200db",
		"BOM": "\ufeffAcme", "bidi override": "a\u202eb", "bad UTF-8": "\xff",
	} {
		if err := CheckText("customerName", s); ErrorCode(err) != EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
}
