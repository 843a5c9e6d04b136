package store

import "time"

// SetDatabaseClock stands in for the database's own clock (job leases),
// for tests that move time on rather than wait.
func SetDatabaseClock(s *Store, now func() time.Time) { s.dbClock = now }
