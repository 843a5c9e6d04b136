package orgshare_test

import (
	"context"

	"github.com/aws/smithy-go/middleware"
)

// stubFor answers Organizations operations for which answer returns a
// result, in an Initialize middleware; others go to moto.
func stubFor(answer func(op string, in any) any) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("orgshareStub",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if middleware.GetServiceID(ctx) == "Organizations" {
					if out := answer(middleware.GetOperationName(ctx), in.Parameters); out != nil {
						return middleware.InitializeOutput{Result: out}, middleware.Metadata{}, nil
					}
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	}
}
