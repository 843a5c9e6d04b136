package emulator

import (
	"context"
	"reflect"

	"github.com/aws/smithy-go/middleware"
)

// Stub answers one operation the emulator cannot serve with out (a pointer
// to the operation's output struct, or nil) and err, without sending it;
// use it on aws.Config.APIOptions and say in the test why. Every call gets
// its own shallow copy of out: the SDK writes ResultMetadata into the
// result, and concurrent calls must not share one.
func Stub(service, operation string, out any, err error) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("emulator-stub-"+service+operation,
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if middleware.GetServiceID(ctx) != service || middleware.GetOperationName(ctx) != operation {
					return next.HandleInitialize(ctx, in)
				}
				var result any
				if out != nil {
					v := reflect.ValueOf(out)
					c := reflect.New(v.Type().Elem())
					c.Elem().Set(v.Elem())
					result = c.Interface()
				}
				return middleware.InitializeOutput{Result: result}, middleware.Metadata{}, err
			}), middleware.After)
	}
}
