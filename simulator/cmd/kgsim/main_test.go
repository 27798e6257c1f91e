package main

import (
	"bytes"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator/vectors"
)

// fixedNow is the clock of every test run: the S1 vector's timestamp.
var fixedNow = time.UnixMilli(1716363778801)

type result struct {
	code           int
	stdout, stderr string
}

// kgsim runs the command in-process with a fixed clock and randomness.
func kgsim(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &env{
		stdin:  strings.NewReader(stdin),
		stdout: &out,
		stderr: &errOut,
		now:    func() time.Time { return fixedNow },
		random: rand.NewChaCha8([32]byte{1}),
	})
	return result{code, out.String(), errOut.String()}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// wantOutput checks a successful run that printed exactly want.
func wantOutput(t *testing.T, r result, want string) {
	t.Helper()
	if r.code != exitOK || r.stdout != want+"\n" {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 0 and %q", r.code, r.stdout, r.stderr, want)
	}
}

// Every vector is reproduced through the command line, as a merchant
// would reproduce it.
func TestVectorsThroughCLI(t *testing.T) {
	t.Run("v1", func(t *testing.T) {
		for _, v := range vectors.Of(t, "callbacks.json", "v1_authtoken") {
			in := v.Get("inputs")
			q := url.Values{}
			for name, value := range in.Get("params").Map() {
				q.Set(name, value.String())
			}
			key, want := in.Get("accessKey").String(), v.Get("expected").String()
			wantOutput(t, kgsim(t, "", "sign", "v1", "--access-key", key, q.Encode()), want)
			signed := "https://isv.example.com/produce?" + q.Encode() + "&authToken=" + url.QueryEscape(want)
			wantOutput(t, kgsim(t, "", "verify", "v1", "--access-key", key, signed), "valid: authToken matches")
		}
	})
	t.Run("bodysign", func(t *testing.T) {
		for _, v := range vectors.Of(t, "callbacks.json", "v1_body_sign") {
			in := v.Get("inputs")
			key, body := in.Get("accessKey").String(), writeFile(t, in.Get("body").String())
			header := v.Get("expectedHeader").String()
			wantOutput(t, kgsim(t, "", "sign", "bodysign", "--access-key", key, "--body", body), header)
			wantOutput(t, kgsim(t, "", "verify", "bodysign", "--access-key", key, "--body", body, "--header", "Body-Sign: "+header), "valid: Body-Sign matches the body bytes")
		}
	})
	t.Run("v2", func(t *testing.T) {
		for _, v := range vectors.Of(t, "callbacks.json", "v2_signature") {
			in := v.Get("inputs")
			key, ts, nonce := in.Get("accessKey").String(), in.Get("timestamp").String(), in.Get("nonce").String()
			// S2 starts from a body in generation order with nulls: the
			// command canonicalises it as the marketplace would.
			body := in.Get("logicalBodyInGenerationOrder")
			if !body.Exists() {
				body = in.Get("reqParams")
			}
			want := v.Get("expected").String()
			wantOutput(t, kgsim(t, body.String(), "sign", "v2", "--access-key", key, "--timestamp", ts, "--nonce", nonce, "--body", "-"), want)
			raw := writeFile(t, in.Get("reqParams").String())
			wantOutput(t, kgsim(t, "", "sign", "v2", "--raw", "--access-key", key, "--timestamp", ts, "--nonce", nonce, "--body", raw), want)
			u := "https://isv.example.com/produce?signature=" + strings.ToUpper(want) + "&timestamp=" + ts + "&nonce=" + nonce
			wantOutput(t, kgsim(t, "", "verify", "v2", "--access-key", key, "--body", raw, "--at", ts, u), "valid: signature matches and the timestamp is inside the 60 s window")
		}
	})
	t.Run("kit", func(t *testing.T) {
		for _, v := range vectors.Of(t, "identity.json", "kit-x-sign") {
			in := v.Get("inputs")
			key, ts, nonce := in.Get("kitKey").String(), in.Get("x-timestamp").String(), in.Get("x-nonce").String()
			body, want := writeFile(t, in.Get("reqParams").String()), v.Get("expected").String()
			wantOutput(t, kgsim(t, "", "sign", "kit", "--access-key", key, "--timestamp", ts, "--nonce", nonce, "--body", body), want)
			wantOutput(t, kgsim(t, "", "verify", "kit", "--access-key", key, "--sign", want, "--timestamp", ts, "--nonce", nonce, "--body", body, "--at", ts),
				"valid: x-sign matches and x-timestamp is inside the 60 s window")
		}
	})
	t.Run("usage", func(t *testing.T) {
		for _, v := range vectors.Of(t, "identity.json", "usage-push-body-signature") {
			in := v.Get("inputs")
			key, ts, nonce := in.Get("basicKey").String(), in.Get("ts").String(), in.Get("nonce").String()
			body, want := writeFile(t, in.Get("body").String()), v.Get("expected").String()
			wantOutput(t, kgsim(t, "", "sign", "usage", "--access-key", key, "--timestamp", ts, "--nonce", nonce, "--body", body), want)
			wantOutput(t, kgsim(t, "", "verify", "usage", "--access-key", key, "--signature", want, "--timestamp", ts, "--nonce", nonce, "--body", body), "valid: signature matches the canonical body")
		}
	})
	t.Run("apig", func(t *testing.T) {
		for _, v := range vectors.Of(t, "identity.json", "apig-sdk-hmac-sha256") {
			in := v.Get("inputs")
			args := []string{"--ak", in.Get("ak").String(), "--sk", in.Get("sk").String(), "--method", in.Get("method").String()}
			q := url.Values{}
			for _, pair := range in.Get("query").Array() {
				q.Add(pair.Get("0").String(), pair.Get("1").String())
			}
			var date string
			for name, value := range in.Get("headers").Map() {
				switch strings.ToLower(name) {
				case "host":
					args = append(args, "--url", "https://"+value.String()+in.Get("path").String()+"?"+q.Encode())
				case "x-sdk-date":
					date = value.String()
				default:
					args = append(args, "--header", name+": "+value.String())
				}
			}
			if b := in.Get("body").String(); b != "" {
				args = append(args, "--body", writeFile(t, b))
			}
			auth := v.Get("expected.authorization").String()
			wantOutput(t, kgsim(t, "", append([]string{"sign", "apig", "--date", date}, args...)...), auth)
			verify := append([]string{"verify", "apig", "--at", date, "--header", "X-Sdk-Date: " + date, "--header", "Authorization: " + auth}, args...)
			wantOutput(t, kgsim(t, "", verify...), "valid: Authorization matches and X-Sdk-Date is inside the 15-minute window")
		}
	})
	t.Run("derive-key", func(t *testing.T) {
		for _, v := range vectors.Of(t, "callbacks.json", "sha1prng_aes_key") {
			key := v.Get("inputs.accessKey").String()
			wantOutput(t, kgsim(t, "", "crypto", "derive-key", "--access-key", key), v.Get("expected.aes256").String())
			wantOutput(t, kgsim(t, "", "crypto", "derive-key", "--access-key", key, "--encrypt-type", "1"), v.Get("expected.aes256").String())
			wantOutput(t, kgsim(t, "", "crypto", "derive-key", "--access-key", key, "--encrypt-type", "2"), v.Get("expected.aes128").String())
		}
	})
	t.Run("fields", func(t *testing.T) {
		for _, v := range vectors.Of(t, "callbacks.json", "aes_cbc_pkcs5_field") {
			in := v.Get("inputs")
			key, et := in.Get("accessKey").String(), in.Get("encryptType").String()
			plain, want := in.Get("plaintext").String(), v.Get("expected").String()
			wantOutput(t, kgsim(t, "", "crypto", "encrypt", "--access-key", key, "--encrypt-type", et, "--iv", in.Get("iv").String(), plain), want)
			wantOutput(t, kgsim(t, "", "crypto", "decrypt", "--access-key", key, "--encrypt-type", et, want), plain)
		}
	})
	t.Run("rsa", func(t *testing.T) {
		vs := vectors.Of(t, "identity.json", "rsa-oaep-decrypt")
		keyFile := writeFile(t, vs[0].Get("inputs.privateKeyPkcs8Pem").String())
		for _, v := range vs {
			hash := map[string]string{"SHA-256": "sha256", "SHA-1": "sha1"}[v.Get("inputs.oaepHash").String()]
			wantOutput(t, kgsim(t, "", "crypto", "rsa-decrypt", "--private-key", keyFile, "--oaep-hash", hash, v.Get("inputs.ciphertextBase64").String()), v.Get("expected").String())
		}
	})
}

func TestSignWithoutTimestampUsesNowAndPrintsTheQuery(t *testing.T) {
	r := kgsim(t, "", "sign", "v1", "--access-key", "xxxxxxx", "activity=instanceStatus&instanceId=i-1&instanceStatus=FREEZE")
	want := regexp.MustCompile(`^activity=instanceStatus&instanceId=i-1&instanceStatus=FREEZE&timeStamp=20240522074258801&authToken=[A-Za-z0-9%]{44,}\n$`)
	if r.code != 0 || !want.MatchString(r.stdout) {
		t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
	}
	// The query printed verifies.
	wantOutput(t, kgsim(t, "", "verify", "v1", "--access-key", "xxxxxxx", strings.TrimSpace(r.stdout)), "valid: authToken matches")

	// Canonical already, so the bytes signed are the bytes verified.
	body := writeFile(t, `{"activity":"newInstance","businessId":"b-1","orderId":"CS1","orderLineId":"CS1-000001"}`)
	r = kgsim(t, "", "sign", "v2", "--access-key", "xxxxxxx", "--body", body)
	want = regexp.MustCompile(`^signature=[0-9a-f]{64}&timestamp=1716363778801&nonce=[0-9A-F]{64}\n$`)
	if r.code != 0 || !want.MatchString(r.stdout) {
		t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
	}
	wantOutput(t, kgsim(t, "", "verify", "v2", "--access-key", "xxxxxxx", "--body", body, "?"+strings.TrimSpace(r.stdout)),
		"valid: signature matches and the timestamp is inside the 60 s window")
}

func TestVerifyExplainsWhatIsWrong(t *testing.T) {
	body := `{"activity":"releaseInstance","instanceId":"i-1","testFlag":"1"}`
	exact, withNewline := writeFile(t, body), writeFile(t, body+"\n")
	sign := kgsim(t, "", "sign", "v2", "--raw", "--access-key", "k", "--timestamp", "1716363778801", "--nonce", "n1", "--body", exact)
	q := "signature=" + strings.TrimSpace(sign.stdout) + "&timestamp=1716363778801&nonce=n1"
	tests := []struct {
		name string
		args []string
		want []string // lines or fragments stdout must contain
	}{
		{"body file with a final newline", []string{"verify", "v2", "--access-key", "k", "--body", withNewline, "--at", "1716363778801", q},
			[]string{"invalid: v2 signature mismatch", "signed string: <accessKey>n11716363778801", "received:      " + strings.TrimSpace(sign.stdout), "trailing line break"}},
		{"stale timestamp", []string{"verify", "v2", "--access-key", "k", "--body", exact, "--at", "1716363898801", q},
			[]string{"invalid: timestamp is 120 s old, outside the 60 s window"}},
		{"key with whitespace", []string{"verify", "v2", "--access-key", "k ", "--body", exact, "--at", "1716363778801", q},
			[]string{"whitespace"}},
		{"unquoted Body-Sign", []string{"verify", "bodysign", "--access-key", "k", "--body", exact, "--header", `sign_type=HMAC-SHA256, signature=abc`},
			[]string{"invalid: Body-Sign: sign_type value HMAC-SHA256 is not double-quoted"}},
		{"missing Body-Sign", []string{"verify", "bodysign", "--access-key", "k", "--body", exact, "--header", ""},
			[]string{"invalid: Body-Sign: header is missing"}},
		{"forged v1", []string{"verify", "v1", "--access-key", "xxxxxxx", "activity=x&timeStamp=20240101000000000&authToken=Gzbfjf9LHRBcI3bFVi%2B%2BsLinCNOBF6qa7is1fvjEgYQ%3D"},
			[]string{"invalid: v1 signature mismatch", "signed string: activity=x&timeStamp=20240101000000000", "likely cause:  none of the common mistakes"}},
		{"v1 without authToken", []string{"verify", "v1", "--access-key", "k", "activity=x&timeStamp=1"},
			[]string{"invalid: authToken: parameter is missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := kgsim(t, "", tt.args...)
			if r.code != exitInvalid {
				t.Errorf("exit %d, want 1; stderr %q", r.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
		})
	}
}

// Bad input exits 2 with one line that names the flag or argument and the
// expected form; never a panic, never usage text on stderr.
func TestBadInput(t *testing.T) {
	body := writeFile(t, `{"a":1}`)
	db := filepath.Join(t.TempDir(), "kgsim.db")
	badFixtures := t.TempDir()
	os.WriteFile(filepath.Join(badFixtures, "products.json"), []byte(`[{"productId":"P","skuCode":"s","chargingMode":"WEEKLY"}]`), 0o600)
	os.WriteFile(filepath.Join(badFixtures, "customers.json"), []byte(`[]`), 0o600)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"nope"}, `kgsim: unknown command "nope" (commands: serve, sign, verify, crypto, certify, steps, demo, replay, help, version)`},
		{[]string{"certfy"}, `kgsim: unknown command "certfy"; did you mean "certify"?`},
		{[]string{"certify", "--protcol", "v1"}, "unknown flag --protcol; did you mean --protocol?"},
		{[]string{"certify", "--zzzzzzzz"}, "unknown flag --zzzzzzzz; --help lists the command's flags"},
		{[]string{"demo", "--bogus"}, "unknown flag --bogus: this command takes no flags"},
		{[]string{"version", "extra"}, `unexpected argument "extra"`},
		{[]string{"verify", "v1", "--access-key", "k", "notaurl"}, `URL|QUERY: "notaurl" is not a callback URL or query`},
		{[]string{"serve", "--clock", "fast"}, `--clock: "fast": want real or virtual`},
		{[]string{"serve", "--clock", "virtual", "--start", "2025"}, `--start: "2025": want an RFC 3339 time`},
		{[]string{"serve", "--start", "2025-01-01T00:00:00Z"}, "--start: only a virtual clock has a start; add --clock virtual"},
		{[]string{"serve", "--timeout", "0s"}, `--timeout: "0s": want a positive duration`},
		{[]string{"serve", "--workers", "0"}, `--workers: "0": want a whole number, 1 or more`},
		{[]string{"serve", "--log-level", "loud"}, `--log-level: "loud": want debug, info, warn or error`},
		{[]string{"serve", "--smtp", "mailhost"}, `--smtp: "mailhost": want HOST:PORT`},
		{[]string{"serve", "--fixtures", "/no/such/dir"}, "--fixtures: /no/such/dir is not a directory"},
		{[]string{"serve", "--fixtures", badFixtures}, `products.json, entry 1 (P): chargingMode: "WEEKLY" is not one of`},
		{[]string{"serve", "--db", "/no/such/dir/kgsim.db"}, "--db: /no/such/dir/kgsim.db"},
		{[]string{"serve", "--db", db, "--addr", "256.0.0.1:1"}, "--addr: cannot listen on 256.0.0.1:1"},
		{[]string{"serve", "--base-url", "ftp://h/x"}, `--base-url: "ftp://h/x": want http(s)://HOST[:PORT] without a path`},
		{[]string{"serve", "--kit-oaep-hash", "md5"}, `--kit-oaep-hash: "md5": want sha256, sha1 or sha256-mgf1sha1`},
		{[]string{"serve", "--kit-body-layout", "pretty"}, `--kit-body-layout: "pretty": want document or canonical`},
		{[]string{"serve", "--cas-format", "yaml"}, `--cas-format: "yaml": want json or xml`},
		{[]string{"serve", "--invalid-client-status", "400"}, `--invalid-client-status: "400": want 401 or 403`},
		{[]string{"serve", "--code-lifetime", "1.5s"}, `--code-lifetime: "1.5s": want whole seconds from 1s to 366d`},
		{[]string{"serve", "--access-token-lifetime", "0s"}, `--access-token-lifetime: "0s": want whole seconds`},
		{[]string{"serve", "--refresh-token-lifetime", "400d"}, `--refresh-token-lifetime: "400d": want whole seconds`},
		{[]string{"serve", "--ticket-lifetime", "soon"}, `--ticket-lifetime: "soon": want whole seconds`},
		{[]string{"serve", "--session-lifetime", "-1h"}, `--session-lifetime: "-1h": want whole seconds`},
		{[]string{"serve", "--echo-state=maybe"}, `invalid boolean value "maybe" for -echo-state`},
		{[]string{"sign", "v3"}, `kgsim sign: unknown command "v3"`},
		{[]string{"help", "sign", "v3"}, `no command "v3" under "kgsim sign"`},
		{[]string{"sign", "v1", "--frob", "x"}, "unknown flag --frob"},
		{[]string{"sign", "v1", "--access-key"}, "--access-key: missing value; want --access-key KEY"},
		{[]string{"sign", "v1", "a=1"}, "--access-key: required; want --access-key KEY"},
		{[]string{"sign", "v1", "--access-key", "k"}, "missing argument QUERY"},
		{[]string{"sign", "v1", "--access-key", "k", "a=1", "b=2"}, `unexpected argument "b=2"`},
		{[]string{"sign", "v1", "--access-key", "k", "a=%zz"}, "QUERY: parameter a: value \"%zz\" is not URL-encoded correctly"},
		{[]string{"sign", "v2", "--access-key", "k"}, "--body: required; want --body FILE (or - for standard input)"},
		{[]string{"sign", "v2", "--access-key", "k", "--body", "/no/such/file"}, "--body: cannot read /no/such/file"},
		{[]string{"sign", "v2", "--access-key", "k", "--body", writeFile(t, `{"a":`)}, "--body: invalid JSON at byte 5"},
		{[]string{"sign", "v2", "--access-key", "k", "--body", writeFile(t, `[1]`)}, "--body: must be a JSON object"},
		{[]string{"sign", "v2", "--access-key", "k", "--body", body, "--timestamp", "1"}, "--nonce: missing"},
		{[]string{"sign", "v2", "--access-key", "k", "--body", body, "--nonce", "n"}, "--timestamp: missing"},
		{[]string{"sign", "v2", "--access-key", "k", "--body", body, "--nonce", "n", "--timestamp", "soon"}, `--timestamp: "soon" is not a number`},
		{[]string{"sign", "apig", "--ak", "a", "--sk", "s", "--url", "/relative"}, "--url: \"/relative\" is not an absolute URL"},
		{[]string{"sign", "apig", "--ak", "a", "--sk", "s", "--url", "https://h/p", "--header", "novalue"}, "--header: \"novalue\" is not 'Name: value'"},
		{[]string{"sign", "apig", "--ak", "a", "--sk", "s", "--url", "https://h/p", "--date", "2024-01-01"}, "--date: \"2024-01-01\" is not yyyyMMddTHHmmssZ"},
		{[]string{"verify", "v2", "--access-key", "k", "--body", body, "--at", "yesterday", "signature=a"}, "--at: \"yesterday\" is neither Unix epoch milliseconds nor RFC 3339"},
		{[]string{"crypto", "decrypt", "--access-key", "k", "short"}, "VALUE: is 5 bytes; it must be a 16-character iv followed by Base64 ciphertext"},
		{[]string{"crypto", "decrypt", "--access-key", "k", "0123456789abcdef!!!!"}, "VALUE: ciphertext after the 16-character iv is not standard Base64"},
		{[]string{"crypto", "decrypt", "--access-key", "k", "0123456789abcdefAAAA"}, "VALUE: ciphertext is 3 bytes, not a whole number of 16-byte AES blocks"},
		{[]string{"crypto", "decrypt", "--access-key", "k", "--encrypt-type", "3", "x"}, `--encrypt-type: "3": want 1 (AES-256) or 2 (AES-128)`},
		{[]string{"crypto", "encrypt", "--access-key", "k", "--iv", "short", "x"}, "--iv: must be 16 ASCII characters, got 5 bytes"},
		{[]string{"crypto", "encrypt", "--access-key", "k", "--iv", "0123456789abcdeé", "x"}, "--iv: must be 16 ASCII characters, got 17 bytes"},
		{[]string{"crypto", "derive-key"}, "--access-key: required"},
		{[]string{"crypto", "rsa-decrypt", "--private-key", body, "AAAA"}, "--private-key:"},
		{[]string{"crypto", "rsa-decrypt", "--private-key", body, "--oaep-hash", "md5", "AAAA"}, `--oaep-hash: "md5": want sha256, sha1 or sha256-mgf1sha1`},
		{[]string{"crypto", "rsa-keygen", "--out", "x", "--bits", "2048"}, `--bits: "2048": want a number of bits, at least 3072`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := kgsim(t, "", tt.args...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want 2", r.code)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q lacks %q", r.stderr, tt.want)
			}
			if strings.Count(r.stderr, "\n") != 1 || r.stdout != "" {
				t.Errorf("want exactly one line on stderr and nothing on stdout; got stderr %q, stdout %q", r.stderr, r.stdout)
			}
		})
	}
}

func TestDecryptNamesTheOtherVariant(t *testing.T) {
	r := kgsim(t, "", "crypto", "decrypt", "--access-key", "xxxxxxx", "--encrypt-type", "2", "0123456789abcdef3skyNB7o5RcplcTHhYGNyA==")
	if r.code != exitInvalid || !strings.Contains(r.stderr, "it does decrypt with --encrypt-type 1 (AES-256)") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	r = kgsim(t, "", "crypto", "decrypt", "--access-key", "wrong", "0123456789abcdef3skyNB7o5RcplcTHhYGNyA==")
	if r.code != exitInvalid || strings.Contains(r.stderr, "it does decrypt") || !strings.Contains(r.stderr, "wrong access key or wrong encryptType") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestEncryptWithoutIVIsRandomAndDecrypts(t *testing.T) {
	a := kgsim(t, "", "crypto", "encrypt", "--access-key", "k", "secret")
	if a.code != 0 || !regexp.MustCompile(`^[A-Za-z0-9]{16}[A-Za-z0-9+/]+=*\n$`).MatchString(a.stdout) {
		t.Fatalf("exit %d, stdout %q", a.code, a.stdout)
	}
	wantOutput(t, kgsim(t, "", "crypto", "decrypt", "--access-key", "k", strings.TrimSpace(a.stdout)), "secret")
}

func TestRSAKeygenEncryptDecrypt(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a 3072-bit key")
	}
	prefix := filepath.Join(t.TempDir(), "merchant")
	r := kgsim(t, "", "crypto", "rsa-keygen", "--out", prefix)
	if r.code != 0 {
		t.Fatalf("keygen: exit %d, %s", r.code, r.stderr)
	}
	if st, err := os.Stat(prefix + ".key"); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v, %v", st, err)
	}
	for _, hash := range []string{"sha256", "sha1", "sha256-mgf1sha1"} {
		enc := kgsim(t, "", "crypto", "rsa-encrypt", "--public-key", prefix+".pub", "--oaep-hash", hash, "kgsim-secret")
		if enc.code != 0 {
			t.Fatalf("encrypt: exit %d, %s", enc.code, enc.stderr)
		}
		wantOutput(t, kgsim(t, "", "crypto", "rsa-decrypt", "--private-key", prefix+".key", "--oaep-hash", hash, strings.TrimSpace(enc.stdout)), "kgsim-secret")
	}
}

// Every command has help with an example, reachable three ways.
func TestHelp(t *testing.T) {
	var walk func(c *command, path []string)
	walk = func(c *command, path []string) {
		for _, s := range c.sub {
			p := append(slices.Clone(path), s.name)
			if s.name == "help" {
				continue
			}
			if s.run != nil && !strings.Contains(s.help, "Example:") {
				t.Errorf("%s: help has no example", strings.Join(p, " "))
			}
			a := kgsim(t, "", append([]string{"help"}, p...)...)
			b := kgsim(t, "", append(p, "--help")...)
			if a.code != 0 || b.code != 0 || a.stdout != b.stdout || !strings.Contains(a.stdout, "Usage: kgsim "+strings.Join(p, " ")) {
				t.Errorf("%s: help differs or is missing: %q vs %q", strings.Join(p, " "), a.stdout, b.stdout)
			}
			walk(s, p)
		}
	}
	walk(root(), nil)
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		if r := kgsim(t, "", args...); r.code != 0 || !strings.Contains(r.stdout, "Commands of kgsim:") {
			t.Errorf("kgsim %v: exit %d, %q", args, r.code, r.stdout)
		}
	}
	// A command not given did not run: the help goes to standard error.
	for _, args := range [][]string{nil, {"verify"}} {
		if r := kgsim(t, "", args...); r.code != exitUsage || r.stdout != "" || !strings.Contains(r.stderr, "Commands of ") {
			t.Errorf("kgsim %v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	a, b := kgsim(t, "", "version"), kgsim(t, "", "--version")
	if a.code != 0 || a.stdout != b.stdout || !strings.HasPrefix(a.stdout, "kgsim ") || !strings.Contains(a.stdout, runtime.Version()) {
		t.Errorf("version: exit %d %q; --version %q", a.code, a.stdout, b.stdout)
	}
}
