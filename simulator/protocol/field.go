package protocol

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
)

// EncryptType selects the AES variant of the sensitive-field encryption
// (callbacks.md §6). Its wire form is the string "1" or "2".
type EncryptType int

const (
	AES256 EncryptType = 1 // encryptType "1", the default
	AES128 EncryptType = 2 // encryptType "2"
)

// ParseEncryptType parses the wire form; an empty value is the default,
// AES-256.
func ParseEncryptType(s string) (EncryptType, error) {
	switch s {
	case "", "1":
		return AES256, nil
	case "2":
		return AES128, nil
	}
	return 0, malformed("encryptType", "%q is neither \"1\" (AES-256) nor \"2\" (AES-128)", s)
}

func (t EncryptType) String() string { return fmt.Sprint(int(t)) }

// Name is the variant's name as merchants' code spells it.
func (t EncryptType) Name() string {
	if t == AES128 {
		return "AES-128"
	}
	return "AES-256"
}

func (t EncryptType) keyLen() int {
	if t == AES128 {
		return 16
	}
	return 32
}

// Other is the other variant, the usual suspect when decryption fails.
func (t EncryptType) Other() EncryptType {
	if t == AES128 {
		return AES256
	}
	return AES128
}

// DeriveKey returns the AES key Java derives with
// KeyGenerator("AES").init(bits, SecureRandom("SHA1PRNG") seeded with
// UTF-8(accessKey)). SHA1PRNG hashes its seed into a 20-byte state, outputs
// SHA1(state) and then adds the output and 1 to the state with Java's
// signed-byte carry; that carry decides bytes 21 to 32 of an AES-256 key, so
// only the AES-256 vectors (K1-K5) prove it.
func DeriveKey(accessKey string, t EncryptType) []byte {
	state := sha1.Sum([]byte(accessKey))
	out := make([]byte, 0, 2*sha1.Size)
	for len(out) < t.keyLen() {
		block := sha1.Sum(state[:])
		out = append(out, block[:]...)
		carry := 1
		changed := false
		for i := range state {
			v := int(int8(state[i])) + int(int8(block[i])) + carry
			if state[i] != byte(v) {
				changed = true
			}
			state[i] = byte(v)
			carry = v >> 8 // arithmetic shift: -2..1
		}
		if !changed {
			state[0]++
		}
	}
	return out[:t.keyLen()]
}

// ivLen is the length of the ASCII iv prefix of an encrypted field.
const ivLen = 16

// FieldCipher encrypts and decrypts sensitive fields (iv + Base64 of
// AES-CBC-PKCS5) for one access key and variant. The key is derived once,
// when it is made: derivation costs more than a field's decryption.
type FieldCipher struct {
	Type  EncryptType
	block cipher.Block
}

// NewFieldCipher derives the key of accessKey for t.
func NewFieldCipher(accessKey string, t EncryptType) *FieldCipher {
	block, err := aes.NewCipher(DeriveKey(accessKey, t))
	if err != nil {
		panic(err) // unreachable: DeriveKey returns 16 or 32 bytes
	}
	return &FieldCipher{Type: t, block: block}
}

// NewIV returns a fresh 16-character iv drawn from [A-Za-z0-9], as the
// reference code does.
func NewIV(random io.Reader) (string, error) {
	return RandomText(random, Alphanumerics, ivLen)
}

// Alphanumerics are the characters of ivs, and of the client secrets and
// codes kgsim makes.
const Alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// RandomText returns n characters of alphabet (at most 256 of them),
// uniformly: bytes past the largest multiple of its length are dropped
// rather than folded in, which would favour the first characters.
func RandomText(random io.Reader, alphabet string, n int) (string, error) {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4)
	for len(out) < n {
		if _, err := io.ReadFull(random, buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}

func checkIV(iv string) error {
	if len(iv) != ivLen {
		return malformed("iv", "must be %d ASCII characters, got %d bytes", ivLen, len(iv))
	}
	for i := range len(iv) {
		if iv[i] >= 0x80 {
			return malformed("iv", "must be %d ASCII characters; byte %d is not ASCII", ivLen, i+1)
		}
	}
	return nil
}

// Encrypt returns iv + Base64(AES-CBC-PKCS5(UTF-8 plaintext)). iv must be
// 16 ASCII characters; it is used directly as the 16 IV bytes.
func (c *FieldCipher) Encrypt(plaintext, iv string) (string, error) {
	if err := checkIV(iv); err != nil {
		return "", err
	}
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	buf := make([]byte, len(plaintext)+pad)
	copy(buf, plaintext)
	for i := len(plaintext); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(c.block, []byte(iv)).CryptBlocks(buf, buf)
	out := make([]byte, 0, ivLen+base64.StdEncoding.EncodedLen(len(buf)))
	out = append(out, iv...)
	return string(base64.StdEncoding.AppendEncode(out, buf)), nil
}

// DecryptError reports a well-formed value that does not decrypt under
// this key and variant.
type DecryptError struct {
	Type EncryptType
}

func (e *DecryptError) Error() string {
	return fmt.Sprintf("does not decrypt with the %s key derived from this access key (PKCS5 padding check failed): wrong access key or wrong encryptType", e.Type.Name())
}

// Decrypt reverses Encrypt. Malformed input (shorter than the iv, not
// Base64, not whole AES blocks) is a *MalformedError; a value that fails
// the padding check is a *DecryptError.
func (c *FieldCipher) Decrypt(value string) (string, error) {
	if len(value) <= ivLen {
		return "", malformed("value", "is %d bytes; it must be a 16-character iv followed by Base64 ciphertext", len(value))
	}
	iv := value[:ivLen]
	if err := checkIV(iv); err != nil {
		return "", err
	}
	// Fields are short (a phone number, a password): decode and decrypt in
	// stack buffers, so the only allocation is the plaintext string.
	b64 := value[ivLen:]
	var srcStack, bufStack [256]byte
	src := append(srcStack[:0], b64...)
	buf := bufStack[:0]
	if n := base64.StdEncoding.DecodedLen(len(b64)); n > len(bufStack) {
		buf = make([]byte, 0, n)
	}
	buf, err := base64.StdEncoding.AppendDecode(buf, src)
	if err != nil {
		return "", malformed("value", "ciphertext after the 16-character iv is not standard Base64: %v", err)
	}
	n := len(buf)
	if n == 0 || n%aes.BlockSize != 0 {
		return "", malformed("value", "ciphertext is %d bytes, not a whole number of 16-byte AES blocks", n)
	}
	var prev, next [aes.BlockSize]byte
	copy(prev[:], iv)
	for i := 0; i < n; i += aes.BlockSize {
		block := buf[i : i+aes.BlockSize]
		copy(next[:], block)
		c.block.Decrypt(block, block)
		subtle.XORBytes(block, block, prev[:])
		prev = next
	}
	pad := int(buf[n-1])
	if pad == 0 || pad > aes.BlockSize {
		return "", &DecryptError{Type: c.Type}
	}
	for _, b := range buf[n-pad:] {
		if int(b) != pad {
			return "", &DecryptError{Type: c.Type}
		}
	}
	return string(buf[:n-pad]), nil
}
