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
//	                'cost_category'; a row per tag of the line item, and
//	                value NULL for the line items without that key.

// rollupVersion changes whenever the rollups' definition does: loads made
// with another version are redone by the next ingest.
const rollupVersion = "rollups-3"

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
// three parameters are tenant, source and billing period, and $LINES the
// load's line items (Store.loadLineItemsSQL). The export is
// read once, into a temporary fine-grained aggregate (per day and every
// dimension, tag set and cost category set), from which both rollups are
// built.
var rollupInsertSQL = []string{
	`DROP TABLE IF EXISTS temp.load_fine`,
	// Grouping by the maps' hashes rather than the maps halves the time;
	// two different tag sets of one day and dimensions colliding on a
	// 64-bit hash is not a practical concern.
	// The period's key (tenant, source, period) is one value: the
	// statements select it as constants rather than group by it.
	`CREATE TEMP TABLE load_fine AS
	SELECT usage_start::DATE AS day,
		account, service, region, usage_type, operation, charge_type,
		any_value(tags) AS tags, any_value(cost_categories) AS cost_categories, ` + sums + `
	FROM $LINES WHERE tenant = $1 AND source = $2 AND billing_period = $3
	GROUP BY day, account, service, region, usage_type, operation, charge_type, hash(tags), hash(cost_categories)`,
	// No ORDER BY day in these inserts: a period adds fewer rows than one
	// row group holds, so sorting bought the zone maps nothing.
	`INSERT INTO cost_daily
	SELECT ` + periodKey + `, day, account, service, region, usage_type, operation, charge_type, ` + resum + `
	FROM temp.load_fine GROUP BY day, account, service, region, usage_type, operation, charge_type`,
	// The tag and cost category rows go through a temporary table too, so
	// that the rows for the line items without a key (below) are computed
	// from them rather than by scanning cost_daily_dim, which grows with
	// every period loaded. Only the columns the rollup keeps go through
	// unnest: carrying the fine rows' maps along copied them for every entry.
	// The prefix is cut with string functions: a regular expression per
	// entry cost a tenth of the statement.
	`DROP TABLE IF EXISTS temp.load_dim`,
	`CREATE TEMP TABLE load_dim AS
	SELECT day, kind, CASE WHEN starts_with(e.key, 'user_') OR starts_with(e.key, 'user:') THEN e.key[6:] ELSE e.key END AS key, e.value AS value,
		account, service, region, charge_type, ` + resum + `
	FROM (
		SELECT ` + dimCols + `, 'tag' AS kind, unnest(map_entries(tags)) AS e FROM temp.load_fine WHERE cardinality(tags) > 0
		UNION ALL BY NAME
		SELECT ` + dimCols + `, 'cost_category' AS kind, unnest(map_entries(cost_categories)) AS e FROM temp.load_fine WHERE cardinality(cost_categories) > 0
	)
	GROUP BY ALL`,
	`INSERT INTO cost_daily_dim SELECT ` + periodKey + `, * FROM temp.load_dim`,
	// For each tag key and cost category of the period, the line items
	// without it, under value NULL, so that a group-by on a tag needs no
	// join: the day's totals per dimension minus what the key's values hold
	// (equality joins on the small rollups, where testing every fine row
	// against every key took most of a second a month). Differences are
	// rounded to 1e-10 so that they carry no floating-point dust.
	`INSERT INTO cost_daily_dim
	SELECT ` + periodKey + `, t.day, k.kind, k.key, NULL AS value,
		t.account, t.service, t.region, t.charge_type,
		round(t.unblended - coalesce(v.unblended, 0), 10), round(t.amortized - coalesce(v.amortized, 0), 10),
		round(t.net - coalesce(v.net, 0), 10), round(t.list - coalesce(v.list, 0), 10),
		round(t.usage - coalesce(v.usage, 0), 10), t.line_items - coalesce(v.line_items, 0)
	FROM (SELECT day, account, service, region, charge_type, ` + resum + `
		FROM temp.load_fine GROUP BY ALL) t
	CROSS JOIN (SELECT DISTINCT kind, key FROM temp.load_dim) k
	LEFT JOIN (SELECT day, account, service, region, charge_type, kind, key, ` + resum + `
		FROM temp.load_dim GROUP BY ALL) v
		USING (day, account, service, region, charge_type, kind, key)
	WHERE t.line_items > coalesce(v.line_items, 0)`,
	`DROP TABLE temp.load_dim`,
	`DROP TABLE temp.load_fine`,
}

// periodKey selects the period's key, substituted as literals.
const periodKey = `$1::VARCHAR AS tenant, $2::VARCHAR AS source, $3::VARCHAR AS billing_period`

// dimCols are the fine aggregate's columns a tag rollup row keeps.
const dimCols = `day, account, service, region, charge_type, unblended, amortized, net, list, usage, line_items`

// resum re-aggregates the fine aggregate's sums.
const resum = `sum(unblended) AS unblended, sum(amortized) AS amortized, sum(net) AS net,
	sum(list) AS list, sum(usage) AS usage, sum(line_items) AS line_items`
