// Package datadir keeps crossbill's data directory private: it holds the
// token hashes, external IDs, connection metadata and every tenant's bills.
package datadir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/crossbill/crossbill"
)

// Secure makes dir (created if missing) and everything in it private to
// the user crossbill runs as: the directory and its subdirectories 0700,
// files 0600. A directory that others can read and that belongs to another
// user is refused, since crossbill cannot tighten it. It also adds 077 to
// the process's umask, so that the files SQLite, DuckDB and ingestion
// create later (WAL, SHM, Parquet copies) are born private too.
func Secure(dir string) error {
	const op = "data directory"
	restrictUmask()
	if info, err := os.Stat(dir); err == nil && !info.IsDir() {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "%s is a file, not a directory: pass a directory with --data", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		if errors.Is(err, syscall.ENOTDIR) {
			// A file where the path needs a directory: bad input, not a
			// passing fault to retry.
			return crossbill.Errorf(crossbill.CodeInvalid, op, "cannot create %s: part of the path is a file (pass a directory with --data): %w", dir, err)
		}
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "cannot create %s (check its permissions or pass another --data): %w", dir, err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "%w", err)
	}
	if !info.IsDir() {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "%s is not a directory: pass a directory with --data", dir)
	}
	if info.Mode().Perm()&0o077 != 0 {
		if owner, ok := ownerOf(info); ok && owner != os.Getuid() {
			return crossbill.Errorf(crossbill.CodeUnavailable, op,
				"%s is open to other users (mode %s) and belongs to uid %d, not to this process (uid %d): have its owner run chmod 700 on it, or pass another --data",
				dir, info.Mode().Perm(), owner, os.Getuid())
		}
	}
	// Tighten what an older crossbill, or a copy with the wrong umask, left
	// open. Entries of other users are left alone (chmod would fail).
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		switch {
		case d.IsDir():
			want = 0o700
		case !d.Type().IsRegular():
			return nil // sockets, symlinks: not ours to change
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm()&0o077 == 0 {
			return nil
		}
		if owner, ok := ownerOf(info); ok && owner != os.Getuid() {
			return nil
		}
		return os.Chmod(path, info.Mode().Perm()&want)
	})
	if err != nil {
		return crossbill.Errorf(crossbill.CodeUnavailable, op, "making %s private (fix its permissions: chmod -R go-rwx): %w", dir, err)
	}
	return nil
}
