package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"
)

func samplePackage() map[string][]byte {
	return map[string][]byte{
		"package.json":                    []byte(`{"version":"0.1.202601011"}`),
		"LICENSE.txt":                     []byte("MIT License\n"),
		"data/services.json":              []byte(`["zeta","abc"]`),
		"data/serviceNames.json":          []byte(`{"abc":"ABC Service","zeta":"Zeta"}`),
		"data/serviceCategories.json":     []byte(`{"abc":"compute","zeta":"storage"}`),
		"data/categoryNames.json":         []byte(`{"compute":"Compute","storage":"Storage"}`),
		"data/rcpSupportedServices.json":  []byte(`["abc"]`),
		"dist/cjs/globalConditionKeys.js": []byte("exports.globalConditionKeys = [\n {\n  key: 'aws:SourceIp',\n  category: 'network',\n  type: 'IPAddress',\n }\n];"),
		"data/conditionKeys/abc.json":     []byte(`{"abc:color":{"key":"abc:Color","type":"String"}}`),
		"data/conditionKeys/zeta.json":    []byte(`{}`),
		"data/resourceTypes/abc.json":     []byte(`{"thing":{"key":"thing","arn":"arn:${Partition}:abc:::thing/${Id}","conditionKeys":["abc:Color"]}}`),
		"data/resourceTypes/zeta.json":    []byte(`{}`),
		"data/actions/abc.json": []byte(`{
		  "putthing":{"name":"PutThing","description":"Grants permission to put\ta thing","accessLevel":"Permissions management, Write",
		    "resourceTypes":[{"name":"thing","required":true,"conditionKeys":["abc:Size"]}],"conditionKeys":["abc:Color"]},
		  "getthing":{"name":"GetThing","description":"Grants permission to get","accessLevel":"Read","resourceTypes":[],"conditionKeys":[]}}`),
		"data/actions/zeta.json": []byte(`{"list":{"name":"List","description":"d","accessLevel":"List","resourceTypes":[],"conditionKeys":[]}}`),
	}
}

func TestConvert(t *testing.T) {
	t.Parallel()
	gz, version, err := convert(samplePackage(), sanity{minGlobalKeys: 1, minActions: 3})
	if err != nil {
		t.Fatal(err)
	}
	if version != "0.1.202601011" {
		t.Errorf("version %q", version)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"V\t0.1.202601011",
		"K\tabc:Color\tString",
		"K\taws:SourceIp\tIPAddress",
		"S\tabc\tABC Service\tcompute\tCompute\t1",
		"R\tthing\tarn:${Partition}:abc:::thing/${Id}\tabc:Color",
		"A\tGetThing\tRead\t\t\tGrants permission to get",
		"A\tPutThing\tPermissions management\tthing:1\tabc:Color,abc:Size\tGrants permission to put a thing",
		"S\tzeta\tZeta\tstorage\tStorage\t0",
		"A\tList\tList\t\t\td",
	}, "\n") + "\n"
	if string(text) != want {
		t.Errorf("catalog =\n%s\nwant\n%s", text, want)
	}
	// The output is deterministic: go generate leaves no diff.
	again, _, err := convert(samplePackage(), sanity{minGlobalKeys: 1, minActions: 3})
	if err != nil || !bytes.Equal(again, gz) {
		t.Errorf("second conversion differs (err %v)", err)
	}
}

func TestConvertRefuses(t *testing.T) {
	t.Parallel()
	for name, edit := range map[string]func(map[string][]byte){
		"missing file": func(f map[string][]byte) { delete(f, "data/actions/zeta.json") },
		"bad json":     func(f map[string][]byte) { f["data/services.json"] = []byte(`[`) },
		"unknown level": func(f map[string][]byte) {
			f["data/actions/zeta.json"] = []byte(`{"x":{"name":"X","accessLevel":"Admin"}}`)
		},
		"no name":        func(f map[string][]byte) { f["data/serviceNames.json"] = []byte(`{"abc":"ABC"}`) },
		"no global keys": func(f map[string][]byte) { f["dist/cjs/globalConditionKeys.js"] = nil },
		"separator": func(f map[string][]byte) {
			f["data/actions/zeta.json"] = []byte(`{"x":{"name":"X","accessLevel":"List","resourceTypes":[{"name":"a,b"}]}}`)
		},
	} {
		files := samplePackage()
		edit(files)
		if _, _, err := convert(files, sanity{minGlobalKeys: 1, minActions: 3}); err == nil {
			t.Errorf("%s: converted", name)
		}
	}
	if _, _, err := convert(samplePackage(), sanity{minGlobalKeys: 1, minActions: 100}); err == nil {
		t.Error("a package with too few actions converted")
	}
}
