//go:build linux && cgo

package costs

/*
#include <malloc.h>
*/
import "C"

// releaseFreedMemory hands the memory DuckDB freed back to the system.
func releaseFreedMemory() { C.malloc_trim(0) }
