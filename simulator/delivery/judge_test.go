package delivery

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/protocol"
)

const key = "xxxxxxx"

// answer builds a 200 JSON answer; V1 answers get a correct Body-Sign.
func answer(p simulator.Protocol, body string, edit ...func(*Answer)) Answer {
	a := Answer{Status: 200, Header: http.Header{"Content-Type": {"application/json;charset=UTF-8"}}, Body: []byte(body), Elapsed: 30 * time.Millisecond}
	if p == simulator.V1 {
		a.Header.Set("Body-Sign", protocol.BodySignHeader(protocol.BodySign(key, a.Body)))
	}
	for _, e := range edit {
		e(&a)
	}
	return a
}

func header(name, value string) func(*Answer) {
	return func(a *Answer) {
		if value == "" {
			a.Header.Del(name)
		} else {
			a.Header.Set(name, value)
		}
	}
}

func TestJudge(t *testing.T) {
	v1, v2 := simulator.V1, simulator.V2
	const okV1 = `{"resultCode":"000000","resultMsg":"success.","instanceId":"i-1","appInfo":{"frontEndUrl":"https://saas.example.com"}}`
	tests := []struct {
		name     string
		call     Call
		answer   Answer
		verdict  simulator.Verdict
		message  string // a fragment of the debugger message
		detail   string // a fragment of the detail
		warnings []string
	}{
		{name: "V1 newInstance success", call: Call{Protocol: v1, Activity: "newInstance"}, answer: answer(v1, okV1), verdict: simulator.Success},
		{name: "V2 release success", call: Call{Protocol: v2, Activity: "releaseInstance"}, answer: answer(v2, `{"resultCode":"000000","resultMsg":"ok"}`),
			verdict: simulator.Success, warnings: []string{"BODY_SIGN_ABSENT"}},
		{name: "V2 with a correct Body-Sign", call: Call{Protocol: v2, Activity: "releaseInstance"},
			answer: answer(v1, `{"resultCode":"000000","resultMsg":"ok"}`), verdict: simulator.Success},
		{name: "HTTP 500", call: Call{Protocol: v2, Activity: "releaseInstance"}, answer: answer(v2, `{}`, func(a *Answer) { a.Status = 500 }),
			verdict: simulator.HTTPStatus, message: "httpCode=500"},
		{name: "redirect is not followed", call: Call{Protocol: v2, Activity: "releaseInstance"}, answer: answer(v2, ``, func(a *Answer) { a.Status = 302 }),
			verdict: simulator.HTTPStatus, message: "httpCode=302"},
		{name: "V1 without Body-Sign", call: Call{Protocol: v1, Activity: "releaseInstance"}, answer: answer(v1, `{"resultCode":"000000"}`, header("Body-Sign", "")),
			verdict: simulator.BodySignMissing, message: "缺少Body-Sign", detail: "header is missing"},
		{name: "V1 Body-Sign unquoted", call: Call{Protocol: v1, Activity: "releaseInstance"},
			answer: answer(v1, `{"resultCode":"000000"}`, header("Body-Sign", "sign_type=HMAC-SHA256, signature=abc")), verdict: simulator.BodySignMissing, detail: "not double-quoted"},
		{name: "V1 Body-Sign over a re-serialised body", call: Call{Protocol: v1, Activity: "releaseInstance"},
			answer:  answer(v1, "{\"resultCode\": \"000000\"}\n", header("Body-Sign", protocol.BodySignHeader(protocol.BodySign(key, []byte(`{"resultCode":"000000"}`))))),
			verdict: simulator.BodySignMismatch, detail: "compact"},
		{name: "V2 Body-Sign present and wrong", call: Call{Protocol: v2, Activity: "releaseInstance"},
			answer: answer(v2, `{"resultCode":"000000"}`, header("Body-Sign", protocol.BodySignHeader("AAAA"))), verdict: simulator.BodySignMismatch},
		{name: "V2 Body-Sign required and absent", call: Call{Protocol: v2, Activity: "releaseInstance", RequireV2BodySign: true},
			answer: answer(v2, `{"resultCode":"000000"}`), verdict: simulator.BodySignMissing},
		{name: "text/plain", call: Call{Protocol: v2, Activity: "releaseInstance"}, answer: answer(v2, `{"resultCode":"000000"}`, header("Content-Type", "text/plain")),
			verdict: simulator.ContentType, message: "返回的格式为text/plain"},
		{name: "no content type", call: Call{Protocol: v2, Activity: "releaseInstance"}, answer: answer(v2, `{"resultCode":"000000"}`, header("Content-Type", "")),
			verdict: simulator.ContentType},
		{name: "content type case and parameters", call: Call{Protocol: v2, Activity: "releaseInstance"},
			answer: answer(v2, `{"resultCode":"000000","resultMsg":"ok"}`, header("Content-Type", "Application/JSON; charset=utf-8")), verdict: simulator.Success, warnings: []string{"BODY_SIGN_ABSENT"}},
		{name: "not JSON", call: Call{Protocol: v2, Activity: "releaseInstance"}, answer: answer(v2, `<xml/>`), verdict: simulator.BodyParse, message: "解析响应体失败"},
		{name: "JSON array", call: Call{Protocol: v2, Activity: "releaseInstance"}, answer: answer(v2, `[{"resultCode":"000000"}]`), verdict: simulator.BodyParse},
		{name: "numeric resultCode", call: Call{Protocol: v2, Activity: "releaseInstance"}, answer: answer(v2, `{"resultCode":0}`), verdict: simulator.BodyParse, detail: "no string member resultCode"},
		{name: "000001", call: Call{Protocol: v2, Activity: "releaseInstance"}, answer: answer(v2, `{"resultCode":"000001","resultMsg":"auth"}`),
			verdict: simulator.ResultCode, message: "resultCode返回错误", detail: `"000001"`},
		{name: "000004 for V2 newInstance", call: Call{Protocol: v2, Activity: "newInstance"}, answer: answer(v2, `{"resultCode":"000004","resultMsg":"async","instanceId":"i-1"}`),
			verdict: simulator.AcceptedAsync, warnings: []string{"BODY_SIGN_ABSENT"}},
		{name: "000004 for getLicenseAsync", call: Call{Protocol: v2, Activity: "getLicenseAsync"}, answer: answer(v2, `{"resultCode":"000004","resultMsg":"async"}`),
			verdict: simulator.AcceptedAsync, warnings: []string{"BODY_SIGN_ABSENT"}},
		{name: "000004 elsewhere fails", call: Call{Protocol: v2, Activity: "refreshInstance"}, answer: answer(v2, `{"resultCode":"000004"}`), verdict: simulator.ResultCode},
		{name: "000004 for V1 newInstance fails", call: Call{Protocol: v1, Activity: "newInstance"}, answer: answer(v1, `{"resultCode":"000004","instanceId":"i"}`), verdict: simulator.ResultCode},
		{name: "changeInstanceCheck refused", call: Call{Protocol: v2, Activity: "changeInstanceCheck"}, answer: answer(v2, `{"resultCode":"000005","resultMsg":"below usage"}`), verdict: simulator.Refused, warnings: []string{"BODY_SIGN_ABSENT"}},
		{name: "V2 newInstance without instanceId", call: Call{Protocol: v2, Activity: "newInstance"}, answer: answer(v2, `{"resultCode":"000000"}`),
			verdict: simulator.MissingField, message: "接口响应缺少instanceId."},
		{name: "V2 async newInstance without instanceId", call: Call{Protocol: v2, Activity: "newInstance"}, answer: answer(v2, `{"resultCode":"000004"}`), verdict: simulator.MissingField},
		{name: "V1 newInstance without frontEndUrl", call: Call{Protocol: v1, Activity: "newInstance"}, answer: answer(v1, `{"resultCode":"000000","instanceId":"i","appInfo":{}}`),
			verdict: simulator.MissingField, message: "缺少appInfo.frontEndUrl"},
		{name: "queryInstance info without instanceId", call: Call{Protocol: v2, Activity: "queryInstance"}, answer: answer(v2, `{"resultCode":"000000","info":[{"appInfo":{}}]}`),
			verdict: simulator.MissingField, message: "info[].instanceId"},
		{name: "usageInfo without statisticalTime", call: Call{Protocol: v2, Activity: "queryInstance"},
			answer: answer(v2, `{"resultCode":"000000","info":[{"instanceId":"i","usageInfo":[{"usageValue":"1"}]}]}`), verdict: simulator.MissingField, message: "statisticalTime"},
		{name: "V1 queryInstance: the first entry's gap is named first", call: Call{Protocol: v1, Activity: "queryInstance"},
			answer:  answer(v1, `{"resultCode":"000000","info":[{"instanceId":"i","usageInfo":[{"statisticalTime":"1"}]},{"appInfo":{}}]}`),
			verdict: simulator.MissingField, message: "接口响应缺少info[].usageInfo[].usageValue."},
		{name: "V1 newInstance answered 000004", call: Call{Protocol: v1, Activity: "newInstance"}, answer: answer(v1, `{"resultCode":"000004","instanceId":"i"}`),
			verdict: simulator.ResultCode},
		{name: "instanceId of 65 characters", call: Call{Protocol: v2, Activity: "newInstance"}, answer: answer(v2, `{"resultCode":"000000","instanceId":"`+strings.Repeat("i", 65)+`"}`),
			verdict: simulator.FieldLength, message: "字段instanceId长度不合法", detail: "65 characters, at most 64"},
		{name: "64 Chinese characters fit instanceId", call: Call{Protocol: v2, Activity: "newInstance"}, answer: answer(v2, `{"resultCode":"000000","resultMsg":"ok","instanceId":"`+strings.Repeat("实", 64)+`"}`),
			verdict: simulator.Success, warnings: []string{"BODY_SIGN_ABSENT", "NON_ASCII: instanceId"}},
		{name: "nested password too long", call: Call{Protocol: v2, Activity: "queryInstance"},
			answer:  answer(v2, `{"resultCode":"000000","info":[{"instanceId":"i"},{"instanceId":"j","appInfo":{"frontEndUrl":"u","password":"`+strings.Repeat("p", 129)+`"}}]}`),
			verdict: simulator.FieldLength, message: "字段password长度不合法"},
		{name: "slow, no resultMsg, raw Chinese memo", call: Call{Protocol: v1, Activity: "newInstance"},
			answer:  answer(v1, `{"resultCode":"000000","instanceId":"i","appInfo":{"frontEndUrl":"u","memo":"欢迎"}}`, func(a *Answer) { a.Elapsed = 6 * time.Second }),
			verdict: simulator.Success, warnings: []string{"SLOW_RESPONSE", "RESULT_MSG_MISSING", "NON_ASCII_MEMO: appInfo.memo"}},
		{name: "escaped Chinese memo is fine", call: Call{Protocol: v1, Activity: "newInstance"}, answer: answer(v1, `{"resultCode":"000000","resultMsg":"ok","instanceId":"i","appInfo":{"frontEndUrl":"u","memo":"\u6b22\u8fce"}}`),
			verdict: simulator.Success},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.call.AccessKey = key
			j := Judge(tt.call, tt.answer)
			if j.Verdict != tt.verdict {
				t.Fatalf("verdict %s (%s), want %s", j.Verdict, j.Detail, tt.verdict)
			}
			if !strings.Contains(j.Message, tt.message) || !strings.Contains(j.Detail, tt.detail) {
				t.Errorf("message %q, detail %q; want them to contain %q, %q", j.Message, j.Detail, tt.message, tt.detail)
			}
			if j.Verdict.Failed() && j.Message == "" {
				t.Error("a failure without the debugger message")
			}
			if j.Verdict.Failed() && tt.warnings == nil {
				return // a failure's warnings are not the point of its case
			}
			if len(j.Warnings) != len(tt.warnings) {
				t.Fatalf("warnings %q, want %q", j.Warnings, tt.warnings)
			}
			for i, w := range tt.warnings {
				if !strings.HasPrefix(j.Warnings[i], w) {
					t.Errorf("warning %d = %q, want prefix %q", i, j.Warnings[i], w)
				}
			}
		})
	}
}

// Transport errors as a real HTTP client reports them on loopback.
func TestJudgeTransportErrors(t *testing.T) {
	call := Call{Protocol: simulator.V2, Activity: "newInstance", AccessKey: key}

	// Nothing listens on a port that was just closed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = http.Post("http://"+addr+"/produce", "application/json", nil)
	if j := Judge(call, Answer{Err: err}); j.Verdict != simulator.Unreachable || j.Message != "调测失败,生产地址不可达." {
		t.Errorf("refused connection: %s %q", j.Verdict, j.Message)
	}

	// A merchant that never answers, against a client deadline.
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, nil)
	_, err = http.DefaultClient.Do(req)
	if j := Judge(call, Answer{Err: err}); j.Verdict != simulator.Timeout || j.Message != "调测失败,调用接口超时20s." {
		t.Errorf("silent merchant: %s %q (%v)", j.Verdict, j.Message, err)
	}
	client := &http.Client{Timeout: 20 * time.Millisecond}
	_, err = client.Post(srv.URL, "application/json", nil)
	if j := Judge(call, Answer{Err: err}); j.Verdict != simulator.Timeout {
		t.Errorf("client timeout: %s (%v)", j.Verdict, err)
	}

	// The message names the limit the sender was given (kgsim serve
	// --timeout), not always the marketplace's 20 s.
	a := NewSender(50*time.Millisecond).Send(context.Background(), &Request{Method: http.MethodPost, URL: srv.URL})
	if j := Judge(call, a); j.Verdict != simulator.Timeout || j.Message != "调测失败,调用接口超时0.05s." || !strings.Contains(j.Detail, "limit 50ms") {
		t.Errorf("a 50 ms limit: %s %q %q", j.Verdict, j.Message, j.Detail)
	}
}

func TestVerdictFailed(t *testing.T) {
	for v, want := range map[simulator.Verdict]bool{
		simulator.Success: false, simulator.AcceptedAsync: false, simulator.Refused: false,
		simulator.Timeout: true, simulator.ResultCode: true, simulator.BodySignMismatch: true,
	} {
		if v.Failed() != want {
			t.Errorf("%s.Failed() = %v", v, !want)
		}
	}
}

// A poll after 000004 succeeds only once the polled instance's entry has
// its frontEndUrl (callbacks.md §10.1); a poll's failures stay failures.
func TestJudgePoll(t *testing.T) {
	call := Call{Protocol: simulator.V2, Activity: "queryInstance", AccessKey: key, Polled: "i-7"}
	for _, tt := range []struct {
		name, body string
		verdict    simulator.Verdict
	}{
		{"no info", `{"resultCode":"000000","resultMsg":"ok"}`, simulator.NotReady},
		{"empty info", `{"resultCode":"000000","resultMsg":"ok","info":[]}`, simulator.NotReady},
		{"entry without appInfo", `{"resultCode":"000000","resultMsg":"ok","info":[{"instanceId":"i-7"}]}`, simulator.NotReady},
		{"empty frontEndUrl", `{"resultCode":"000000","resultMsg":"ok","info":[{"instanceId":"i-7","appInfo":{"frontEndUrl":""}}]}`, simulator.NotReady},
		{"another instance is ready", `{"resultCode":"000000","resultMsg":"ok","info":[{"instanceId":"i-8","appInfo":{"frontEndUrl":"https://a"}}]}`, simulator.NotReady},
		{"ready", `{"resultCode":"000000","resultMsg":"ok","info":[{"instanceId":"i-8"},{"instanceId":"i-7","appInfo":{"frontEndUrl":"https://a"}}]}`, simulator.Success},
		{"still processing", `{"resultCode":"000004","resultMsg":"wait","info":[]}`, simulator.ResultCode},
		{"entry without instanceId", `{"resultCode":"000000","resultMsg":"ok","info":[{"appInfo":{"frontEndUrl":"https://a"}}]}`, simulator.MissingField},
	} {
		t.Run(tt.name, func(t *testing.T) {
			j := Judge(call, answer(simulator.V2, tt.body))
			if j.Verdict != tt.verdict {
				t.Fatalf("verdict %s (%s), want %s", j.Verdict, j.Detail, tt.verdict)
			}
			if tt.verdict == simulator.NotReady && !strings.Contains(j.Detail, `"i-7"`) {
				t.Errorf("detail %q does not name the polled instance", j.Detail)
			}
		})
	}
	// A buyer's queryInstance (no poll) needs no access data.
	call.Polled = ""
	if j := Judge(call, answer(simulator.V2, `{"resultCode":"000000","resultMsg":"ok","info":[]}`)); j.Verdict != simulator.Success {
		t.Errorf("a buyer's query: %s", j.Verdict)
	}
}
