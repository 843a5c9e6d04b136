package inventory

import "time"

// parseTime reads the ISO 8601 stamps some APIs return as strings (AMI
// creation dates, Lambda's LastModified); zero when unreadable.
func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05.000Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
