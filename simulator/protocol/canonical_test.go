package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/kgsim/kgsim/simulator/vectors"
)

func TestCanonicalJSON(t *testing.T) {
	tests := []struct {
		name, in string
		depth    SortDepth
		want     string
	}{
		{"top level sorted, nested kept", `{"b":1,"a":{"z":1,"y":2}}`, SortTopLevel, `{"a":{"z":1,"y":2},"b":1}`},
		{"every level sorted", `{"b":1,"a":{"z":1,"y":[{"d":1,"c":2}]}}`, SortAllLevels, `{"a":{"y":[{"c":2,"d":1}],"z":1},"b":1}`},
		{"nulls dropped at every depth", `{"a":null,"b":{"c":null,"d":1,"e":null},"f":[null,1]}`, SortTopLevel, `{"b":{"d":1},"f":[null,1]}`},
		{"object emptied by nulls", `{"a":{"b":null}}`, SortAllLevels, `{"a":{}}`},
		{"whitespace removed", " {\n \"b\" : [ 1 , 2 ] ,\t\"a\":\"x y\"\r\n} \n", SortTopLevel, `{"a":"x y","b":[1,2]}`},
		{"numbers verbatim", `{"a":12.780,"b":-0,"c":1E+5,"d":0.5e-3}`, SortTopLevel, `{"a":12.780,"b":-0,"c":1E+5,"d":0.5e-3}`},
		{"literals", `{"t":true,"f":false}`, SortTopLevel, `{"f":false,"t":true}`},
		{"non-ASCII raw", `{"n":"\u5f20\u4e09 ✓","s":"\ud83d\ude00"}`, SortTopLevel, `{"n":"张三 ✓","s":"😀"}`},
		{"minimal escaping", `{"s":"<a href=\"x\">&amp;<\/a>\u2028"}`, SortTopLevel, "{\"s\":\"<a href=\\\"x\\\">&amp;</a>\u2028\"}"},
		{"control characters", `{"s":"\u0001\b\f\n\r\t\u001F\\"}`, SortTopLevel, `{"s":"\u0001\b\f\n\r\t\u001f\\"}`},
		{"sort by decoded name", `{"\u0062":1,"a":2,"\u0041":3}`, SortTopLevel, `{"A":3,"a":2,"b":1}`},
		{"byte order, not locale", `{"é":1,"z":2,"Z":3,"_":4}`, SortTopLevel, `{"Z":3,"_":4,"z":2,"é":1}`},
		{"empty containers", `{"a":[],"b":{}}`, SortTopLevel, `{"a":[],"b":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CanonicalJSON([]byte(tt.in), tt.depth)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestCanonicalJSONRejects(t *testing.T) {
	for _, in := range []string{
		``, `[]`, `"s"`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1 "b":2}`, `{"a":01}`, `{"a":1.}`,
		`{"a":-}`, `{"a":1e}`, `{"a":tru}`, `{"a":"x}`, "{\"a\":\"\x01\"}", `{"a":"\x"}`, `{"a":"\u12"}`,
		`{"a":"\ud800"}`, "{\"a\":\"\xff\"}", `{"a":1}x`, `{"a":1,"a":2}`, "\xef\xbb\xbf{}", `{"a":[1 2]}`,
		strings.Repeat(`{"a":`, 600) + "1" + strings.Repeat("}", 600),
	} {
		_, err := CanonicalJSON([]byte(in), SortTopLevel)
		if _, ok := errors.AsType[*MalformedError](err); !ok {
			t.Errorf("CanonicalJSON(%.40q) = %v, want *MalformedError", in, err)
		}
	}
}

// The S2 vector gives a body in generation order with nulls; canonicalising
// it must give the vector's reqParams.
func TestCanonicalJSONVectorS2(t *testing.T) {
	for _, v := range vectors.Of(t, "callbacks.json", "v2_signature") {
		in := v.Get("inputs")
		body := in.Get("logicalBodyInGenerationOrder")
		if !body.Exists() {
			// The other bodies are already canonical: canonicalising must
			// leave them byte-identical.
			body = in.Get("reqParams")
		}
		got, err := CanonicalJSON([]byte(body.String()), SortTopLevel)
		if err != nil {
			t.Fatal(err)
		}
		if want := in.Get("reqParams").String(); string(got) != want {
			t.Errorf("%s:\n got %s\nwant %s", v.Get("id"), got, want)
		}
	}
}

// The kit vectors' reqParams are canonical with members sorted at every
// level: canonicalising must be the identity on them.
func TestCanonicalJSONKitVectors(t *testing.T) {
	for _, v := range vectors.Of(t, "identity.json", "kit-x-sign") {
		want := v.Get("inputs.reqParams").String()
		got, err := CanonicalJSON([]byte(want), SortAllLevels)
		if err != nil || string(got) != want {
			t.Errorf("%s: got %s, %v", v.Get("id"), got, err)
		}
	}
}

// Canonicalisation is idempotent and agrees with encoding/json on meaning.
func TestCanonicalJSONProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		in := randomObject(r, 0)
		for _, depth := range []SortDepth{SortTopLevel, SortAllLevels} {
			once, err := CanonicalJSON(in, depth)
			if err != nil {
				t.Fatalf("%s: %v", in, err)
			}
			twice, err := CanonicalJSON(once, depth)
			if err != nil || !bytes.Equal(once, twice) {
				t.Fatalf("not idempotent: %s -> %s -> %s (%v)", in, once, twice, err)
			}
			var a, b any
			if err := json.Unmarshal(in, &a); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(once, &b); err != nil {
				t.Fatalf("canonical form is not JSON: %s", once)
			}
			if !jsonEqualWithoutNulls(a, b) {
				t.Fatalf("meaning changed: %s -> %s", in, once)
			}
		}
	}
}

func jsonEqualWithoutNulls(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok {
			return false
		}
		n := 0
		for k, v := range a {
			if v == nil {
				continue
			}
			n++
			if !jsonEqualWithoutNulls(v, bm[k]) {
				return false
			}
		}
		return n == len(bm)
	case []any:
		bs, ok := b.([]any)
		if !ok || len(a) != len(bs) {
			return false
		}
		for i := range a {
			if !jsonEqualWithoutNulls(a[i], bs[i]) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

// randomObject returns a random JSON object, pretty-printed or not, with
// nulls, escapes and non-ASCII text.
func randomObject(r *rand.Rand, level int) []byte {
	var b bytes.Buffer
	b.WriteString("{ ")
	for i := range r.IntN(5) {
		if i > 0 {
			b.WriteString(" ,\n")
		}
		b.WriteString(strconv.Quote(randomValue(r, 6) + strconv.Itoa(i)))
		b.WriteString(" : ")
		b.Write(randomJSONValue(r, level+1))
	}
	b.WriteString("}")
	return b.Bytes()
}

func randomJSONValue(r *rand.Rand, level int) []byte {
	n := 6
	if level > 3 {
		n = 4
	}
	switch r.IntN(n) {
	case 0:
		return []byte("null")
	case 1:
		return []byte(strconv.FormatFloat(r.NormFloat64()*1e3, 'g', -1, 64))
	case 2:
		s, _ := json.Marshal(randomValue(r, 10))
		return s
	case 3:
		return []byte([]string{"true", "false"}[r.IntN(2)])
	case 4:
		return randomObject(r, level)
	default:
		var b bytes.Buffer
		b.WriteString("[")
		for i := range r.IntN(3) {
			if i > 0 {
				b.WriteString(",")
			}
			b.Write(randomJSONValue(r, level+1))
		}
		b.WriteString("]")
		return b.Bytes()
	}
}

func FuzzCanonicalJSON(f *testing.F) {
	f.Add([]byte(`{"activity":"newInstance","businessId":"87b94795","orderId":"CS2211181819B4LVS","testFlag":"1"}`), false)
	f.Add([]byte(`{"b":{"z":null,"y":[1,{"x":"\u00e9\ud83d\ude00"}]},"a":-1.5e3}`), true)
	f.Add([]byte(`{"a":"\ud800"}`), false)
	f.Add([]byte(" {\"a\" : [ ] , \"a\":1} "), true)
	f.Fuzz(func(t *testing.T, in []byte, deep bool) {
		depth := SortTopLevel
		if deep {
			depth = SortAllLevels
		}
		out, err := CanonicalJSON(in, depth)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("canonical form is not valid JSON: %q", out)
		}
		again, err := CanonicalJSON(out, depth)
		if err != nil || !bytes.Equal(out, again) {
			t.Fatalf("not idempotent: %q -> %q (%v)", out, again, err)
		}
	})
}

// A V2 body of about 1 KiB, the size of a rich newInstance.
var benchBody = []byte(`{"testFlag":"1","activity":"newInstance","orderInfo":[{"businessId":"8a2c4e6f-405a-4f8d-8e24-f41090522646","orderId":"CS2210101920BWXLK","trialFlag":"0","orderAmount":12.78,"chargingMode":"PERIOD","periodType":"month","periodNumber":5,"provisionType":1,"productInfo":[{"skuCode":"a63ee5c9-4f86-11ed-9f95-fa163e8cb3b2","productId":"OFFI788963615933718528","linearValue":20},{"skuCode":"b63ee5c9-4f86-11ed-9f95-fa163e8cb3b2","productId":"OFFI788963615933718529","linearValue":40}],"createTime":"20221024194509","expireTime":"20221224194509","extendParams":[{"name":"emailDomainName","value":"test.xxxx.com"},{"name":"extendParamName","value":"extendParamValue"},{"name":"region","value":"cn-north-4"}]}],"buyerInfo":{"customerId":"688055390f3049f283fe9f1aa90f1858","customerName":"CBC_marketplace_mwx616072_01","userId":"1e86066c22754361933f607df834e4fe","userName":"CBC_marketplace_mwx616072_01","mobilePhone":"AbCdEfGh12345678kh520bML/0vzRJltDQWY0Ms5ekjO+dNB4bgH+dL5Ztk=","email":"AbCdEfGh12345678kh520bML/0vzRJltDQWY0Ms5ekjO+dNB4bgH+dL5Ztk="},"memo":"开通成功，欢迎使用 kgsim 模拟器"}`)

// BenchmarkCanonicalizeAndSignV2 and BenchmarkJSONRoundTrip are a pair: the
// target is canonicalise+sign within 2x of a plain Unmarshal+Marshal.
func BenchmarkCanonicalizeAndSignV2(b *testing.B) {
	b.SetBytes(int64(len(benchBody)))
	b.ReportAllocs()
	buf := make([]byte, 0, 2048)
	for b.Loop() {
		var err error
		buf, err = AppendCanonicalJSON(buf[:0], benchBody, SortTopLevel)
		if err != nil {
			b.Fatal(err)
		}
		SignV2("xxxxxxx", "1716363778801", "RLLUammMSInlrNWb", buf)
	}
}

func BenchmarkJSONRoundTrip(b *testing.B) {
	b.SetBytes(int64(len(benchBody)))
	b.ReportAllocs()
	for b.Loop() {
		var v map[string]any
		if err := json.Unmarshal(benchBody, &v); err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
}
