package main

import (
	"context"
	"slices"
	"strings"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// costTenantRef is the tenant a cost command reads or loads: the ID the
// cost store files costs under (as the server and the demo do) and the
// name for messages.
type costTenantRef struct {
	ID   crossbill.TenantID
	Name string
}

// costTenant resolves --tenant for the cost and commitments commands: a
// tenant's name to its ID. Without --tenant, the one tenant with cost data,
// else (no cost data yet) the one tenant there is; none or several is an
// error naming them, since guessing would show one team another's costs.
func costTenant(ctx context.Context, app *App, name string) (costTenantRef, error) {
	const op = "costs"
	if name != "" {
		if err := store.ValidateTenantName(name); err != nil {
			return costTenantRef{}, err
		}
		s, err := app.Store(ctx)
		if err != nil {
			return costTenantRef{}, err
		}
		t, err := s.TenantByName(ctx, name)
		if err != nil {
			return costTenantRef{}, err
		}
		return costTenantRef{ID: t.ID, Name: t.Name}, nil
	}
	s, err := app.Store(ctx)
	if err != nil {
		return costTenantRef{}, err
	}
	all, err := s.Tenants(ctx)
	if err != nil {
		return costTenantRef{}, err
	}
	withData, err := tenantsWithCosts(ctx, app, all)
	if err != nil {
		return costTenantRef{}, err
	}
	names := map[crossbill.TenantID]string{}
	for _, t := range all {
		names[t.ID] = t.Name
	}
	ref := func(id crossbill.TenantID) costTenantRef {
		if n, ok := names[id]; ok {
			return costTenantRef{ID: id, Name: n}
		}
		return costTenantRef{ID: id, Name: string(id)} // costs filed under a key with no tenant record
	}
	switch {
	case len(withData) == 1:
		return ref(withData[0]), nil
	case len(withData) > 1:
		var ns []string
		for _, id := range withData {
			ns = append(ns, ref(id).Name)
		}
		slices.Sort(ns)
		return costTenantRef{}, crossbill.Errorf(crossbill.CodeInvalid, op, "several tenants have cost data (%s): give --tenant NAME", strings.Join(ns, ", "))
	case len(all) == 1:
		return ref(all[0].ID), nil
	case len(all) == 0:
		return costTenantRef{}, crossbill.Errorf(crossbill.CodeNotFound, op, "no tenant has cost data and there is no tenant: create one with `crossbill tenant create NAME`, then load costs with `crossbill cur ingest --tenant NAME --source ...`")
	}
	var ns []string
	for _, t := range all {
		ns = append(ns, t.Name)
	}
	return costTenantRef{}, crossbill.Errorf(crossbill.CodeInvalid, op, "no tenant has cost data yet; give --tenant NAME, one of %s", strings.Join(ns, ", "))
}

// tenantsWithCosts lists the tenants with cost data: in the local store,
// or with --cost-store those with a committed version in the shared one.
func tenantsWithCosts(ctx context.Context, app *App, all []store.Tenant) ([]crossbill.TenantID, error) {
	if app.CostStore == "" {
		cs, err := app.Costs(ctx)
		if err != nil {
			return nil, err
		}
		defer cs.Close()
		return cs.Tenants(ctx)
	}
	s, err := app.Store(ctx)
	if err != nil {
		return nil, err
	}
	var ids []crossbill.TenantID
	for _, t := range all {
		vs, err := s.CostVersions(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		if len(vs) > 0 {
			ids = append(ids, t.ID)
		}
	}
	return ids, nil
}
