package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// parquetMagic opens and ends every Parquet file; the 4 bytes before the
// closing one are the footer's length.
const parquetMagic = "PAR1"

// checkParquet says, in the customer's terms, why a downloaded data file
// cannot be a Parquet file (empty, truncated, something else such as an
// HTML error page), before DuckDB reads it and answers with its own SQL
// and the staging path. nil when the framing is sound.
func checkParquet(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	if size == 0 {
		return errors.New("the file is empty (0 bytes)")
	}
	head := make([]byte, min(size, 4))
	if _, err := io.ReadFull(f, head); err != nil {
		return err
	}
	if string(head) != parquetMagic {
		return fmt.Errorf("not a Parquet file: it starts with %s, not %s", strconv.Quote(string(head)), parquetMagic)
	}
	if size < 12 {
		return fmt.Errorf("the file is truncated: %d bytes, too few for a Parquet file", size)
	}
	tail := make([]byte, 8)
	if _, err := f.ReadAt(tail, size-8); err != nil {
		return err
	}
	if string(tail[4:]) != parquetMagic {
		return fmt.Errorf("the file is truncated: its %d bytes do not end with the Parquet footer (an interrupted upload or copy?)", size)
	}
	if n := int64(binary.LittleEndian.Uint32(tail[:4])); n > size-12 {
		return fmt.Errorf("the file is truncated or damaged: its footer claims %d bytes of a %d-byte file", n, size)
	}
	return nil
}

// duckdbClass is the error class DuckDB puts first ("Invalid Input Error: ").
var duckdbClass = regexp.MustCompile(`^[A-Za-z ]*Error: `)

// parquetReason is DuckDB's complaint about the staged file path in one
// line: without the SQL it quotes (from "LINE 1:" on), its error class, or
// the staging path.
func parquetReason(err error, path string) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			break
		}
		err = u
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	msg = strings.TrimSpace(duckdbClass.ReplaceAllString(msg, ""))
	msg = strings.ReplaceAll(msg, "'"+path+"'", "the file")
	return strings.ReplaceAll(msg, path, "the file")
}
