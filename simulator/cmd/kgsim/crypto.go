package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/protocol"
)

func cryptoCommand() *command {
	return &command{
		name:    "crypto",
		summary: "encrypt and decrypt sensitive fields and kit client secrets",
		help: `Usage: kgsim crypto OPERATION [FLAGS] [VALUE]

Sensitive fields (mobilePhone, email, appInfo.userName, appInfo.password) are
iv + Base64(AES-CBC-PKCS5(value)), the key derived from the access key with
Java's SHA1PRNG: encryptType 1 is AES-256 (the default), 2 is AES-128. Kit
client secrets are RSA-OAEP encrypted with the merchant's public key.`,
		sub: []*command{
			{name: "decrypt", summary: "decrypt a sensitive field", run: cryptoDecrypt, help: `Usage: kgsim crypto decrypt --access-key KEY [--encrypt-type 1|2] VALUE

Prints the plaintext of an encrypted field on one line. When the value does
not decrypt, says whether it decrypts with the other encryptType.

Example:
  kgsim crypto decrypt --access-key xxxxxxx 0123456789abcdef3skyNB7o5RcplcTHhYGNyA==
  admin`},
			{name: "encrypt", summary: "encrypt a sensitive field", run: cryptoEncrypt, help: `Usage: kgsim crypto encrypt --access-key KEY [--encrypt-type 1|2] [--iv IV] VALUE

Prints iv + Base64(AES-CBC-PKCS5(VALUE)). IV is 16 ASCII characters; without
--iv a random one from [A-Za-z0-9] is used, as the reference code does.

Example:
  kgsim crypto encrypt --access-key xxxxxxx --encrypt-type 2 --iv 0123456789abcdef admin
  0123456789abcdefbOZcwfvYX/ihuTM8WIqU8A==`},
			{name: "derive-key", summary: "print the AES key derived from an access key", run: cryptoDeriveKey, help: `Usage: kgsim crypto derive-key --access-key KEY [--encrypt-type 1|2]

Prints, in hex, the AES key Java's KeyGenerator derives from the access key
with SHA1PRNG: 32 bytes for encryptType 1, 16 bytes for 2. Compare it with
your implementation's key: a wrong AES-256 key whose first 20 bytes are right
means the SHA1PRNG state update is wrong (Java adds signed bytes).

Example:
  kgsim crypto derive-key --access-key xxxxxxx
  c962ef8500ad13239b5ec0eb6a5c570b3cae0fd0e5c28e793eb6aaa22d251123`},
			{name: "rsa-decrypt", summary: "decrypt an applicationSync clientSecret", run: cryptoRSADecrypt, help: `Usage: kgsim crypto rsa-decrypt --private-key FILE [--oaep-hash sha256|sha1|sha256-mgf1sha1] VALUE

Prints the plaintext of a Base64 RSA-OAEP clientSecret, decrypted with the
PEM private key in FILE (PKCS#8 or PKCS#1). When it does not decrypt, says
which OAEP hash setting does.

Example:
  kgsim crypto rsa-decrypt --private-key merchant.key 'RazI08i48Qr3h+f1...'`},
			{name: "rsa-encrypt", summary: "encrypt a clientSecret as applicationSync does", run: cryptoRSAEncrypt, help: `Usage: kgsim crypto rsa-encrypt --public-key FILE [--oaep-hash sha256|sha1|sha256-mgf1sha1] VALUE

Prints Base64(RSA-OAEP(VALUE)) with the PEM public key in FILE (at least 3072
bits, as the marketplace requires).

Example:
  kgsim crypto rsa-encrypt --public-key merchant.pub kgsim-client-secret-0001`},
			{name: "rsa-keygen", summary: "make an RSA key pair to upload to the marketplace", run: cryptoRSAKeygen, help: `Usage: kgsim crypto rsa-keygen --out PREFIX [--bits 3072]

Writes PREFIX.key (PKCS#8 private key, mode 0600) and PREFIX.pub (SPKI public
key), at least 3072 bits.

Example:
  kgsim crypto rsa-keygen --out merchant`},
		},
	}
}

// fieldFlags are the flags of the sensitive-field commands.
type fieldFlags struct {
	*flags
	key, encryptType *string
}

func newFieldFlags() *fieldFlags {
	f := newFlags()
	return &fieldFlags{
		flags:       f,
		key:         f.string("access-key", "KEY", "the merchant's access key"),
		encryptType: f.string("encrypt-type", "1|2 (1 = AES-256, the default; 2 = AES-128)", "AES variant"),
	}
}

func (f *fieldFlags) load(args []string, want int, what string) ([]string, protocol.EncryptType, error) {
	pos, err := f.parse(args, want, what)
	if err != nil {
		return nil, 0, err
	}
	if err := f.need("access-key", *f.key); err != nil {
		return nil, 0, err
	}
	t, err := protocol.ParseEncryptType(*f.encryptType)
	if err != nil {
		return nil, 0, simulator.Errorf(simulator.EINVALID, "--encrypt-type", "%q: want 1 (AES-256) or 2 (AES-128)", *f.encryptType)
	}
	return pos, t, nil
}

func cryptoDecrypt(e *env, args []string) error {
	f := newFieldFlags()
	pos, t, err := f.load(args, 1, "VALUE (iv + Base64 ciphertext)")
	if err != nil {
		return err
	}
	plain, err := protocol.NewFieldCipher(*f.key, t).Decrypt(pos[0])
	if _, ok := errors.AsType[*protocol.DecryptError](err); ok {
		msg := fmt.Sprintf("VALUE %v", err)
		if _, err2 := protocol.NewFieldCipher(*f.key, t.Other()).Decrypt(pos[0]); err2 == nil {
			msg += fmt.Sprintf("; it does decrypt with --encrypt-type %s (%s): the encryptType declared and the one used differ", t.Other(), t.Other().Name())
		}
		return errors.New(msg)
	}
	if err != nil {
		return invalid("VALUE", err)
	}
	fmt.Fprintln(e.stdout, plain)
	return nil
}

func cryptoEncrypt(e *env, args []string) error {
	f := newFieldFlags()
	iv := f.string("iv", "IV (16 ASCII characters, e.g. 0123456789abcdef)", "initialisation vector")
	pos, t, err := f.load(args, 1, "VALUE (the plaintext)")
	if err != nil {
		return err
	}
	if *iv == "" {
		if *iv, err = protocol.NewIV(e.random); err != nil {
			return err
		}
	}
	out, err := protocol.NewFieldCipher(*f.key, t).Encrypt(pos[0], *iv)
	if err != nil {
		return invalid("--iv", err)
	}
	fmt.Fprintln(e.stdout, out)
	return nil
}

func cryptoDeriveKey(e *env, args []string) error {
	f := newFieldFlags()
	_, t, err := f.load(args, 0, "")
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, hex.EncodeToString(protocol.DeriveKey(*f.key, t)))
	return nil
}

// rsaFlags are the flags of the RSA commands: a PEM key file and the OAEP
// hash setting.
type rsaFlags struct {
	*flags
	keyFlag       string
	keyPath, hash *string
}

func newRSAFlags(keyFlag, keyForm, keyUsage string) *rsaFlags {
	f := newFlags()
	return &rsaFlags{
		flags:   f,
		keyFlag: keyFlag,
		keyPath: f.string(keyFlag, keyForm, keyUsage),
		hash:    f.string("oaep-hash", "sha256|sha1|sha256-mgf1sha1", "OAEP and MGF1 digests"),
	}
}

// load parses args, which hold one VALUE, and reads the key file.
func (f *rsaFlags) load(args []string, what string) (string, protocol.OAEPHash, []byte, error) {
	pos, err := f.parse(args, 1, what)
	if err != nil {
		return "", "", nil, err
	}
	h, err := protocol.ParseOAEPHash(*f.hash)
	if err != nil {
		return "", "", nil, simulator.Errorf(simulator.EINVALID, "--oaep-hash", "%q: want sha256, sha1 or sha256-mgf1sha1", *f.hash)
	}
	if err := f.need(f.keyFlag, *f.keyPath); err != nil {
		return "", "", nil, err
	}
	pemBytes, err := os.ReadFile(*f.keyPath)
	if err != nil {
		return "", "", nil, simulator.Errorf(simulator.EINVALID, "--"+f.keyFlag, "cannot read %s: %v", *f.keyPath, errors.Unwrap(err))
	}
	return pos[0], h, pemBytes, nil
}

func cryptoRSADecrypt(e *env, args []string) error {
	f := newRSAFlags("private-key", "FILE (PEM, PKCS#8 or PKCS#1)", "the merchant's private key")
	value, h, pemBytes, err := f.load(args, "VALUE (Base64 ciphertext)")
	if err != nil {
		return err
	}
	priv, err := protocol.ParsePrivateKeyPEM(pemBytes)
	if err != nil {
		return invalid("--private-key", err)
	}
	plain, err := protocol.DecryptSecret(priv, h, value)
	if _, ok := errors.AsType[*protocol.MalformedError](err); ok {
		return invalid("VALUE", err)
	}
	if err != nil {
		return fmt.Errorf("VALUE %w", err)
	}
	fmt.Fprintln(e.stdout, plain)
	return nil
}

func cryptoRSAEncrypt(e *env, args []string) error {
	f := newRSAFlags("public-key", "FILE (PEM, SPKI or PKCS#1)", "the merchant's public key")
	value, h, pemBytes, err := f.load(args, "VALUE (the plaintext secret)")
	if err != nil {
		return err
	}
	pub, err := protocol.ParsePublicKeyPEM(pemBytes)
	if err != nil {
		return invalid("--public-key", err)
	}
	out, err := protocol.EncryptSecret(e.random, pub, h, value)
	if err != nil {
		return invalid("VALUE", err)
	}
	fmt.Fprintln(e.stdout, out)
	return nil
}

func cryptoRSAKeygen(e *env, args []string) error {
	f := newFlags()
	out := f.string("out", "PREFIX (writes PREFIX.key and PREFIX.pub)", "output file prefix")
	bitsFlag := f.string("bits", "BITS (at least 3072)", "key size")
	if _, err := f.parse(args, 0, ""); err != nil {
		return err
	}
	if err := f.need("out", *out); err != nil {
		return err
	}
	bits := 3072
	if *bitsFlag != "" {
		var err error
		if bits, err = strconv.Atoi(*bitsFlag); err != nil || bits < 3072 {
			return simulator.Errorf(simulator.EINVALID, "--bits", "%q: want a number of bits, at least 3072", *bitsFlag)
		}
	}
	priv, err := protocol.GenerateKey(e.random, bits)
	if err != nil {
		return err
	}
	privPEM, err := protocol.MarshalPrivateKeyPEM(priv)
	if err != nil {
		return err
	}
	pubPEM, err := protocol.MarshalPublicKeyPEM(&priv.PublicKey)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out+".key", privPEM, 0o600); err != nil {
		return simulator.Errorf(simulator.EINVALID, "--out", "%v", err)
	}
	if err := os.WriteFile(*out+".pub", pubPEM, 0o644); err != nil {
		return simulator.Errorf(simulator.EINVALID, "--out", "%v", err)
	}
	fmt.Fprintf(e.stdout, "wrote %s.key (private, keep it secret) and %s.pub (upload it to the marketplace)\n", *out, *out)
	return nil
}
