// Package identity is the marketplace's identity provider: the unified
// login page, OAuth 2.0 and CAS 3.0 as the merchant sees them (spec:
// identity.md). New builds it on the store's identity records; Register
// mounts its routes.
//
// The response documents whose bytes the spec and its vectors fix (CAS
// validation in XML and JSON, the token answer, the OAuth errors, userinfo)
// are pure values rendered to bytes, so the handlers only decide which
// document to send.
//
// Codes, tokens, tickets and session ids are stored as SHA-256 digests:
// whoever reads the database cannot use them. Every secret presented is
// compared in constant time: client secrets (through their SHA-256, so
// that lengths do not show), passwords (PBKDF2, and an unknown user name
// costs a hash too), login forms' tokens and signed flows (hmac.Equal).
// Failed passwords are throttled (throttle.go). The login page's HTML,
// style and script are embedded from simulator/web.
//
// What the spec leaves configurable (settings.go) is the marketplace's
// (Config.Defaults, kgsim serve's flags) unless a tenant overrides it; the
// overrides are stored and kept in memory once read, so the token
// endpoint reads no more than before. Faults (faults.go) make a tenant's
// token endpoint, userinfo or CAS validation fail or answer slowly on
// demand, for a merchant's tests of its error paths.
package identity
