package costs

// Rollups are pre-aggregated copies of line_items, rebuilt for a billing
// period in the same transaction that loads it, so they are never stale.
// Queries read them whenever the asked dimensions are all in a rollup:
// a month of 10 million hourly line items folds into a few thousand rows.
//
//	cost_daily      per (tenant, source, period, day, account, service,
//	                region, usage type, operation, charge type)
//	cost_daily_dim  per (tenant, source, period, day, kind, key, value,
//	                account, service, region, charge type), kind being 'tag'
//	                (resource tags; the CUR 2.0 'user_' prefix is removed) or
//	                'cost_category'; a row per tag of the line item.

var rollupTablesSQL = []string{
	`CREATE TABLE IF NOT EXISTS cost_daily (
		tenant VARCHAR NOT NULL, source VARCHAR NOT NULL, billing_period VARCHAR NOT NULL, day DATE NOT NULL,
		account VARCHAR, service VARCHAR, region VARCHAR, usage_type VARCHAR, operation VARCHAR, charge_type VARCHAR,
		unblended DOUBLE, amortized DOUBLE, net DOUBLE, list DOUBLE, usage DOUBLE, line_items BIGINT)`,
	`CREATE TABLE IF NOT EXISTS cost_daily_dim (
		tenant VARCHAR NOT NULL, source VARCHAR NOT NULL, billing_period VARCHAR NOT NULL, day DATE NOT NULL,
		kind VARCHAR NOT NULL, key VARCHAR NOT NULL, value VARCHAR,
		account VARCHAR, service VARCHAR, region VARCHAR, charge_type VARCHAR,
		unblended DOUBLE, amortized DOUBLE, net DOUBLE, list DOUBLE, usage DOUBLE, line_items BIGINT)`,
}

// sums is the metric aggregation shared by the rollups.
const sums = `sum(unblended) AS unblended, sum(amortized) AS amortized, sum(net) AS net,
	sum(list) AS list, sum(usage) AS usage, count(*) AS line_items`

// rollupInsertSQL rebuilds the rollups of one (tenant, source, period); the
// three parameters are tenant, source and billing period.
var rollupInsertSQL = []string{
	`INSERT INTO cost_daily
	SELECT tenant, source, billing_period, usage_start::DATE AS day,
		account, service, region, usage_type, operation, charge_type, ` + sums + `
	FROM line_items WHERE tenant = $1 AND source = $2 AND billing_period = $3
	GROUP BY ALL ORDER BY day`,
	`INSERT INTO cost_daily_dim
	SELECT tenant, source, billing_period, day, kind,
		regexp_replace(e.key, '^user[_:]', '') AS key, e.value AS value,
		account, service, region, charge_type, ` + sums + `
	FROM (
		SELECT tenant, source, billing_period, usage_start::DATE AS day, 'tag' AS kind, unnest(map_entries(tags)) AS e,
			account, service, region, charge_type, unblended, amortized, net, list, usage
		FROM line_items WHERE tenant = $1 AND source = $2 AND billing_period = $3 AND cardinality(tags) > 0
		UNION ALL
		SELECT tenant, source, billing_period, usage_start::DATE AS day, 'cost_category' AS kind, unnest(map_entries(cost_categories)) AS e,
			account, service, region, charge_type, unblended, amortized, net, list, usage
		FROM line_items WHERE tenant = $1 AND source = $2 AND billing_period = $3 AND cardinality(cost_categories) > 0
	)
	GROUP BY ALL ORDER BY day`,
}
