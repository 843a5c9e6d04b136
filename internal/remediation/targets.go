package remediation

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/crossbill/crossbill"
)

// maxTargetsFile bounds a targets file (JSON), well above maxTargets
// targets of realistic size.
const maxTargetsFile = 1 << 20

// ParseTargets reads targets as JSON: an array of targets, or an object
// {"targets": [...]} (what a saved plan request holds). Unknown fields are
// refused, so a misspelt "params" cannot silently drop an argument.
func ParseTargets(data []byte) ([]Target, error) {
	const op = "remediation targets"
	if len(data) > maxTargetsFile {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "the targets file is %d bytes; at most %d", len(data), maxTargetsFile)
	}
	trimmed := bytes.TrimSpace(data)
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	var out []Target
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var wrap struct {
			Targets []Target `json:"targets"`
		}
		if err := dec.Decode(&wrap); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "reading the targets: %v; expected {\"targets\": [{\"action\": ..., \"arn\": ...}]}", err)
		}
		out = wrap.Targets
	} else if err := dec.Decode(&out); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "reading the targets: %v; expected [{\"action\": \"stop-instance\", \"arn\": \"arn:aws:ec2:...\"}]", err)
	}
	if dec.More() {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "the targets file has more than one JSON value")
	}
	for i, t := range out {
		if t.Action.Kind() == "" {
			return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "target %d: unknown action %q: use one of %s", i, t.Action, joinActions())
		}
		if strings.TrimSpace(t.ARN) == "" {
			return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "target %d: no arn", i)
		}
	}
	return out, nil
}

// ParseParams reads KEY=VALUE pairs (the CLI's --param).
func ParseParams(pairs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, crossbill.Errorf(crossbill.CodeInvalid, "remediation params", "%q: give KEY=VALUE, e.g. instance_type=m7g.large", p)
		}
		out[k] = v
	}
	return out, nil
}
