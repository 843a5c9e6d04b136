package awsclient

import (
	"context"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"

	"github.com/crossbill/crossbill/internal/manifest"
)

// Operation is one kind of SDK call a Recorder saw.
type Operation struct {
	Service   string `json:"service"`   // SDK service ID, e.g. "Cost Explorer"
	Operation string `json:"operation"` // e.g. "GetCostAndUsage"
	Call      string `json:"call"`      // manifest form, e.g. "ce:GetCostAndUsage"
	Count     int    `json:"count"`
}

// Recorder records every operation sent by the clients of the configurations
// it is attached to. Tests attach one to every configuration crossbill code
// uses and fail when Undeclared is not empty: the permission manifest must
// declare every call the code makes. It is safe for concurrent use.
type Recorder struct {
	mu  sync.Mutex
	ops map[[2]string]int
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{ops: map[[2]string]int{}} }

// Attach makes every client built from cfg afterwards report its operations
// to r. Clients (and credential providers) built from copies of cfg made
// after Attach report too.
func (r *Recorder) Attach(cfg *aws.Config) {
	// Tests that call crossbill code with a configuration of their own
	// (no Factory) attach a Recorder: their operations count for the
	// manifest's usage check too.
	logOps(cfg, ViaTest)
	// The three-index slice makes append copy: aws.Config.Copy shares the
	// APIOptions array, and another copy must not see this middleware.
	cfg.APIOptions = append(cfg.APIOptions[:len(cfg.APIOptions):len(cfg.APIOptions)], func(stack *middleware.Stack) error {
		// Initialize runs once per call, before retries and signing, so a
		// call is recorded even when AWS refuses it. Every client sets the
		// smithy service ID and operation name before its stack runs (the
		// aws middleware's copies are set later by some older clients).
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("crossbillRecorder",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				r.record(middleware.GetServiceID(ctx), middleware.GetOperationName(ctx))
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	})
}

func (r *Recorder) record(service, operation string) {
	r.mu.Lock()
	r.ops[[2]string{service, operation}]++
	r.mu.Unlock()
}

// Operations lists what was sent, sorted by call.
func (r *Recorder) Operations() []Operation {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Operation, 0, len(r.ops))
	for k, n := range r.ops {
		out = append(out, Operation{Service: k[0], Operation: k[1], Call: Call(k[0], k[1]), Count: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Call < out[j].Call })
	return out
}

// Count is how many times call ("sts:AssumeRole") was sent.
func (r *Recorder) Count(call string) int {
	n := 0
	for _, op := range r.Operations() {
		if op.Call == call {
			n += op.Count
		}
	}
	return n
}

// Reset forgets everything recorded.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.ops = map[[2]string]int{}
	r.mu.Unlock()
}

// Undeclared returns the calls sent that the permission manifest does not
// declare, sorted; empty means the manifest covers everything the code did.
func (r *Recorder) Undeclared() []string {
	var out []string
	ix := manifest.NewIndex()
	for _, op := range r.Operations() {
		if _, ok := ix.ActionForCall(op.Call); !ok {
			out = append(out, op.Call)
		}
	}
	return out
}
