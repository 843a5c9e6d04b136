package costs

// SetStageHook lets tests run code (e.g. wait to be killed) at each stage
// of a load, inside its transaction.
func SetStageHook(s *Store, f func(stage string)) { s.stage = f }
