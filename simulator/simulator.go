// Package simulator is kgsim's domain: the nouns of a fake Huawei Cloud
// KooGallery marketplace and the errors its parts report to one another.
//
// Each subpackage is one concern: protocol holds the pure signing and
// encryption rules the real marketplace applies; delivery judges (and will
// send and retry) the callbacks; identity the documents its identity
// provider answers with; cmd/kgsim wires them into the command a merchant
// runs.
package simulator
