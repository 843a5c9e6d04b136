//go:build unix

package datadir

import (
	"io/fs"
	"sync"
	"syscall"
)

var umaskOnce sync.Once

func restrictUmask() {
	umaskOnce.Do(func() {
		old := syscall.Umask(0o077)
		syscall.Umask(old | 0o077)
	})
}

func ownerOf(info fs.FileInfo) (int, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
