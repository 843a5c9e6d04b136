package manifest

// ValidatePermissions exposes validate to the black-box tests, so they can
// feed it deliberately broken permissions.
func ValidatePermissions(perms []Permission, known func(string) bool) []error {
	return validate(perms, known)
}

// CheckUsageWith is CheckUsage over given permissions and pending list.
func CheckUsageWith(perms []Permission, pending []PendingAction, ex Exercised) UsageReport {
	return checkUsage(perms, pending, ex)
}

// CannotDo exposes the claim derivation, to test it on permissions the
// templates do not grant yet (the writes of pending modules).
func CannotDo(perms []Permission, mods []Module) []string { return cannotDo(perms, mods) }
