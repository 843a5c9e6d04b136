//go:build !linux || !cgo

package costs

// releaseFreedMemory does nothing where malloc_trim is not available.
func releaseFreedMemory() {}
