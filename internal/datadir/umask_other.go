//go:build !unix

package datadir

import "io/fs"

// restrictUmask: no umask outside Unix; file ACLs are the system's job.
func restrictUmask() {}

func ownerOf(fs.FileInfo) (int, bool) { return 0, false }
