// Package simulator is kgsim's domain: the nouns of a simulated Huawei
// Cloud KooGallery marketplace (products, customers and sellers; orders and
// instances; messages, the callbacks to merchants, with their attempts;
// failure notices and dial-test runs; tenants, apps, users and the
// identity provider's credentials; License codes and usage), the Store
// that keeps them, the errors its parts report to one another and the
// marketplace's time zone.
//
// Each subpackage is one concern, and depends on this one rather than on
// its siblings where it can: protocol holds the pure signing,
// canonicalisation and encryption rules; engine the lifecycle of orders and
// instances, writing each change with the callbacks it causes; delivery
// sends those callbacks from the store's outbox, judges the answers as the
// marketplace does and retries; dialtest replays saved debug cases twice a
// day; kit is the joint-operation console and its kit syncs; identity the
// login page, OAuth 2.0 and CAS; openapi the APIs merchants call; notice
// renders and mails failure notices; schedule the clocks and the scheduler;
// store the SQLite and PostgreSQL stores; httpapi the admin API and the
// seller console; market wires them into one marketplace; certify runs the
// certification; cmd/kgsim is the command. docs/architecture.md follows a
// purchase through them, and docs/protocol the protocol they implement.
package simulator
