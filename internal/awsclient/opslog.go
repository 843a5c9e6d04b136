package awsclient

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// EnvRecordOps names a directory: when it is set, every process (each
// package's test binary under `make test`) appends the AWS operations its
// crossbill clients issue to a file of its own there, so that the whole
// suite's operations can be compared with the permission manifest
// (manifest.CheckUsage) after `go test ./...`.
const EnvRecordOps = "CROSSBILL_RECORD_OPS"

// Outcomes of a logged operation.
const (
	OpSent    = "sent"    // an HTTP answer came back (moto's, a proxy's or AWS's, error or not)
	OpStubbed = "stubbed" // answered in the SDK stack (emulator.Stub) or never answered
)

// Credentials a logged operation was signed with.
const (
	ViaRole = "role" // a customer role's (Factory.Config)
	ViaHub  = "hub"  // the hub's own (Factory.Hub)
	ViaTest = "test" // a configuration a test built and gave a Recorder
)

const opsLogID = "crossbillOpsLog"

// opsLog is the process's log: one file per process (the PID and program
// name in its name), so parallel test binaries never write the same file,
// and each (operation, outcome) written once.
var opsLog struct {
	mu   sync.Mutex
	dir  string // where f is; a test may point EnvRecordOps elsewhere
	seen map[string]bool
	f    *os.File
	err  error
}

// logOps makes every client built from cfg afterwards log its operations,
// signed with credentials of kind via, when EnvRecordOps is set; otherwise
// it does nothing. The first attachment wins: a test's Recorder and then a
// Factory log once, as the test's.
func logOps(cfg *aws.Config, via string) {
	dir := os.Getenv(EnvRecordOps)
	if dir == "" {
		return
	}
	// The three-index slice makes append copy: aws.Config.Copy shares the
	// APIOptions array, and another copy must not see this middleware.
	cfg.APIOptions = append(cfg.APIOptions[:len(cfg.APIOptions):len(cfg.APIOptions)], func(stack *middleware.Stack) error {
		if _, ok := stack.Initialize.Get(opsLogID); ok {
			return nil
		}
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc(opsLogID,
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				outcome := OpStubbed
				if r, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok && r != nil {
					outcome = OpSent
				}
				writeOp(dir, Call(middleware.GetServiceID(ctx), middleware.GetOperationName(ctx)), outcome, via)
				return out, md, err
			}), middleware.Before)
	})
}

func writeOp(dir, call, outcome, via string) {
	line := call + "\t" + outcome + "\t" + via + "\n"
	opsLog.mu.Lock()
	defer opsLog.mu.Unlock()
	if opsLog.dir != dir {
		if opsLog.f != nil {
			opsLog.f.Close()
		}
		opsLog.dir, opsLog.f, opsLog.err, opsLog.seen = dir, nil, nil, nil
	}
	if opsLog.seen[line] || opsLog.err != nil {
		return
	}
	if opsLog.f == nil {
		name := fmt.Sprintf("ops-%d-%s.tsv", os.Getpid(), filepath.Base(os.Args[0]))
		opsLog.f, opsLog.err = os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		opsLog.seen = map[string]bool{}
	}
	if opsLog.err == nil {
		_, opsLog.err = opsLog.f.WriteString(line)
	}
	if opsLog.err != nil {
		// The check after the suite then reports the operations as unused;
		// this line says why.
		fmt.Fprintf(os.Stderr, "crossbill: cannot log AWS operations to %s=%s: %v\n", EnvRecordOps, dir, opsLog.err)
		return
	}
	opsLog.seen[line] = true
}
