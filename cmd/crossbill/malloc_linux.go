//go:build linux && cgo

package main

// #include <malloc.h>
// static void limitArenas(void) {
// #ifdef M_ARENA_MAX
// 	mallopt(M_ARENA_MAX, 2);
// #endif
// }
import "C"

// DuckDB allocates through the C library from whichever thread runs a
// query, and glibc gives threads under contention arenas of their own (up
// to 8 per core) that keep freed memory. DuckDB runs two threads; two
// arenas are enough and keep the server's resident memory tens of MiB
// lower under many different queries (see `crossbill bench memory`).
func init() { C.limitArenas() }
