package emulator

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// unservedTypes are the CloudFormation resource types of crossbill's
// templates that moto 5.2.1 cannot create.
var unservedTypes = map[string]bool{"AWS::BCMDataExports::Export": true}

// Deployable returns a template (YAML or JSON, long-form intrinsics as
// crossbill writes them) as JSON without the resources the emulator cannot
// create and the outputs that refer to them, and the logical IDs removed.
// The CUR stack then deploys its bucket, bucket policy and the role's read
// policy for real; only the Data Exports export is missing.
func Deployable(body []byte) ([]byte, []string, error) {
	var tree map[string]any
	if err := yaml.Unmarshal(body, &tree); err != nil {
		return nil, nil, fmt.Errorf("reading the template: %w", err)
	}
	resources, _ := tree["Resources"].(map[string]any)
	var removed []string
	for id, r := range resources {
		if m, ok := r.(map[string]any); ok && unservedTypes[fmt.Sprint(m["Type"])] {
			delete(resources, id)
			removed = append(removed, id)
		}
	}
	slices.Sort(removed)
	if outputs, ok := tree["Outputs"].(map[string]any); ok {
		for name, o := range outputs {
			b, err := json.Marshal(o)
			if err != nil {
				return nil, nil, err
			}
			for _, id := range removed {
				if strings.Contains(string(b), `"`+id+`"`) {
					delete(outputs, name)
				}
			}
		}
	}
	out, err := json.Marshal(tree)
	return out, removed, err
}
