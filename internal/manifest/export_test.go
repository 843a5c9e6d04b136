package manifest

// ValidatePermissions exposes validate to the black-box tests, so they can
// feed it deliberately broken permissions.
func ValidatePermissions(perms []Permission, known func(string) bool) []error {
	return validate(perms, known)
}
