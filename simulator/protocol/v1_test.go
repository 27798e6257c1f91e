package protocol

import (
	"errors"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator/vectors"
)

func paramsOf(v map[string]string) []Param {
	var ps []Param
	for name, value := range v {
		ps = append(ps, Param{name, value})
	}
	return ps
}

func TestV1Vectors(t *testing.T) {
	for _, v := range vectors.Of(t, "callbacks.json", "v1_authtoken") {
		t.Run(v.Get("id").String(), func(t *testing.T) {
			in := v.Get("inputs")
			params := map[string]string{}
			for name, value := range in.Get("params").Map() {
				params[name] = value.String()
			}
			ps := paramsOf(params)
			if got, want := V1Canonical(ps), in.Get("canonical").String(); got != want {
				t.Errorf("canonical:\n got %s\nwant %s", got, want)
			}
			got, err := SignV1(in.Get("accessKey").String(), ps)
			if err != nil {
				t.Fatal(err)
			}
			if want := v.Get("expected").String(); got != want {
				t.Errorf("authToken = %s, want %s", got, want)
			}
			if wire := in.Get("wireQuery"); wire.Exists() {
				if q := EncodeV1Query(ps, got); q != wire.String() {
					t.Errorf("wire query:\n got %s\nwant %s", q, wire.String())
				}
			}
			// What the marketplace sends must verify, and a merchant parsing
			// the wire form must recover the same parameters.
			wire := EncodeV1Query(ps, got)
			if err := VerifyV1(in.Get("accessKey").String(), wire); err != nil {
				t.Errorf("VerifyV1(wire) = %v", err)
			}
		})
	}
}

func TestSignV1WithoutTimeStamp(t *testing.T) {
	_, err := SignV1("k", []Param{{"activity", "newInstance"}})
	if _, ok := errors.AsType[*MalformedError](err); !ok {
		t.Fatalf("err = %v, want *MalformedError", err)
	}
}

func TestParseV1Query(t *testing.T) {
	ps, err := ParseV1Query("b=%E6%B5%8B+x&a=&c&&d=1%2B1")
	if err != nil {
		t.Fatal(err)
	}
	want := []Param{{"b", "测 x"}, {"a", ""}, {"c", ""}, {"d", "1+1"}}
	if len(ps) != len(want) {
		t.Fatalf("got %v, want %v", ps, want)
	}
	for i := range want {
		if ps[i] != want[i] {
			t.Errorf("param %d = %v, want %v", i, ps[i], want[i])
		}
	}
	for _, bad := range []string{"a=%zz", "a=1&a=2", "%=1"} {
		if _, err := ParseV1Query(bad); err == nil {
			t.Errorf("ParseV1Query(%q) accepted", bad)
		}
	}
}

// The diagnosis must name the mistake a merchant actually made.
func TestVerifyV1Diagnosis(t *testing.T) {
	const key, ts = "xxxxxxx", "20200727073711903"
	ps := []Param{{"activity", "newInstance"}, {"customerName", "a b/c"}, {"timeStamp", ts}, {"orderId", "CS1"}}
	good, _ := SignV1(key, ps)
	tests := []struct {
		name, key, token, cause string
	}{
		{"key given with whitespace", key + "\n", good, "whitespace"},
		{"signer's key ends with a newline", key, signV1(key+"\n", ts, V1Canonical(ps)), "newline"},
		{"parameters not sorted", key, signV1(key, ts, joinParams(ps)), "order they were sent"},
		{"HMAC key without timeStamp", key, hmacBase64(key, []byte(V1Canonical(ps))), "access key alone"},
		{"hex token", key, hmacHex(key+ts, []byte(V1Canonical(ps))), "hex"},
		{"unknown mistake", key, signV1("other", ts, V1Canonical(ps)), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Sent in the unsorted order of ps, as a marketplace may.
			query := "activity=newInstance&customerName=a+b%2Fc&timeStamp=" + ts + "&orderId=CS1&authToken=" + url.QueryEscape(tt.token)
			m, ok := errors.AsType[*Mismatch](VerifyV1(tt.key, query))
			if !ok {
				t.Fatal("not a *Mismatch")
			}
			if tt.cause == "" && m.Cause != "" || !strings.Contains(m.Cause, tt.cause) {
				t.Errorf("cause = %q, want it to mention %q", m.Cause, tt.cause)
			}
			if m.Expected != good && tt.key == key || m.Received != tt.token {
				t.Errorf("expected/received = %s/%s, want %s/%s", m.Expected, m.Received, good, tt.token)
			}
		})
	}
}

func TestVerifyV1SignedEncodedValues(t *testing.T) {
	const key = "k"
	ps := []Param{{"email", "a+b/c=="}, {"timeStamp", "20250101120000001"}}
	wire := EncodeV1Query(ps, "")
	rawQuery := strings.TrimSuffix(wire, "&authToken=")
	// The signer forgot to URL-decode: it signed "email=a%2Bb%2Fc%3D%3D".
	bad := signV1(key, "20250101120000001", rawCanonical(rawQuery, false))
	err := VerifyV1(key, rawQuery+"&authToken="+url.QueryEscape(bad))
	m, ok := errors.AsType[*Mismatch](err)
	if !ok || !strings.Contains(m.Cause, "URL-decoded before signing") {
		t.Fatalf("err = %v, want a mismatch blaming encoded values", err)
	}
	// The authToken's "+" sent unencoded arrives as a space.
	good, _ := SignV1(key, ps)
	if !strings.Contains(good, "+") {
		t.Fatalf("the fixed inputs were chosen for a token with a '+', got %s", good)
	}
	err = VerifyV1(key, rawQuery+"&authToken="+good)
	m, ok = errors.AsType[*Mismatch](err)
	if !ok || !strings.Contains(m.Cause, "arrived as a space") {
		t.Fatalf("err = %v, want a mismatch blaming the unencoded '+'", err)
	}
}

func TestVerifyV1Malformed(t *testing.T) {
	for _, q := range []string{"timeStamp=1", "authToken=x", "a=%G1&authToken=x&timeStamp=1"} {
		if _, ok := errors.AsType[*MalformedError](VerifyV1("k", q)); !ok {
			t.Errorf("VerifyV1(%q) is not a *MalformedError", q)
		}
	}
}

func TestV1RoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		ps := []Param{{"timeStamp", "20250101120000001"}}
		for i := range r.IntN(8) {
			ps = append(ps, Param{"p" + randomValue(r, 4) + string(rune('a'+i)), randomValue(r, 20)})
		}
		key := randomValue(r, 12)
		tok, err := SignV1(key, ps)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyV1(key, EncodeV1Query(ps, tok)); err != nil {
			t.Fatalf("params %q: %v", ps, err)
		}
		if err := VerifyV1(key+"x", EncodeV1Query(ps, tok)); err == nil {
			t.Fatalf("params %q: verified with the wrong key", ps)
		}
	}
}

// randomValue returns up to n runes that stress every encoding here:
// URL-reserved characters, spaces, "+", "%", quotes, backslashes, tabs and
// multi-byte UTF-8 up to four bytes.
func randomValue(r *rand.Rand, n int) string {
	const pool = "abcXYZ019 +/=&%?#-_.~;:,@!$'()*[]测试✓é😀\"\\\t"
	runes := []rune(pool)
	var b strings.Builder
	for range r.IntN(n + 1) {
		b.WriteRune(runes[r.IntN(len(runes))])
	}
	return b.String()
}

func FuzzParseV1Query(f *testing.F) {
	f.Add("activity=newInstance&businessId=61e834ba&timeStamp=20200727073711903&authToken=Gzbf%2B%3D")
	f.Add("a=%E6%B5%8B+x&b=&c&&=")
	f.Add("a=%zz&b=%")
	f.Fuzz(func(t *testing.T, raw string) {
		ps, err := ParseV1Query(raw)
		if err != nil {
			return
		}
		// Whatever parses re-encodes to a query that parses to the same
		// parameters, and a signature over it verifies.
		again, err := ParseV1Query(EncodeV1Query(ps, "tok"))
		if err != nil {
			t.Fatalf("re-encoded query does not parse: %v", err)
		}
		if got, want := V1Canonical(again), V1Canonical(ps); got != want {
			t.Fatalf("canonical changed on re-encoding: %q vs %q", got, want)
		}
		if _, ok := ParamValue(ps, V1TimeStamp); ok {
			tok, _ := SignV1("k", ps)
			if err := VerifyV1("k", EncodeV1Query(ps, tok)); err != nil && ps[0].Name != V1AuthToken {
				if _, has := ParamValue(ps, V1AuthToken); !has {
					t.Fatalf("sign then verify failed: %v", err)
				}
			}
		}
	})
}

func BenchmarkSignV1(b *testing.B) {
	ps, _ := ParseV1Query("activity=newInstance&businessId=61e834ba-7b97-4418-b8f7-e5345137278c&customerId=68cbc86abc2018ab880d92f36422fa0e&expireTime=20200727153156&orderId=CS1906666666ABCDE&productId=00301-666666-0--0&testFlag=1&timeStamp=20200727073711903")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SignV1("xxxxxxx", ps); err != nil {
			b.Fatal(err)
		}
	}
}

func TestV1Timestamp(t *testing.T) {
	at := time.Date(2020, 7, 27, 15, 37, 11, 903_999_999, time.FixedZone("CST", 8*3600))
	if got := V1Timestamp(at); got != "20200727073711903" {
		t.Errorf("V1Timestamp = %s, want 20200727073711903 (UTC, milliseconds truncated)", got)
	}
}
