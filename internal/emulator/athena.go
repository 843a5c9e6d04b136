package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// AthenaResult is one query's answer as moto hands it out: the column
// names and types, and the rows as GetQueryResults spells them (every
// value a string; a SELECT's first row is its column names).
type AthenaResult struct {
	Columns [][2]string // name, type
	Rows    [][]string
}

// QueueAthenaResults queues query answers in moto's Athena for account in
// region: moto executes no SQL, it hands the queued results out, one per
// query execution started there, in order
// (POST /moto-api/static/athena/query-results). Queued for a customer
// account, they reach only queries started with that account's
// credentials (an assumed role there).
func (s *Server) QueueAthenaResults(ctx context.Context, account, region string, results ...AthenaResult) error {
	var rs []any
	for _, r := range results {
		var cols, rows []any
		for _, c := range r.Columns {
			cols = append(cols, map[string]string{"Name": c[0], "Type": c[1]})
		}
		for _, row := range r.Rows {
			var data []any
			for _, v := range row {
				data = append(data, map[string]string{"VarCharValue": v})
			}
			rows = append(rows, map[string]any{"Data": data})
		}
		rs = append(rs, map[string]any{"column_info": cols, "rows": rows})
	}
	body, err := json.Marshal(map[string]any{"account_id": account, "region": region, "results": rs})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/moto-api/static/athena/query-results", bytes.NewReader(body))
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
		return fmt.Errorf("moto: queueing Athena results: %s", resp.Status)
	}
	return nil
}
