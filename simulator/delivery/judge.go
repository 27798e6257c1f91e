// Package delivery sends the marketplace's callbacks to merchants and judges
// their answers exactly as the real marketplace does.
package delivery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/tidwall/gjson"
)

// Call is what the judge needs to know of the request an answer is to.
type Call struct {
	Protocol  simulator.Protocol
	Activity  string // its row of the activity table says what the answer needs
	AccessKey string // for the response Body-Sign
	// RequireV2BodySign makes a V2 answer without Body-Sign a failure
	// instead of a warning (callbacks.md §4.6, product setting
	// v2RequireBodySign).
	RequireV2BodySign bool
	// Polled is the instanceId a queryInstance polls for after newInstance
	// answered 000004: a success then also needs that instance's access
	// data, else the verdict is NOT_READY (callbacks.md §10.1).
	Polled string
}

// Answer is what came back from one attempt: a complete response, or the
// transport error that prevented one.
type Answer struct {
	Status  int
	Header  http.Header
	Body    []byte
	Elapsed time.Duration
	Err     error
	// Limit is the time the answer was allowed: a TIMEOUT's message names
	// it. Zero means the marketplace's DefaultTimeout.
	Limit time.Duration
}

// Judgement is the verdict on one answer.
type Judgement struct {
	Verdict simulator.Verdict
	// Detail says what exactly was wrong, for the merchant: the missing
	// field, the content type received, the Body-Sign expected.
	Detail string
	// Message is the seller-center debugger's text for the verdict, with
	// its placeholders filled (callbacks.md §8).
	Message string
	// Warnings are checks the marketplace does not fail a call for but a
	// merchant should fix.
	Warnings []string
}

// slowAnswer is the V2 requirements page's 5 s, reported as a warning; the
// call itself fails only at the 20 s timeout (callbacks.md §8 notes).
const slowAnswer = 5 * time.Second

// Result codes with a meaning for the judge (callbacks.md §7).
const (
	codeSuccess    = "000000"
	codeProcessing = "000004"
)

// maxLength is every response member's documented maximum length, in
// Unicode characters, by the gjson path it is found at.
var maxLength = []struct {
	path string
	max  int
}{
	{"resultCode", 6}, {"resultMsg", 255}, {"instanceId", 64}, {"encryptType", 3}, {"dashboardUrl", 512},
	{"appInfo.frontEndUrl", 512}, {"appInfo.adminUrl", 512}, {"appInfo.userName", 128}, {"appInfo.password", 128}, {"appInfo.memo", 1024},
	{"info.#.instanceId", 64}, {"info.#.dashboardUrl", 512}, {"info.#.encryptType", 3},
	{"info.#.appInfo.frontEndUrl", 512}, {"info.#.appInfo.adminUrl", 512}, {"info.#.appInfo.userName", 128},
	{"info.#.appInfo.password", 128}, {"info.#.appInfo.memo", 1024},
}

// Judge applies the marketplace's checks to an answer by the rules of the
// call's protocol: a callback's in the order of callbacks.md §8, stopping
// at the first failure; a kit sync's by kit-sync.md §3.
func Judge(c Call, a Answer) Judgement {
	d := dialectOf(c.Protocol)
	if d == nil {
		return Judgement{Verdict: simulator.Unreachable, Detail: fmt.Sprintf("protocol %q is neither v1, v2 nor kit: kgsim cannot call it", c.Protocol)}
	}
	return d.judge(c, a)
}

// judgeCallback judges a V1 or V2 callback's answer; bodySign makes a
// missing Body-Sign a failure rather than a warning.
func judgeCallback(c Call, a Answer, bodySign bool) Judgement {
	if j, failed := transportFailure(a); failed {
		return j
	}
	var warnings []string
	fail := func(v simulator.Verdict, message, detail string) Judgement {
		return Judgement{Verdict: v, Detail: detail, Message: message, Warnings: warnings}
	}
	if a.Elapsed > slowAnswer {
		warnings = append(warnings, fmt.Sprintf("SLOW_RESPONSE: answered in %.1f s; answer within 5 s", a.Elapsed.Seconds()))
	}
	if a.Status != http.StatusOK {
		return fail(simulator.HTTPStatus, fmt.Sprintf("调测失败,接口响应httpCode=%d,请检查服务器日志,定位失败原因.", a.Status),
			fmt.Sprintf("HTTP status %d, want 200 (redirects are not followed)", a.Status))
	}
	const bodySignMessage = "调测失败,生产接口响应头缺少Body-Sign,或Body-Sign格式错误."
	header := a.Header.Get(protocol.BodySignHeaderName)
	switch {
	case bodySign || header != "":
		err := protocol.VerifyBodySign(c.AccessKey, header, a.Body)
		if _, ok := errors.AsType[*protocol.Mismatch](err); ok {
			return fail(simulator.BodySignMismatch, bodySignMessage, err.Error())
		}
		if err != nil {
			return fail(simulator.BodySignMissing, bodySignMessage, err.Error())
		}
	default:
		warnings = append(warnings, "BODY_SIGN_ABSENT: V2 answer without Body-Sign; one V2 page requires it, so send it")
	}
	contentType := a.Header.Get("Content-Type")
	if media, _, err := mime.ParseMediaType(contentType); err != nil || media != "application/json" {
		return fail(simulator.ContentType, fmt.Sprintf(`调测失败,响应content-type格式错误,返回的格式为%s,正确的格式为"application/json".`, contentType),
			fmt.Sprintf("Content-Type is %q, want application/json (parameters such as charset allowed)", contentType))
	}
	body := gjson.ParseBytes(a.Body)
	if !gjson.ValidBytes(a.Body) || !body.IsObject() {
		return fail(simulator.BodyParse, parseMessage, "the body is not a JSON object")
	}
	code := body.Get("resultCode")
	if code.Type != gjson.String {
		return fail(simulator.BodyParse, parseMessage, "the body has no string member resultCode")
	}
	if !body.Get("resultMsg").Exists() {
		warnings = append(warnings, "RESULT_MSG_MISSING: the answer has no resultMsg")
	}
	spec, _ := activity.Lookup(c.Protocol, c.Activity)
	verdict := simulator.Success
	switch {
	case code.Str == codeSuccess:
	case code.Str == codeProcessing && spec.Async != activity.NotAsync:
		verdict = simulator.AcceptedAsync
	case spec.Refusable:
		return Judgement{Verdict: simulator.Refused, Detail: "resultCode " + code.Str + ": the change is refused", Warnings: warnings}
	default:
		return fail(simulator.ResultCode, "调用失败,生产接口resultCode返回错误.", "resultCode is "+strconv.Quote(code.Str)+", want \"000000\"")
	}
	if field := missingField(body, spec.Answer); field != "" {
		return fail(simulator.MissingField, "调测失败,接口响应缺少"+field+".", "the answer lacks "+field)
	}
	for _, l := range maxLength {
		for _, v := range values(body, l.path) {
			if n := utf8.RuneCountInString(v.Str); v.Type == gjson.String && n > l.max {
				field := shortPath(l.path)
				return fail(simulator.FieldLength, "调测失败,字段"+field+"长度不合法.", fmt.Sprintf("%s is %d characters, at most %d allowed", field, n, l.max))
			}
		}
	}
	warnings = append(warnings, asciiWarnings(body)...)
	if c.Polled != "" && !ready(body, c.Polled) {
		return Judgement{Verdict: simulator.NotReady, Warnings: warnings,
			Detail: "info has no entry with instanceId " + strconv.Quote(c.Polled) + " and a non-empty appInfo.frontEndUrl yet; polling goes on (callbacks.md §10.1)"}
	}
	return Judgement{Verdict: verdict, Warnings: warnings}
}

// transportFailure judges an attempt that got no complete answer, and
// reports whether it got none.
func transportFailure(a Answer) (Judgement, bool) {
	switch {
	case a.Err == nil:
		return Judgement{}, false
	case errors.Is(a.Err, errTooLarge):
		return Judgement{Verdict: simulator.BodyParse, Message: parseMessage, Detail: a.Err.Error()}, true
	case isTimeout(a.Err):
		limit := cmp.Or(a.Limit, DefaultTimeout)
		return Judgement{Verdict: simulator.Timeout, Message: "调测失败,调用接口超时" + strconv.FormatFloat(limit.Seconds(), 'f', -1, 64) + "s.",
			Detail: a.Err.Error() + " (limit " + limit.String() + ")"}, true
	}
	return Judgement{Verdict: simulator.Unreachable, Message: "调测失败,生产地址不可达.", Detail: a.Err.Error()}, true
}

const parseMessage = `调测失败,解析响应体失败,响应格式参考{"resultCode":"000000","resultMsg":"success."}.`

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	ne, ok := errors.AsType[net.Error](err)
	return ok && ne.Timeout()
}

// missingField returns the first of the fields the debugger requires of
// an activity's answer that is absent (callbacks.md §8 row 8). "a[].b" is
// b in every entry of a; the entries are checked one after the other, each
// for all of its fields, as the debugger reports them.
func missingField(body gjson.Result, fields []string) string {
	for i := 0; i < len(fields); i++ {
		array, _, nested := strings.Cut(fields[i], "[].")
		if !nested {
			if !body.Get(fields[i]).Exists() {
				return fields[i]
			}
			continue
		}
		var each []string // the fields of every entry of this array
		for ; i < len(fields); i++ {
			a, field, ok := strings.Cut(fields[i], "[].")
			if !ok || a != array {
				break
			}
			each = append(each, field)
		}
		i--
		for _, entry := range body.Get(array).Array() {
			if field := missingField(entry, each); field != "" {
				return array + "[]." + field
			}
		}
	}
	return ""
}

// ready reports whether a queryInstance answer carries the polled
// instance's access data: its info entry with appInfo.frontEndUrl.
func ready(body gjson.Result, instanceID string) bool {
	found := false
	body.Get("info").ForEach(func(_, info gjson.Result) bool {
		found = info.Get("instanceId").String() == instanceID && info.Get("appInfo.frontEndUrl").String() != ""
		return !found
	})
	return found
}

// values returns the values at path, flattening the "info.#." arrays.
func values(body gjson.Result, path string) []gjson.Result {
	r := body.Get(path)
	if r.IsArray() && strings.HasPrefix(path, "info.#.") {
		return r.Array()
	}
	if r.Exists() {
		return []gjson.Result{r}
	}
	return nil
}

// shortPath names a field the way the debugger does: its own name.
func shortPath(path string) string {
	return path[strings.LastIndexByte(path, '.')+1:]
}

// asciiWarnings reports non-ASCII text where the docs forbid it: "apart
// from memo, do not return Chinese in any response member", and Chinese in
// memo must be written as \uXXXX escapes (callbacks.md §5.1).
func asciiWarnings(body gjson.Result) []string {
	var out []string
	var walk func(path string, v gjson.Result)
	walk = func(path string, v gjson.Result) {
		switch {
		case v.IsObject() || v.IsArray():
			v.ForEach(func(k, child gjson.Result) bool {
				name := k.String()
				if v.IsArray() {
					name = "[]"
				}
				walk(path+"."+name, child)
				return true
			})
		case v.Type != gjson.String:
		case shortPath(path) == "memo":
			if !isASCII(v.Raw) {
				out = append(out, "NON_ASCII_MEMO: "+path[1:]+" carries raw non-ASCII text; write it as \\uXXXX escapes")
			}
		case !isASCII(v.Str):
			out = append(out, "NON_ASCII: "+path[1:]+" carries non-ASCII text; only memo may")
		}
	}
	walk("", body)
	return out
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
