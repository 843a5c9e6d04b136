package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/optimize"
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
	// CostStore is --cost-store of the cost and commitments commands:
	// cluster mode's shared cost store, read instead of the local one.
	CostStore, CostStoreEndpoint string

	Stdout io.Writer
	Stderr io.Writer
	Logger *slog.Logger

	// createsData: the running command writes (annotated createsData),
	// so a data directory that does not exist yet is created.
	createsData bool

	// Inventory is what `optimize evaluate` reads; nil: the inventory
	// store (what `crossbill inventory sync` writes).
	Inventory optimize.Source

	store *store.Store
	aws   map[awsclient.HubOptions]*awsclient.Factory
}

// createsData annotates the commands that may create the data directory:
// the others refuse one that does not exist, which is a mistyped --data
// more often than a fresh start.
const createsData = "crossbill:creates-data"

// writes marks cmd as one that creates the data directory when needed.
func writes(cmd *cobra.Command) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[createsData] = "yes"
	return cmd
}

// checkData refuses a data directory that does not exist for a command
// that only reads, instead of creating an empty one there.
func (a *App) checkData() error {
	if a.createsData {
		return nil
	}
	if _, err := os.Stat(a.DataDir); errors.Is(err, fs.ErrNotExist) {
		return crossbill.Errorf(crossbill.CodeNotFound, "data", "no crossbill data at %s (is --data or CROSSBILL_DATA mistyped?); "+
			"only commands that write create it: tenant create, token create, cur ingest, serve, demo", a.DataDir)
	}
	return nil
}

// Costs opens the cost store in the data directory (the caller closes it).
func (a *App) Costs(ctx context.Context) (*costs.Store, error) {
	if err := a.checkData(); err != nil {
		return nil, err
	}
	return costs.Open(ctx, a.DataDir)
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
	if a.DatabaseURL() == "" {
		if err := a.checkData(); err != nil {
			return nil, err
		}
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
