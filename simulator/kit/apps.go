package kit

import (
	"context"
	"fmt"
	"net/url"
	"unicode/utf8"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/protocol"
)

// AddApp registers a merchant's application credential (seller center
// "应用凭证"). An empty ID gets a generated one. ClientID and ClientSecret
// are given together or not at all: given, every binding of the app gets
// that pair; absent, each binding gets its own. KitURL and KitKey are also
// given together: without them the app gets no kit syncs and is used for
// login only; with them, PublicKeyPEM is required, since applicationSync
// encrypts clientSecret with it. The kit key must differ from the basic-
// interface key of the app's product (kit-sync.md §2).
func (c *Console) AddApp(ctx context.Context, a simulator.App) (simulator.App, error) {
	if err := validateApp(&a); err != nil {
		return a, err
	}
	_, err := c.update(ctx, func(t *txn) error {
		if a.ID == "" {
			id, err := c.randomHex(12)
			if err != nil {
				return err
			}
			a.ID = "APP" + id
		}
		switch _, err := t.tx.App(ctx, a.ID); {
		case err == nil:
			return simulator.Errorf(simulator.ECONFLICT, "appId", "app %s exists already", a.ID)
		case simulator.ErrorCode(err) != simulator.ENOTFOUND:
			return err
		}
		if a.ProductID != "" {
			p, err := t.tx.Product(ctx, a.ProductID)
			if simulator.ErrorCode(err) == simulator.ENOTFOUND {
				return simulator.Errorf(simulator.EINVALID, "productId", "no product %q; add it first, or leave productId out", a.ProductID)
			}
			if err != nil {
				return err
			}
			if a.KitKey != "" && a.KitKey == p.AccessKey {
				return simulator.Errorf(simulator.EINVALID, "kitKey", "is product %s's basic-interface key; the kit key is a separate key bound to 联营SaaS同步接口 (kit-sync.md §2)", p.ID)
			}
		}
		if a.ClientID != "" {
			if others, err := t.tx.Apps(ctx, simulator.AppFilter{ClientID: a.ClientID, Limit: 1}); err != nil || len(others) > 0 {
				if err != nil {
					return err
				}
				return simulator.Errorf(simulator.ECONFLICT, "clientId", "%s is app %s's clientId; each app has its own", a.ClientID, others[0].ID)
			}
		}
		a.CreatedAt = t.now
		return t.tx.PutApp(ctx, a)
	})
	return a, err
}

// Limits of the fields the kit calls carry (kit-sync.md §4).
const (
	maxID   = 64
	maxName = 255
)

func validateApp(a *simulator.App) error {
	switch {
	case utf8.RuneCountInString(a.ID) > maxID:
		return simulator.Errorf(simulator.EINVALID, "appId", "is over %d characters", maxID)
	case utf8.RuneCountInString(a.ClientID) > maxID:
		return simulator.Errorf(simulator.EINVALID, "clientId", "is over %d characters", maxID)
	case a.ClientID != "" && a.ClientSecret == "":
		return simulator.Errorf(simulator.EINVALID, "clientSecret", "is required with clientId; give both, or neither for a pair per binding")
	case a.ClientID == "" && a.ClientSecret != "":
		return simulator.Errorf(simulator.EINVALID, "clientId", "is required with clientSecret; give both, or neither for a pair per binding")
	case a.KitURL != "" && a.KitKey == "":
		return simulator.Errorf(simulator.EINVALID, "kitKey", "is required with kitUrl: the key bound to 联营SaaS同步接口 that signs the kit syncs")
	case a.KitURL == "" && a.KitKey != "":
		return simulator.Errorf(simulator.EINVALID, "kitUrl", "is required with kitKey: the production address the kit syncs go to")
	case a.KitURL != "" && a.PublicKeyPEM == "":
		return simulator.Errorf(simulator.EINVALID, "publicKeyPem", "is required with kitUrl: applicationSync encrypts clientSecret with it (RSA, 3072 bits or more, PEM)")
	}
	if a.PublicKeyPEM != "" {
		if _, err := protocol.ParsePublicKeyPEM([]byte(a.PublicKeyPEM)); err != nil {
			return simulator.Errorf(simulator.EINVALID, "publicKeyPem", "%v", err)
		}
	}
	if a.KitURL != "" {
		if err := absoluteURL("kitUrl", a.KitURL); err != nil {
			return err
		}
	}
	for i, u := range a.RedirectURIs {
		if err := absoluteURL(fmt.Sprintf("redirectUris[%d]", i), u); err != nil {
			return err
		}
	}
	for i, u := range a.CASServices {
		if err := absoluteURL(fmt.Sprintf("casServices[%d]", i), u); err != nil {
			return err
		}
	}
	return nil
}

// absoluteURL checks a URL the simulator sends requests or users to.
func absoluteURL(field, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return simulator.Errorf(simulator.EINVALID, field, "%q is not an absolute http(s) URL without a #fragment", s)
	}
	return nil
}
