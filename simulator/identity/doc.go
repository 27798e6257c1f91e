// Package identity is the marketplace's identity provider: unified login,
// OAuth 2.0 and CAS 3.0 as the merchant sees them (spec: identity.md).
//
// For now it holds the response documents whose exact bytes the spec and
// its vectors fix: CAS ticket validation (XML and JSON) and the OAuth token,
// error and header set. They are pure values rendered to bytes, so the HTTP
// surface only decides which document to send.
package identity
