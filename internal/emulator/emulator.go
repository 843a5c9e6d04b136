// Package emulator starts moto_server, a real AWS emulator, for crossbill's
// tests and for the demo, through crossbill's own launcher (launcher.py),
// which corrects trust-policy gaps of moto 5.2.1 and answers BCM Data
// Exports, which moto does not serve, with a minimal stand-in.
package emulator

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

//go:embed launcher.py
var launcher []byte

// DefaultAccount is the account moto uses for plain access keys.
const DefaultAccount = "123456789012"

// Options configures a server.
type Options struct {
	// NoAuthActions, when > 0, makes moto enforce IAM after that many calls
	// (INITIAL_NO_AUTH_ACTION_COUNT). 0 leaves IAM unenforced.
	NoAuthActions int
	// LoadManagedPolicies loads AWS managed policies into IAM.
	LoadManagedPolicies bool
	// IsolateS3Accounts refuses access to another account's bucket
	// (moto allows it by default), so that a test can tell whose
	// credentials read a bucket without enforcing IAM.
	IsolateS3Accounts bool
	// Python is the interpreter that has moto installed; default
	// $CROSSBILL_PYTHON, else python3.
	Python string
}

// Server is a running moto_server.
type Server struct {
	URL  string
	cmd  *exec.Cmd
	dir  string
	done chan struct{}
	once sync.Once
}

// ErrMissing reports that moto is not installed.
var ErrMissing = errors.New("moto_server is not installed: run `make setup` (pip install 'moto[server]==5.2.1')")

// Start launches moto_server on a free loopback port and waits until it answers.
func Start(ctx context.Context, opts Options) (*Server, error) {
	py := opts.Python
	if py == "" {
		py = os.Getenv("CROSSBILL_PYTHON")
	}
	if py == "" {
		py = "python3"
	}
	if out, err := exec.CommandContext(ctx, py, "-c", "import moto.server").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%w (%s: %s)", ErrMissing, py, strings.TrimSpace(string(out)))
	}
	dir, err := os.MkdirTemp("", "crossbill-moto-*")
	if err != nil {
		return nil, err
	}
	script := filepath.Join(dir, "launcher.py")
	if err := os.WriteFile(script, launcher, 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(py, script, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Env = append(emulatorEnv(os.Environ()),
		"MOTO_IAM_LOAD_MANAGED_POLICIES="+strconv.FormatBool(opts.LoadManagedPolicies),
		"AWS_DEFAULT_REGION=us-east-1",
	)
	if opts.IsolateS3Accounts {
		cmd.Env = append(cmd.Env, "MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS=false")
	}
	if opts.NoAuthActions > 0 {
		cmd.Env = append(cmd.Env, "INITIAL_NO_AUTH_ACTION_COUNT="+strconv.Itoa(opts.NoAuthActions))
	}
	logFile, err := os.Create(filepath.Join(dir, "moto.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting moto_server: %w", err)
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, dir: dir, done: make(chan struct{})}
	go func() { cmd.Wait(); logFile.Close(); close(s.done) }() //nolint:errcheck // exit status is read from the log
	if err := s.waitReady(ctx, 60*time.Second); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("moto_server exited early: %s", s.Log())
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := client.Get(s.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("moto_server did not answer within %s: %s", limit, s.Log())
}

// Log returns the tail of the server's output, for failure messages.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "moto.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Close stops the server and removes its files.
func (s *Server) Close() {
	s.once.Do(func() {
		if s.cmd.Process != nil {
			s.cmd.Process.Kill() //nolint:errcheck // already exited is fine
			<-s.done
		}
		os.RemoveAll(s.dir)
	})
}

// Reset wipes all emulated state.
func (s *Server) Reset(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/moto-api/reset", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("moto reset: %s", resp.Status)
	}
	return nil
}

// Config returns an aws.Config pointed at the server with static
// credentials. moto maps access keys it did not issue to DefaultAccount.
func (s *Server) Config(ctx context.Context, accessKey, secretKey, sessionToken string) (aws.Config, error) {
	return awsconfig.LoadDefaultConfig(ctx,
		awsconfig.WithRegion("us-east-1"),
		awsconfig.WithBaseEndpoint(s.URL),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(accessKey, secretKey, sessionToken)),
		// The shared config files of the developer's machine must not leak in.
		awsconfig.WithSharedConfigFiles([]string{}),
		awsconfig.WithSharedCredentialsFiles([]string{}),
	)
}

// RootConfig is Config with moto's default test credentials.
func (s *Server) RootConfig(ctx context.Context) (aws.Config, error) {
	return s.Config(ctx, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "")
}

// emulatorEnv is env without the user's AWS profile settings: moto's
// botocore reads them, and a profile it cannot find (AWS_PROFILE set to a
// name the config lacks, or to "") makes every CloudFormation call fail.
func emulatorEnv(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE":
			return true
		}
		return false
	})
}
