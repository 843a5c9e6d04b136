package verify

import (
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	smithy "github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func responseError(status int, code string) error {
	var err error = errors.New("html page")
	if code != "" {
		err = &smithy.GenericAPIError{Code: code, Message: "m"}
	}
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err}}
}

// TestUnserved: only an emulator's code-less 5xx/404 is "not available in
// the sandbox"; AWS's own faults and denials never are.
func TestUnserved(t *testing.T) {
	emu := aws.Config{BaseEndpoint: aws.String("http://127.0.0.1:5000")}
	for _, tc := range []struct {
		name string
		hub  aws.Config
		err  error
		want bool
	}{
		{"moto's HTML 500", emu, responseError(500, ""), true},
		{"moto's not implemented", emu, responseError(501, "NotImplemented"), true},
		{"same answer from AWS itself", aws.Config{}, responseError(500, ""), false},
		{"AWS internal failure through an endpoint", emu, responseError(500, "InternalFailure"), false},
		{"denied", emu, responseError(403, "AccessDenied"), false},
		{"throttled", emu, responseError(400, "Throttling"), false},
		{"no HTTP answer", emu, errors.New("connection refused"), false},
		{"no error", emu, nil, false},
	} {
		if got := unserved(tc.hub, tc.err); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
