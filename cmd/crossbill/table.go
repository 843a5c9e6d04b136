package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/crossbill/crossbill"
)

// newTable is every CLI table's column writer.
func newTable(w io.Writer, flags uint) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', flags)
}

// rowf writes one line of a table (or any text a command prints that holds
// names from tenants, AWS accounts, bills or vendors' documents) with every
// text argument escaped by crossbill.Printable: a name cannot send terminal
// escapes, reorder the line with bidi controls or forge a row with a tab
// or newline. The format's own tabs and newlines lay the table out.
func rowf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, format, crossbill.PrintableArgs(args)...)
}
