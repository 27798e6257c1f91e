package httpapi

import (
	"github.com/kgsim/kgsim/simulator"
)

// The tenants (enterprises that bought), the merchant's apps and, for
// each tenant, its bindings, users and departments: what the login pages
// and the kit syncs work from. The pages only show; the admin API changes
// them (each change answers with the syncs it sent, which the messages
// list shows under each binding's queue).

type tenantsPage struct {
	Tenants []simulator.Tenant
	Apps    []appView
}

func (c *console) tenants(rq *request) {
	ctx := rq.ctx()
	ts, err := c.a.store.Tenants(ctx)
	if err != nil {
		c.fail(rq, err)
		return
	}
	p := tenantsPage{Tenants: ts}
	for i := range p.Tenants {
		p.Tenants[i] = c.a.viewTenant(p.Tenants[i])
	}
	apps, err := c.a.store.Apps(ctx, simulator.AppFilter{})
	if err != nil {
		c.fail(rq, err)
		return
	}
	for _, app := range apps {
		p.Apps = append(p.Apps, viewApp(app))
	}
	c.render(rq, "tenants.html", rq.t("tenants.title"), "tenants", p)
}

type tenantPage struct {
	T           simulator.Tenant
	Bindings    []bindingView
	Users       []simulator.User
	Departments []simulator.Department
}

// bindingView is an app bound to the tenant, with the queue of its kit
// syncs.
type bindingView struct {
	simulator.Client
	Queue string
}

func (c *console) tenant(rq *request) {
	ctx := rq.ctx()
	tn, err := c.a.kit.Tenant(ctx, rq.pathVar("tenant"))
	if err != nil {
		c.fail(rq, err)
		return
	}
	p := tenantPage{T: c.a.viewTenant(tn)}
	clients, err := c.a.store.Clients(ctx, simulator.ClientFilter{TenantID: tn.ID})
	if err != nil {
		c.fail(rq, err)
		return
	}
	for _, cl := range clients {
		p.Bindings = append(p.Bindings, bindingView{Client: cl, Queue: simulator.KitQueue(tn.ID, cl.AppID)})
	}
	if p.Users, err = c.a.store.Users(ctx, simulator.UserFilter{TenantID: tn.ID}); err != nil {
		c.fail(rq, err)
		return
	}
	if p.Departments, err = c.a.store.Departments(ctx, tn.ID); err != nil {
		c.fail(rq, err)
		return
	}
	c.render(rq, "tenant.html", tn.Name, "tenants", p)
}
