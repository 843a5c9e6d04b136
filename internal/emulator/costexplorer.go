package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// QueueCostAndUsage queues GetCostAndUsage answers for account in moto:
// moto's Cost Explorer tracks no cost, it only hands out queued results
// (POST /moto-api/static/ce/cost-and-usage-results). Each request with a
// body not seen before takes the next result; a repeated body gets the
// same result again. The queue is per account, so results queued for a
// customer account reach only callers holding that account's credentials
// (an assumed role there), never the hub's own.
func (s *Server) QueueCostAndUsage(ctx context.Context, account string, results ...any) error {
	body, err := json.Marshal(map[string]any{"account_id": account, "results": results})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/moto-api/static/ce/cost-and-usage-results", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("moto: queueing Cost Explorer results: %s", resp.Status)
	}
	return nil
}
