package simulator

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorCode(t *testing.T) {
	invalid := Errorf(EINVALID, "--iv", "must be %d characters", 16)
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{invalid, EINVALID},
		{fmt.Errorf("reading flags: %w", invalid), EINVALID},
		{errors.New("disk full"), EINTERNAL},
	}
	for _, tt := range tests {
		if got := ErrorCode(tt.err); got != tt.want {
			t.Errorf("ErrorCode(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
	if got := invalid.Error(); got != "--iv: must be 16 characters" {
		t.Errorf("Error() = %q", got)
	}
	if got := Errorf(ENOTFOUND, "", "no order %s", "CS1").Error(); got != "no order CS1" {
		t.Errorf("Error() without a field = %q", got)
	}
}
