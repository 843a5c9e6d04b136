package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bcmdataexports"
	bcmtypes "github.com/aws/aws-sdk-go-v2/service/bcmdataexports/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"gopkg.in/yaml.v3"
)

// DeployStack deploys a crossbill template as a customer would, with what
// moto's CloudFormation cannot create made another way: the stack is
// created without its AWS::BCMDataExports::Export resources (Deployable),
// then each export is created through the launcher's Data Exports
// stand-in (moto does not serve BCM Data Exports) with cfg's credentials,
// its properties resolved against the stack. It returns the stack's
// outputs, with those naming an export's ExportArn filled in, and the
// logical IDs made outside CloudFormation.
func DeployStack(ctx context.Context, cfg aws.Config, name string, body []byte, params map[string]string) (map[string]string, []string, error) {
	deployable, removed, err := Deployable(body)
	if err != nil {
		return nil, nil, err
	}
	outputs, err := CreateStack(ctx, cfg, name, deployable, params)
	if err != nil {
		return nil, nil, err
	}
	if len(removed) == 0 {
		return outputs, nil, nil
	}
	var tree struct {
		Resources map[string]struct {
			Type       string         `yaml:"Type"`
			Properties map[string]any `yaml:"Properties"`
		} `yaml:"Resources"`
		Outputs map[string]struct {
			Value any `yaml:"Value"`
		} `yaml:"Outputs"`
	}
	if err := yaml.Unmarshal(body, &tree); err != nil {
		return nil, nil, fmt.Errorf("reading the template: %w", err)
	}
	refs, err := stackRefs(ctx, cfg, name)
	if err != nil {
		return nil, nil, err
	}
	arns := map[string]string{}
	for _, id := range removed {
		r := tree.Resources[id]
		if r.Type != "AWS::BCMDataExports::Export" {
			return nil, nil, fmt.Errorf("stack %s: %s (%s) cannot be created in the emulator", name, id, r.Type)
		}
		resolved, err := resolveRefs(r.Properties["Export"], refs)
		if err != nil {
			return nil, nil, fmt.Errorf("stack %s, resource %s: %w", name, id, err)
		}
		b, err := json.Marshal(resolved)
		if err != nil {
			return nil, nil, err
		}
		var export bcmtypes.Export
		if err := json.Unmarshal(b, &export); err != nil {
			return nil, nil, fmt.Errorf("stack %s, resource %s: %w", name, id, err)
		}
		out, err := bcmdataexports.NewFromConfig(cfg).CreateExport(ctx, &bcmdataexports.CreateExportInput{Export: &export})
		if err != nil {
			return nil, nil, fmt.Errorf("stack %s: creating export %s through the Data Exports stand-in: %w", name, id, err)
		}
		arns[id] = aws.ToString(out.ExportArn)
	}
	for key, o := range tree.Outputs {
		m, _ := o.Value.(map[string]any)
		if att, ok := m["Fn::GetAtt"].([]any); ok && len(att) == 2 && att[1] == "ExportArn" {
			if arn, ok := arns[fmt.Sprint(att[0])]; ok {
				outputs[key] = arn
			}
		}
	}
	return outputs, removed, nil
}

// stackRefs is what Ref names in a created stack: its parameters, its
// resources' physical IDs and the pseudo parameters.
func stackRefs(ctx context.Context, cfg aws.Config, name string) (map[string]string, error) {
	cfn := cloudformation.NewFromConfig(cfg)
	st, err := cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil || len(st.Stacks) != 1 {
		return nil, fmt.Errorf("describing stack %s: %v", name, err)
	}
	refs := map[string]string{"AWS::Region": cfg.Region, "AWS::Partition": "aws", "AWS::StackName": name}
	// arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/ID
	if parts := strings.Split(aws.ToString(st.Stacks[0].StackId), ":"); len(parts) > 4 {
		refs["AWS::AccountId"] = parts[4]
	}
	for _, p := range st.Stacks[0].Parameters {
		refs[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	res, err := cfn.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("describing stack %s's resources: %w", name, err)
	}
	for _, r := range res.StackResources {
		refs[aws.ToString(r.LogicalResourceId)] = aws.ToString(r.PhysicalResourceId)
	}
	return refs, nil
}

// resolveRefs replaces every {"Ref": X} in v; the exports crossbill writes
// use no other intrinsic function, and any other is refused.
func resolveRefs(v any, refs map[string]string) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		if r, ok := v["Ref"]; ok && len(v) == 1 {
			val, ok := refs[fmt.Sprint(r)]
			if !ok {
				return nil, fmt.Errorf("unknown Ref %v", r)
			}
			return val, nil
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			if strings.HasPrefix(k, "Fn::") {
				return nil, fmt.Errorf("%s is not resolved for the Data Exports stand-in", k)
			}
			r, err := resolveRefs(e, refs)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := slices.Clone(v)
		for i, e := range v {
			r, err := resolveRefs(e, refs)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}
