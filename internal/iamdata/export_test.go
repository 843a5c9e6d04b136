package iamdata

// ParseEmbedded parses the embedded catalog afresh, bypassing Load's memo,
// for the load-time benchmark.
func ParseEmbedded() (*Catalog, error) { return parse(catalogGz) }
