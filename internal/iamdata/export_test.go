package iamdata

// ParseEmbedded parses the embedded catalog afresh, bypassing Load's memo,
// for the load-time benchmark.
func ParseEmbedded() (*Catalog, error) { return parse(catalogGz) }

// ParseCatalog parses a gzip'd catalog, for tests of malformed input.
func ParseCatalog(gz []byte) (*Catalog, error) { return parse(gz) }
