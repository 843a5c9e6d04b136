package cluster

// SetBeforeCommit sets the hook run between a publish's uploads and its commit.
func (c *Cluster) SetBeforeCommit(f func()) { c.beforeCommit = f }

// CacheStats returns the object cache's bytes and objects.
func (c *Cluster) CacheStats() (int64, int) { return c.cache.stats() }
