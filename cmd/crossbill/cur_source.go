package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/crossbill/crossbill"
)

// localExport is the export root to ingest for --source DIR: DIR itself
// when it holds metadata/, else the single export found within three
// levels under it, so that the directory given to `cur generate --out` can
// be given to `cur ingest --source` (it writes DIR/PREFIX/EXPORT). Nothing
// found leaves DIR for ingest to explain; several is bad input naming them.
func localExport(dir string) (string, error) {
	if isDir(filepath.Join(dir, "metadata")) {
		return dir, nil
	}
	var found []string
	root := filepath.Clean(dir)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil // unreadable parts are ingest's to report
		}
		if depth := strings.Count(strings.TrimPrefix(p, root), string(filepath.Separator)); depth > 3 {
			return filepath.SkipDir
		}
		if p != root && isDir(filepath.Join(p, "metadata")) {
			found = append(found, p)
			return filepath.SkipDir
		}
		return nil
	})
	switch {
	case err != nil || len(found) == 0:
		return dir, nil
	case len(found) == 1:
		return found[0], nil
	}
	return "", crossbill.Errorf(crossbill.CodeInvalid, "cur ingest", "%s holds %d exports (%s): pass one of them with --source", dir, len(found), strings.Join(found, ", "))
}

func isDir(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.IsDir()
}
