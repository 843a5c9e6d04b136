package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
)

func isUsageError(err error) bool {
	msg := err.Error()
	for _, s := range []string{"unknown command", "accepts ", "requires at least", "unknown flag", "unknown shorthand", "required flag"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// exactArgs is cobra.ExactArgs with an Invalid-coded error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return &crossbill.Error{Code: crossbill.CodeInvalid, Op: cmd.CommandPath(), Message: err.Error() + "; see --help"}
		}
		return nil
	}
}

// minArgs is cobra.MinimumNArgs with an Invalid-coded error.
func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.MinimumNArgs(n)(cmd, args); err != nil {
			return &crossbill.Error{Code: crossbill.CodeInvalid, Op: cmd.CommandPath(), Message: err.Error() + "; see --help"}
		}
		return nil
	}
}
