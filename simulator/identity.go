package simulator

// IdentityTx reads and writes the identity provider's state: tenants, the
// merchant's apps and their per-tenant clients, users and departments,
// codes, tokens, tickets and login sessions (identity.md, kit-sync.md).
type IdentityTx interface{}
