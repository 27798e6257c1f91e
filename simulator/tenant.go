package simulator

import "time"

// Tenant is a buyer's enterprise as the identity provider knows it: the
// tenantSync record (kit-sync.md §4.1) whose users log in to merchants'
// apps under its identity domain (identity.md §1).
type Tenant struct {
	ID   string `json:"tenantId"`   // 32 hex in the simulator
	Code string `json:"tenantCode"` // routes end users to the tenant's domain: {simBase}/t/{code}
	Name string `json:"name"`       // the enterprise name; userinfo's projectName
	// DomainName is the tenant's identity domain with its scheme, as
	// tenantSync sends it. Empty means the default, {simBase}/t/{Code}.
	DomainName string    `json:"domainName,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// App is a merchant's application credential (seller center "应用凭证"):
// where logins come back to and how kit syncs reach and protect it.
type App struct {
	ID        string `json:"appId"`
	Name      string `json:"name,omitempty"`
	ProductID string `json:"productId,omitempty"` // the product whose purchases bind it to tenants
	// ClientID and ClientSecret, when set, are the pair every binding of
	// the app gets instead of a generated one (the admin API may fix it).
	// The secret is never logged or shown.
	ClientID     string `json:"clientId,omitempty"`
	ClientSecret string `json:"-"`
	// RedirectURIs are the registered login callbacks, compared exactly;
	// the first is where the unified login page sends the user.
	RedirectURIs []string `json:"redirectUris,omitempty"`
	CASServices  []string `json:"casServices,omitempty"` // registered CAS service URLs
	// PublicKeyPEM is the merchant's RSA public key (≥ 3072 bits, PEM
	// SubjectPublicKeyInfo) that applicationSync encrypts clientSecret
	// with (kit-sync.md §6).
	PublicKeyPEM string `json:"publicKeyPem,omitempty"`
	// KitURL is the merchant's production address the kit calls go to
	// ({KitURL}/produceAPI/v2/{call}); KitKey is the access key bound to
	// "联营SaaS同步接口", separate from the product's basic-interface key
	// (kit-sync.md §2). The key is never logged or shown.
	KitURL    string    `json:"kitUrl,omitempty"`
	KitKey    string    `json:"-"`
	CreatedAt time.Time `json:"createdAt"`
}

// Client is an app's OAuth client in one tenant: the clientId/clientSecret
// pair applicationSync hands the merchant, which the tenant's token
// endpoint then accepts (identity.md §1). It also records the purchase
// that bound the app to the tenant. One per (TenantID, AppID); ClientID is
// unique within the tenant.
type Client struct {
	TenantID string `json:"tenantId"`
	AppID    string `json:"appId"`
	ClientID string `json:"clientId"`
	// ClientSecret is the plaintext: applicationSync must encrypt it again
	// on every send, so it is stored as is and never logged or shown.
	ClientSecret string `json:"-"`
	// InstanceID and OrderID are the purchase the binding came from, sent
	// in every kit call; both empty for a seller's credential test.
	InstanceID string    `json:"instanceId"`
	OrderID    string    `json:"orderId"`
	Test       bool      `json:"testFlag"` // kit calls carry testFlag 1
	CreatedAt  time.Time `json:"createdAt"`
	RotatedAt  time.Time `json:"rotatedAt,omitzero"` // when the secret last changed
}
