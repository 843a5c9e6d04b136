package verify

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	smithy "github.com/aws/smithy-go"
)

// NotInSandbox is the message of a check whose call the emulator (the
// hub's --endpoint-url, e.g. `crossbill sandbox`) does not serve.
const NotInSandbox = "not available in the sandbox: the emulator does not serve this call"

// unserved reports whether err is an emulator's answer to a call of a
// service it does not serve. moto answers those with an HTML 500 page that
// carries no AWS error code; AWS's own 5xx always carry one. Only asked
// when the hub points at an endpoint of its own (an emulator), so that a
// real AWS fault is never reported as "not available".
func unserved(hub aws.Config, err error) bool {
	if hub.BaseEndpoint == nil || err == nil {
		return false
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		return false
	}
	switch re.HTTPStatusCode() {
	case 404, 500, 501:
	default:
		return false
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return true
	}
	switch ae.ErrorCode() {
	case "", "UnknownError", "NotImplemented", "InternalServerError", "500", "404", "501":
		return true
	}
	return false
}
