package merchanttest

import (
	"crypto/rsa"
	"errors"
	"testing"

	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/kgsim/kgsim/simulator/vectors"
	"github.com/tidwall/gjson"
)

// judgeKit checks a kit sync as kit-sync.md §2, §3, §5 and §6 ask: x-sign
// over the canonical body, a fresh x-timestamp, a nonce never seen before,
// a JSON body, and applicationSync's clientSecret decrypted with the
// merchant's private key. It sets c's Code and Err when it refuses it.
func (m *Merchant) judgeKit(c *Call) {
	nonce := c.Header.Get(protocol.KitNonceHeader)
	if err := protocol.VerifyKit(m.KitKey, c.Header.Get(protocol.KitSignHeader), c.Header.Get(protocol.KitTimestampHeader), nonce, c.Body, c.At, protocol.FreshnessWindow); err != nil {
		c.Code, c.Err = CodeAuthFailed, err
		return
	}
	m.mu.Lock()
	replayed := m.nonces[nonce]
	if m.nonces == nil {
		m.nonces = map[string]bool{}
	}
	m.nonces[nonce] = true
	m.mu.Unlock()
	if replayed {
		c.Code, c.Err = CodeAuthFailed, errors.New("x-nonce "+nonce+" was used before")
		return
	}
	params := gjson.ParseBytes(c.Body)
	if !params.IsObject() {
		c.Code, c.Err = CodeBadRequest, errors.New("the body is not a JSON object")
		return
	}
	if c.Activity != string(activity.ApplicationSync) {
		return
	}
	hash := m.OAEPHash
	if hash == "" {
		hash = protocol.OAEPSHA256
	}
	secret, err := protocol.DecryptSecret(m.Private, hash, params.Get("clientSecret").String())
	if err != nil {
		c.Code, c.Err = CodeSecretUndecryptable, err
		return
	}
	c.Secret = secret
}

// Key returns the private key of the spec's vector R1: a merchant's
// 3072-bit key ready at once, whose public half the test's apps upload.
func Key(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	pem := vectors.Of(tb, "identity.json", "rsa-oaep-decrypt")[0].Get("inputs.privateKeyPkcs8Pem").String()
	k, err := protocol.ParsePrivateKeyPEM([]byte(pem))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}
