// Package pgtest runs a throwaway PostgreSQL server for tests: initdb into
// a temporary directory, postgres on a free localhost port, a fresh
// database per test. It uses the machine's PostgreSQL server binaries
// (Debian's postgresql package; scripts/setup.sh installs it).
package pgtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// RequireEnv, when set, turns "PostgreSQL cannot be started" from a skip
// into a failure (`make test` sets it, so CI never skips silently).
const RequireEnv = "CROSSBILL_REQUIRE_POSTGRES"

// Server is a running PostgreSQL cluster owned by the test process.
type Server struct {
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
	log  *bytes.Buffer
	seq  atomic.Int64
	// admin is a connection to the postgres database for CREATE DATABASE.
	admin *sql.DB
}

// binDir finds the directory holding initdb and postgres: PATH first, then
// Debian's /usr/lib/postgresql/VERSION/bin (not on PATH there), newest
// version first.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("initdb not found on PATH nor in /usr/lib/postgresql/*/bin: run scripts/setup.sh (apt-get install postgresql)")
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// runAs is the unprivileged account the server runs as when the tests run
// as root: initdb and postgres refuse root.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.Atoi(u.Uid)
		gid, err2 := strconv.Atoi(u.Gid)
		if err1 == nil && err2 == nil {
			return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
		}
	}
	return nil, errors.New("running as root and neither a postgres nor a nobody user exists to run PostgreSQL as")
}

// tempBase is where the cluster's directory goes: the usual temporary
// directory, unless the server's user could not reach into it (a TMPDIR
// under /root, say); then /tmp.
func tempBase(cred *syscall.Credential) string {
	if cred == nil {
		return ""
	}
	for d := os.TempDir(); ; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm()&0o001 == 0 {
			return "/tmp"
		}
		if d == filepath.Dir(d) {
			return ""
		}
	}
}

// Start initialises a cluster in a new temporary directory and starts it.
func Start(ctx context.Context) (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(tempBase(cred), "crossbill-pg-*")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, log: &bytes.Buffer{}}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			s.Close()
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		s.Close()
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	// A port taken between freePort and listen makes postgres exit: retry.
	for attempt := 0; ; attempt++ {
		err = s.start(ctx, bin, data, cred)
		if err == nil {
			return s, nil
		}
		if attempt == 2 {
			s.Close()
			return nil, err
		}
	}
}

func (s *Server) start(ctx context.Context, bin, data string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.port = port
	s.log.Reset()
	// Durability settings off: the cluster is thrown away after the run.
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+s.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200")
	cmd.Stdout, cmd.Stderr = s.log, s.log
	// Pdeathsig: the server dies with the test binary, even on a crash.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(s.done) }() //nolint:errcheck // exit seen through done
	cfg, err := pgx.ParseConfig(s.url("postgres"))
	if err != nil {
		return err
	}
	s.admin = stdlib.OpenDB(*cfg)
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("postgres exited during start-up:\n%s", s.log.String())
		default:
		}
		if err = s.admin.PingContext(ctx); err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.stop()
			return fmt.Errorf("postgres not ready after 30s: %w\n%s", err, s.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// NewDatabase creates an empty database and returns its URL.
func (s *Server) NewDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d", s.seq.Add(1))
	if _, err := s.admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		return "", fmt.Errorf("creating database %s: %w", name, err)
	}
	return s.url(name), nil
}

func (s *Server) stop() {
	if s.admin != nil {
		s.admin.Close()
		s.admin = nil
	}
	if s.cmd != nil {
		// SIGQUIT: immediate shutdown, nothing to keep.
		s.cmd.Process.Signal(syscall.SIGQUIT) //nolint:errcheck // it may be gone already
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill() //nolint:errcheck // last resort
			<-s.done
		}
		s.cmd = nil
	}
}

// Close stops the server and removes its files.
func (s *Server) Close() {
	s.stop()
	os.RemoveAll(s.dir)
}

// shared is the one server of a test package, started on first use.
var shared struct {
	sync.Mutex
	srv     *Server
	err     error
	started bool
}

// Stop stops the package's shared server, if one was started. Call it
// from TestMain after m.Run.
func Stop() {
	shared.Lock()
	defer shared.Unlock()
	if shared.srv != nil {
		shared.srv.Close()
		shared.srv = nil
	}
}

// Available starts the package's shared server if needed and reports why
// it cannot run, if so.
func Available() error {
	shared.Lock()
	defer shared.Unlock()
	if !shared.started {
		shared.started = true
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared.srv, shared.err = Start(ctx)
	}
	return shared.err
}

// Required reports whether the environment demands PostgreSQL tests.
func Required() bool { return os.Getenv(RequireEnv) != "" }

// Database returns the URL of a fresh database on the package's shared
// server. When PostgreSQL cannot start, the test is skipped with the
// reason, or fails if CROSSBILL_REQUIRE_POSTGRES is set.
func Database(tb testing.TB) string {
	tb.Helper()
	if err := Available(); err != nil {
		if Required() {
			tb.Fatalf("PostgreSQL cannot start and %s is set: %v", RequireEnv, err)
		}
		tb.Skipf("PostgreSQL cannot start (set %s=1 to fail instead): %v", RequireEnv, firstLine(err))
	}
	url, err := shared.srv.NewDatabase(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return url
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
