package review

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbill/crossbill"
)

// resolveValue parses a one-template document and returns the resolved
// value of Resources.R.Properties.V.
func resolveValue(tb testing.TB, value string) *node {
	tb.Helper()
	doc := "Parameters:\n  P: {Type: String}\nMappings:\n  M:\n    k1: {k2: mapped}\nResources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      V: " + value + "\n"
	root, err := parseDocument("t.yaml", []byte(doc))
	if err != nil {
		tb.Fatalf("parse %q: %v", value, err)
	}
	s := newScope(root)
	return s.resolve(root.get("Resources").get("R").get("Properties").get("V"))
}

func TestResolveIntrinsics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value, want string
	}{
		{"ref parameter", "!Ref P", "${P}"},
		{"ref pseudo", "!Ref AWS::AccountId", "${AWS::AccountId}"},
		{"ref partition", "!Ref AWS::Partition", "aws"},
		{"sub", `!Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${P}"`, "arn:aws:iam::${AWS::AccountId}:role/${P}"},
		{"sub literal", `!Sub "${!Literal}-x"`, "${Literal}-x"},
		{"sub with map", `!Sub ["${A}-x", {A: !Ref P}]`, "${P}-x"},
		{"getatt short", "!GetAtt Role.Arn", "${Role.Arn}"},
		{"getatt long", "{Fn::GetAtt: [Role, Arn]}", "${Role.Arn}"},
		{"join", `!Join ["", ["arn:aws:s3:::", !Ref P, "/*"]]`, "arn:aws:s3:::${P}/*"},
		{"select split", `!Select [1, !Split [",", "a,b,c"]]`, "b"},
		{"if true branch", "!If [C, yes, no]", "yes"},
		{"if novalue", "!If [C, !Ref AWS::NoValue, no]", "no"},
		{"find in map", "!FindInMap [M, k1, k2]", "mapped"},
		{"find in map missing", "!FindInMap [M, x, y]", "${FindInMap:M}"},
		{"import", "!ImportValue Shared-Bucket", "${ImportValue:Shared-Bucket}"},
		{"base64", "!Base64 hello", "hello"},
		{"getazs", `!GetAZs ""`, "${GetAZs}"},
		{"equals", "!Equals [a, b]", "${Equals}"},
		{"not", "!Not [!Equals [a, b]]", "${Not}"},
		{"and", "!And [x, y]", "${And}"},
		{"or", "!Or [x, y]", "${Or}"},
		{"condition", "!Condition C", "${Condition}"},
		{"cidr", `!Cidr ["10.0.0.0/16", 4, 8]`, "${Cidr}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := resolveValue(t, tt.value)
			if got == nil || got.Kind != scalarNode || got.Str != tt.want {
				t.Fatalf("resolve(%s) = %+v, want %q", tt.value, got, tt.want)
			}
		})
	}
}

func TestResolveListIfKeepsBothBranches(t *testing.T) {
	t.Parallel()
	got := resolveValue(t, "[a, !If [C, b, c], !If [D, !Ref AWS::NoValue, d], !Split [',', 'e,f']]")
	var items []string
	for _, n := range got.List {
		items = append(items, n.Str)
	}
	if strings.Join(items, " ") != "a b c d e f" {
		t.Fatalf("list = %v, want a b c d e f", items)
	}
}

// TestNestedFunctionsStayLinear guards against re-resolving values at each
// level of nesting, which once made deep !Join chains take exponential time.
func TestNestedFunctionsStayLinear(t *testing.T) {
	t.Parallel()
	v := "x"
	for range 40 {
		v = `!Join ["", [` + v + `, !Sub "${P}"]]`
	}
	got := resolveValue(t, v)
	if got.Kind != scalarNode || !strings.HasPrefix(got.Str, "x${P}${P}") {
		t.Fatalf("got %+v", got)
	}
}

func TestParseTracksLines(t *testing.T) {
	t.Parallel()
	// JSON indented with tabs, which YAML alone would reject.
	data := "{\n\t\"Version\": \"2012-10-17\",\n\t\"Statement\": [\n\t\t{\n\t\t\t\"Effect\": \"Allow\"\n\t\t}\n\t]\n}\n"
	root, err := parseDocument("p.json", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if st := root.get("Statement").List[0]; st.Line != 4 || st.get("Effect").Line != 5 {
		t.Fatalf("statement line %d, effect line %d; want 4 and 5", st.Line, st.get("Effect").Line)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	tests := []struct {
		name, data, wantInMsg string
	}{
		{"empty", "  \n", "empty"},
		{"bad yaml", "Resources:\n  R:\n    Type: [unclosed\n", "line"},
		{"bad indentation", "Resources:\n  R:\n Type: x\n  Other: y\n", "line 2"},
		{"alias bomb", bomb, "expands"},
		{"complex key", "? [a, b]\n: c\n", "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseDocument("vendor.yaml", []byte(tt.data))
			if crossbill.ErrorCode(err) != crossbill.CodeInvalid {
				t.Fatalf("code %q (%v), want invalid", crossbill.ErrorCode(err), err)
			}
			if !strings.Contains(err.Error(), "vendor.yaml") || !strings.Contains(err.Error(), tt.wantInMsg) {
				t.Fatalf("error %q should name the file and contain %q", err, tt.wantInMsg)
			}
		})
	}
}

// FuzzParseTemplate feeds arbitrary bytes through the reader, the resolver
// and the extractor: none may panic or hang, and errors must be Invalid.
func FuzzParseTemplate(f *testing.F) {
	files, err := filepath.Glob("testdata/seeds/*")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("Resources: {R: {Type: AWS::IAM::Role, Properties: {Policies: [{PolicyDocument: !Sub '${x}'}]}}}"))
	f.Add([]byte(`{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}`))
	f.Add([]byte("Resources:\n  S:\n    Type: AWS::CloudFormation::StackSet\n    Properties:\n      TemplateBody: 'Resources: {R: {Type: AWS::IAM::User}}'\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		root, err := parseDocument("fuzz.yaml", data)
		if err != nil {
			if crossbill.ErrorCode(err) != crossbill.CodeInvalid {
				t.Fatalf("error code %q: %v", crossbill.ErrorCode(err), err)
			}
			return
		}
		inv := &inventory{}
		if root.get("Statement") != nil {
			rawPolicyFile("fuzz.json", root, inv)
		} else {
			(&extractor{file: "fuzz.yaml", inv: inv}).extractTemplate(root)
		}
		for _, id := range inv.Identities {
			for _, p := range append(id.Policies, id.Trust) {
				if p == nil {
					continue
				}
				if _, err := p.policyJSON(); err != nil {
					t.Fatalf("policy JSON: %v", err)
				}
			}
		}
	})
}

func TestARNPatternsIntersect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p, q string
		want bool
	}{
		{"arn:aws:s3:::wiv-cur-*/*", "arn:*:s3:::*/*", true},
		{"arn:aws:s3:::wiv-cur-1", "arn:*:s3:::*/*", false}, // a bucket ARN is not an object ARN
		{"arn:aws:s3:::wiv-cur-*", "arn:*:s3:::*/*", true},  // but a trailing * reaches objects
		{"arn:aws:glue:*:*:catalog", "arn:*:glue:*:*:job/*", false},
		{"arn:aws:glue:*:*:table/wivdb/*", "arn:*:glue:*:*:table/*/*", true},
		{"arn:aws:iam::*:role/Trustle-CrossAccount", "arn:*:iam::*:role/*", true},
		{"arn:aws:iam::*:role/Trustle-CrossAccount", "arn:*:iam::*:user/*", false},
		{"a?c", "*b*", true},
		{"abc", "abd", false},
	}
	for _, tt := range tests {
		if got := arnsIntersect(tt.p, tt.q); got != tt.want {
			t.Errorf("arnsIntersect(%q, %q) = %v, want %v", tt.p, tt.q, got, tt.want)
		}
	}
}

// FuzzReview runs the whole review on arbitrary input: any outcome but a
// panic or an error without a code is acceptable.
func FuzzReview(f *testing.F) {
	files, err := filepath.Glob("testdata/seeds/*")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"Statement":[{"Effect":"Allow","NotAction":"s3:*","NotResource":"arn:aws:s3:::x/*","Condition":{"StringLike":{"aws:ResourceTag/a":"*"}}}]}`))
	f.Add([]byte("Resources: {R: {Type: AWS::IAM::Role, Properties: {Policies: [x, {PolicyName: p}], ManagedPolicyArns: [!Ref P]}}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := Template(context.Background(), "fuzz.yaml", data, Options{})
		if err != nil {
			if crossbill.ErrorCode(err) != crossbill.CodeInvalid {
				t.Fatalf("error code %q: %v", crossbill.ErrorCode(err), err)
			}
			return
		}
		for _, f := range rep.Findings {
			if !f.Severity.valid() || f.ID == "" {
				t.Fatalf("finding without id or severity: %+v", f)
			}
		}
	})
}
