package server

import (
	"context"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// onEvent applies a store event to this server's caches: a token revoked
// or a tenant's cost data changed, on this replica or another (PostgreSQL
// LISTEN/NOTIFY), reaches them at once rather than after TokenCacheTTL or
// never.
func (s *Server) onEvent(ev store.Event) {
	switch ev.Kind {
	case store.EventTokenRevoked:
		if ev.ID == "" {
			s.tokens.clear()
		} else {
			s.tokens.forget(ev.ID)
		}
	case store.EventCostsChanged:
		s.costs.invalidate(crossbill.TenantID(ev.ID))
	case store.EventResync:
		s.tokens.clear()
		s.costs.invalidateAll()
	}
}

// costsChanged announces that a tenant's cost data changed: this server's
// cached answers go, and every replica's. If the announcement cannot be
// sent, this server's cache is dropped all the same.
func (s *Server) costsChanged(ctx context.Context, tenant crossbill.TenantID) {
	if err := s.store.Notify(context.WithoutCancel(ctx), store.Event{Kind: store.EventCostsChanged, ID: string(tenant)}); err != nil {
		s.log.Warn("announcing new cost data to the other replicas; their cached answers may be stale until their next ingest", "tenant", tenant, "err", err)
		s.costs.invalidate(tenant)
	}
}
