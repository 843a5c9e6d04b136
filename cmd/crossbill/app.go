package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/store"
)

// App holds what every command shares: flags, output streams and the store,
// opened on first use so that commands that need no state never touch disk.
type App struct {
	DataDir string
	// Database is --database: a postgres:// URL for the metadata, or ""
	// for $CROSSBILL_DATABASE, else SQLite in the data directory.
	Database string
	JSON     bool
	Verbose  bool

	Stdout io.Writer
	Stderr io.Writer
	Logger *slog.Logger

	store *store.Store
	aws   map[awsclient.HubOptions]*awsclient.Factory
}

// defaultDataDir is $CROSSBILL_DATA, else crossbill/ under the user's data
// directory ($XDG_DATA_HOME or ~/.local/share).
func defaultDataDir() string {
	if d := os.Getenv("CROSSBILL_DATA"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "crossbill")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "crossbill")
	}
	return "crossbill-data"
}

// DatabaseURL is --database, else $CROSSBILL_DATABASE. The environment is
// read here rather than as the flag's default so that --help never prints
// a URL that may hold a password.
func (a *App) DatabaseURL() string {
	if a.Database != "" {
		return a.Database
	}
	return os.Getenv("CROSSBILL_DATABASE")
}

// Store opens the metadata store: PostgreSQL when a database URL is
// given, else SQLite in the data directory.
func (a *App) Store(ctx context.Context) (*store.Store, error) {
	if a.store != nil {
		return a.store, nil
	}
	s, err := store.OpenDatabase(ctx, a.DataDir, a.DatabaseURL())
	if err != nil {
		return nil, err
	}
	a.store = s
	return s, nil
}

// AWS returns the process's AWS client factory on the hub credentials that
// opts (a command's --endpoint-url, --region, --profile) select, loading
// them on first use: every use case of the process shares its cached
// sessions. The SDK logs through the app's logger, so -v shows its lines.
func (a *App) AWS(ctx context.Context, opts awsclient.HubOptions) (*awsclient.Factory, error) {
	if opts.Logger == nil {
		opts.Logger = a.Logger
	}
	if f, ok := a.aws[opts]; ok {
		return f, nil
	}
	hub, err := awsclient.HubConfig(ctx, opts)
	if err != nil {
		return nil, err
	}
	f := awsclient.MustFactory(hub)
	if a.aws == nil {
		a.aws = map[awsclient.HubOptions]*awsclient.Factory{}
	}
	a.aws[opts] = f
	return f, nil
}

// Close releases what the app opened.
func (a *App) Close() error {
	if a.store != nil {
		return a.store.Close()
	}
	return nil
}

// Print writes v as indented JSON when --json is set, else calls text.
func (a *App) Print(v any, text func(w io.Writer) error) error {
	if a.JSON {
		enc := json.NewEncoder(a.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return text(a.Stdout)
}

// Progress reports progress of a long job on stderr, so stdout stays clean
// for --json consumers.
func (a *App) Progress(format string, args ...any) {
	fmt.Fprintf(a.Stderr, format+"\n", args...)
}

// reportError prints err on stderr (as JSON with --json) and returns the
// documented exit code.
func (a *App) reportError(err error) int {
	if a.JSON {
		enc := json.NewEncoder(a.Stderr)
		enc.Encode(map[string]string{"error": err.Error(), "code": string(crossbill.ErrorCode(err))}) //nolint:errcheck // stderr
	} else {
		fmt.Fprintln(a.Stderr, "crossbill: "+err.Error())
	}
	return crossbill.ExitCode(err)
}
