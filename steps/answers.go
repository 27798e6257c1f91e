package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/tidwall/gjson"
)

// How the merchant writes its answers: checks over every answer of a
// scenario (time, format, Body-Sign, warnings) and over the encrypted
// access data (callbacks.md §3.4, §4.6, §6, §8).

// everyAnswer applies a check to every answer of the scenario: the
// marketplace's attempts and the crafted calls.
func (w *world) everyAnswer(ctx context.Context, check func(c *call) error) error {
	calls, err := w.attempts(ctx)
	if err != nil {
		return err
	}
	if len(calls) == 0 {
		return fmt.Errorf("the scenario made no call to check")
	}
	for i := range calls {
		if err := check(&calls[i]); err != nil {
			return err
		}
	}
	return nil
}

func elapsed(c *call) time.Duration { return c.attempt.FinishedAt.Sub(c.attempt.StartedAt) }

func (w *world) withinLimit(ctx context.Context) error {
	return w.everyAnswer(ctx, func(c *call) error {
		if c.attempt.Verdict != simulator.Timeout && elapsed(c) <= w.target.Timeout {
			return nil
		}
		return w.fail(c, "callbacks.md §8 (TIMEOUT), §15 Q5", hint(simulator.Timeout), "the %s answer took longer than the marketplace's limit of %s", c.activity, w.target.Timeout)
	})
}

func (w *world) withinRecommended(ctx context.Context) error {
	return w.everyAnswer(ctx, func(c *call) error {
		if d := elapsed(c); d > w.target.SlowAfter {
			return w.fail(c, "callbacks.md §8 notes, §15 Q5", "rule: an answer within 5 s (recommended; the V2 requirements page, §8 notes): do slow work in the background",
				"the %s answer took %s, more than the recommended %s", c.activity, d.Round(time.Millisecond), w.target.SlowAfter)
		}
		return nil
	})
}

// wellFormed checks every answer is HTTP 200, declared application/json
// and a JSON object with a string resultCode (callbacks.md §8 rows 3, 5, 6).
func (w *world) wellFormed(ctx context.Context) error {
	return w.everyAnswer(ctx, func(c *call) error {
		a := c.attempt
		if a.Error != "" || a.Status != 200 {
			return w.fail(c, "callbacks.md §8", hint(simulator.HTTPStatus), "the %s call was not answered with HTTP 200", c.activity)
		}
		ct := a.ResponseHeader.Get("Content-Type")
		if media, _, err := mime.ParseMediaType(ct); err != nil || media != "application/json" {
			return w.fail(c, "callbacks.md §8 (CONTENT_TYPE)", hint(simulator.ContentType), "the %s answer's Content-Type is %q, not application/json", c.activity, ct)
		}
		body := gjson.ParseBytes(a.ResponseBody)
		if !gjson.ValidBytes(a.ResponseBody) || !body.IsObject() || body.Get("resultCode").Type != gjson.String {
			return w.fail(c, "callbacks.md §8 (BODY_PARSE)", hint(simulator.BodyParse), "the %s answer is not a JSON object with a string resultCode", c.activity)
		}
		return nil
	})
}

func (w *world) everyBodySigned(ctx context.Context) error   { return w.bodySigned(ctx, false) }
func (w *world) presentBodySigned(ctx context.Context) error { return w.bodySigned(ctx, true) }

// bodySigned checks every answer's Body-Sign covers the exact bytes
// sent; with onlyPresent, only the answers that carry one (V2).
func (w *world) bodySigned(ctx context.Context, onlyPresent bool) error {
	return w.everyAnswer(ctx, func(c *call) error {
		a := c.attempt
		if a.Error != "" {
			return nil
		}
		header := a.ResponseHeader.Get(protocol.BodySignHeaderName)
		if header == "" && onlyPresent {
			return nil
		}
		err := protocol.VerifyBodySign(w.target.AccessKey, header, a.ResponseBody)
		if err == nil {
			return nil
		}
		fix := hint(simulator.BodySignMissing)
		if header != "" {
			fix = w.hintFor(&call{attempt: simulator.Attempt{Verdict: simulator.BodySignMismatch, ResponseHeader: a.ResponseHeader, ResponseBody: a.ResponseBody}})
		}
		return w.fail(c, "callbacks.md §3.4, §4.6, §8 (BODY_SIGN)", fix, "the %s answer's Body-Sign does not cover its body: %v", c.activity, err)
	})
}

// reserialised says how the body would have to be changed for the
// Body-Sign to match: the common bug of signing an object rather than the
// bytes written (callbacks.md §13).
func reserialised(key, header string, body []byte) string {
	var compact bytes.Buffer
	variants := []struct {
		how  string
		body []byte
	}{{"with its surrounding whitespace trimmed", bytes.TrimSpace(body)}}
	if json.Compact(&compact, body) == nil {
		variants = append(variants, struct {
			how  string
			body []byte
		}{"re-serialised compactly", compact.Bytes()})
	}
	for _, v := range variants {
		if !bytes.Equal(v.body, body) && protocol.VerifyBodySign(key, header, v.body) == nil {
			return v.how
		}
	}
	return ""
}

func (w *world) carryBodySign(ctx context.Context) error {
	return w.everyAnswer(ctx, func(c *call) error {
		if c.attempt.Error != "" || c.attempt.ResponseHeader.Get(protocol.BodySignHeaderName) != "" {
			return nil
		}
		return w.fail(c, "callbacks.md §4.6, §15 Q7", `rule: V2 answers carry Body-Sign as V1's must (recommended: one V2 page requires it, §4.6): add the header Body-Sign: sign_type="HMAC-SHA256", signature="<Base64 of HMAC-SHA256 over the body bytes, keyed with the access key>"`, "the %s answer carries no Body-Sign", c.activity)
	})
}

// noWarning checks no answer drew a judge's warning with this prefix.
func (w *world) noWarning(ctx context.Context, prefix, spec, fix string) error {
	return w.everyAnswer(ctx, func(c *call) error {
		for _, warning := range c.attempt.Warnings {
			if strings.HasPrefix(warning, prefix) {
				return w.fail(c, spec, fix, "the %s answer drew a warning: %s", c.activity, warning)
			}
		}
		return nil
	})
}

func (w *world) carryResultMsg(ctx context.Context) error {
	return w.noWarning(ctx, "RESULT_MSG_MISSING", "callbacks.md §8 notes, §15 Q16", `rule: every answer carries a resultMsg (§8 notes, §15 Q16): add "resultMsg" to every answer, e.g. "success"`)
}

func (w *world) asciiOutsideMemo(ctx context.Context) error {
	return w.noWarning(ctx, "NON_ASCII", "callbacks.md §5.1", `rule: no Chinese outside memo, and memo's as \uXXXX escapes (§5.1): write only ASCII outside appInfo.memo`)
}

// decrypts checks the encrypted account of the access data (appInfo
// userName and password) decrypts with the answer's encryptType (absent:
// "1") to non-empty UTF-8, and that the type is the one the merchant
// declares. The plaintext is never shown.
func (w *world) decrypts(ctx context.Context) error {
	c, err := w.lastCall()
	if err != nil {
		return err
	}
	body := gjson.ParseBytes(c.attempt.ResponseBody)
	app, declared := body.Get("appInfo"), body.Get("encryptType")
	if c.spec().Event == activity.Query {
		_, entry, err := w.queryEntry()
		if err != nil {
			return err
		}
		app = entry.Get("appInfo")
		if e := entry.Get("encryptType"); e.Exists() {
			declared = e
		}
	}
	used := declared.String()
	if used == "" {
		used = "1"
	}
	if w.target.EncryptType != "" && w.target.EncryptType != used {
		return w.fail(c, "callbacks.md §5.1, §6", `rule: the answer's encryptType names the variant that encrypts appInfo (§5.1, §6): say "encryptType":"`+w.target.EncryptType+`" (absent means "1", AES-256)`,
			"the answer's encryptType is %s, but the merchant declares %q", orAbsent(declared), w.target.EncryptType)
	}
	t, err := protocol.ParseEncryptType(used)
	if err != nil {
		return w.fail(c, "callbacks.md §5.1, §6", `rule: encryptType is "1" (AES-256) or "2" (AES-128) (§5.1)`, "the answer's encryptType %q is not one the marketplace knows", used)
	}
	cipher := protocol.NewFieldCipher(w.target.AccessKey, t)
	for _, name := range []string{"userName", "password"} {
		v := app.Get(name)
		if !v.Exists() {
			continue
		}
		plain, err := cipher.Decrypt(v.String())
		if err == nil && plain != "" && utf8.ValidString(plain) {
			continue
		}
		why := "it decrypts to an empty or non-UTF-8 value"
		if err != nil {
			why = err.Error()
		}
		fix := "rule: appInfo.userName and password decrypt with the declared encryptType (§6): encrypt with AES-CBC-PKCS5 keyed by SHA1PRNG(access key) as iv + Base64(ciphertext), iv 16 ASCII characters"
		if other := otherType(t); other != 0 {
			if p, err := protocol.NewFieldCipher(w.target.AccessKey, other).Decrypt(v.String()); err == nil && p != "" {
				fix = fmt.Sprintf("rule: appInfo decrypts with the declared encryptType (§6): it decrypts with encryptType %d instead; say so in encryptType, or encrypt with the declared variant", other)
			}
		}
		return w.fail(c, "callbacks.md §6, §13", fix, "appInfo.%s does not decrypt with encryptType %s: %s", name, used, why)
	}
	return nil
}

func otherType(t protocol.EncryptType) protocol.EncryptType {
	if t == protocol.AES256 {
		return protocol.AES128
	}
	return protocol.AES256
}

// accessData points "the answer" at the answer carrying the instance's
// access data: V1 the purchase's, V2 queryInstance's.
func (w *world) accessData(ctx context.Context) error {
	if w.product.Protocol == simulator.V1 {
		return w.callSucceeds(ctx, "purchase")
	}
	if err := w.opensDetails(ctx); err != nil {
		return err
	}
	return w.callSucceeds(ctx, "query")
}

func (w *world) overHTTPS(context.Context) error {
	u, err := url.Parse(w.target.URL)
	if err == nil && u.Scheme == "https" {
		return nil
	}
	return w.fail(nil, "callbacks.md §4.1, §8 notes", "rule: the production interface is https (recommended here, required by the marketplace, §4.1): serve it with a certificate from a trusted CA, TLS 1.2 or later",
		"the production interface %s is not served over https", w.target.URL)
}

func (w *world) byDomainName(context.Context) error {
	u, err := url.Parse(w.target.URL)
	if err == nil && net.ParseIP(strings.Trim(u.Hostname(), "[]")) == nil && u.Hostname() != "localhost" {
		return nil
	}
	return w.fail(nil, "callbacks.md §4.1, §8 notes", "rule: the production interface is reached by a domain name (recommended here, required by the marketplace, §4.1): register it under a domain name, not an IP address",
		"the production interface %s is not reached by a domain name", w.target.URL)
}
