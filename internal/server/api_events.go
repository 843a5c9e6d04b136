package server

import (
	"io"
	"net/http"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/events"
	"github.com/crossbill/crossbill/internal/manifest"
)

func eventRoutes(s *Server) []route {
	return []route{
		{method: http.MethodPost, path: "/api/v1/events", role: public, handler: s.receiveEvent, tag: "events",
			summary: "A CloudTrail management event from a customer's events stack (EventBridge API destination), authenticated by the connection's events key in the " + manifest.EventsKeyHeader + " header: 202 and the connection's access or inventory sync and alert evaluation queued; 200 for a replayed event ID (ignored); 400 malformed; 401 unknown key",
			resp:    "EventReceipt", status: http.StatusAccepted},
	}
}

func eventSchemas() obj {
	return obj{
		"EventReceipt": object([]string{"id", "duplicate"}, obj{"id": str("the event's EventBridge id"), "duplicate": boolean("already received: ignored"),
			"connection_id": str(""), "account": str(""), "event_name": str("the CloudTrail eventName"), "refresh": str("access or inventory: the sync queued")}),
	}
}

// receiveEvent is the events endpoint: the key and the body go to
// events.Receive; on a new event the connection's sync and the tenant's
// alert evaluation are queued to run at once.
func (s *Server) receiveEvent(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInvalid, "events", "reading the body: %v", err)
	}
	res, err := events.Receive(r.Context(), s.store, r.Header.Get(manifest.EventsKeyHeader), body)
	if err != nil {
		return err
	}
	if res.Duplicate {
		return ok(w, r, res)
	}
	ctx, c, now := r.Context(), res.Connection, s.now()
	switch res.Refresh {
	case "access":
		if err := s.scheduleAccess(ctx, c, now); err != nil {
			return err
		}
	case "inventory":
		if err := s.scheduleInventory(ctx, c, now); err != nil {
			return err
		}
	}
	if _, err := s.store.AutomationFile(ctx, c.TenantID); err == nil {
		if err := s.scheduleAutomation(ctx, c.TenantID, now); err != nil {
			return err
		}
	} else if crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		return err
	}
	if rules, err := s.store.AlertRules(ctx, c.TenantID); err != nil {
		return err
	} else if len(rules) > 0 {
		if err := s.scheduleAlerts(ctx, c.TenantID, now); err != nil {
			return err
		}
	}
	writeJSON(w, r, http.StatusAccepted, res)
	return nil
}
