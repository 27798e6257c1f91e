package main

import (
	"regexp"
	"strings"
	"testing"
)

// verify v2 prints the signature it expected in the hex case of the one
// received, which the marketplace sends upper-case: side by side, they
// differ only where the signatures do.
func TestVerifyV2PrintsBothSignaturesInOneCase(t *testing.T) {
	body := writeFile(t, `{"activity":"releaseInstance","instanceId":"i-1"}`)
	other := kgsim(t, "", "sign", "v2", "--raw", "--access-key", "another-key", "--timestamp", "1716363778801", "--nonce", "n1", "--body", body)
	lines := regexp.MustCompile(`(?m)^  (expected|received): +(\S+)$`)
	for _, received := range []string{strings.ToUpper(strings.TrimSpace(other.stdout)), strings.ToLower(strings.TrimSpace(other.stdout))} {
		r := kgsim(t, "", "verify", "v2", "--access-key", "k", "--body", body, "--at", "1716363778801",
			"signature="+received+"&timestamp=1716363778801&nonce=n1")
		m := lines.FindAllStringSubmatch(r.stdout, -1)
		if r.code != exitInvalid || len(m) != 2 || m[1][2] != received {
			t.Fatalf("exit %d, want 1 with the expected and received signatures:\n%s", r.code, r.stdout)
		}
		if expected := m[0][2]; expected == received || strings.ToUpper(expected) != expected && strings.ToUpper(received) == received ||
			strings.ToLower(expected) != expected && strings.ToLower(received) == received {
			t.Errorf("expected %s and received %s in different cases", expected, received)
		}
	}
}

// A Body-Sign checked against a saved body with a final line break the
// answer did not have: the report says the line break may come from how
// the body was saved.
func TestVerifyBodySignSavedWithANewline(t *testing.T) {
	exact := writeFile(t, `{"resultCode":"000000","resultMsg":"success"}`)
	sign := kgsim(t, "", "sign", "bodysign", "--access-key", "k", "--body", exact)
	saved := writeFile(t, `{"resultCode":"000000","resultMsg":"success"}`+"\n")
	r := kgsim(t, "", "verify", "bodysign", "--access-key", "k", "--body", saved, "--header", strings.TrimSpace(sign.stdout))
	if r.code != exitInvalid || !strings.Contains(r.stdout, "the line break comes from how the body was saved") {
		t.Errorf("exit %d, want 1 saying the final newline may come from saving:\n%s", r.code, r.stdout)
	}
	if r := kgsim(t, "", "verify", "bodysign", "--access-key", "k", "--body", exact, "--header", strings.TrimSpace(sign.stdout)); r.code != exitOK {
		t.Errorf("the exact body: exit %d:\n%s", r.code, r.stdout)
	}
}
