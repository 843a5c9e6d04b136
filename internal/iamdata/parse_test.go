package iamdata_test

import (
	"bytes"
	"compress/gzip"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/iamdata"
)

func gz(tb testing.TB, text string) []byte {
	tb.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(text)); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func TestParseCatalog(t *testing.T) {
	t.Parallel()
	good := "V\t1\nK\taws:TagKeys\tArrayOfString\nS\tabc\tAbc Service\tcompute\tCompute\t1\nR\tthing\tarn:${Partition}:abc:::thing/${Id}\t\n" +
		"A\tDescribeThing\tList\tthing:1\t\tGrants permission to describe\nA\tPutThing\tWrite\tthing:0,other type:1\taws:TagKeys\tGrants permission to put\n" +
		"S\txyz\tXyz\tstorage\tStorage\t0\nA\tGet\tRead\t\t\tGet\n"
	c, err := iamdata.ParseCatalog(gz(t, good))
	if err != nil {
		t.Fatal(err)
	}
	a, ok := c.Action("ABC:putthing")
	if !ok || a.Level != iamdata.LevelWrite || len(a.Resources) != 2 || a.Resources[1].Type != "other type" || !a.Resources[1].Required || a.ConditionKeys[0] != "aws:TagKeys" {
		t.Errorf("PutThing = %+v, %v", a, ok)
	}
	if s, ok := c.Service("abc"); !ok || !s.RCP || s.CategoryName != "Compute" {
		t.Errorf("Service(abc) = %+v", s)
	}
	if got := c.Actions("xyz"); len(got) != 1 || got[0].ID != 2 {
		t.Errorf("xyz actions = %+v", got)
	}
	if rt, ok := c.ResourceType("abc", "THING"); !ok || rt.ARN == "" {
		t.Errorf("ResourceType = %+v, %v", rt, ok)
	}

	for name, text := range map[string]string{
		"unknown record":     "V\t1\nX\ty\n",
		"short action":       "V\t1\nS\tabc\tAbc\tc\tC\t0\nA\tGet\tRead\n",
		"long action":        "V\t1\nS\tabc\tAbc\tc\tC\t0\nA\tGet\tRead\t\t\td\textra\n",
		"action before svc":  "V\t1\nA\tGet\tRead\t\t\td\n",
		"unsorted actions":   "V\t1\nS\tabc\tAbc\tc\tC\t0\nA\tPut\tWrite\t\t\td\nA\tGet\tRead\t\t\td\n",
		"duplicate action":   "V\t1\nS\tabc\tAbc\tc\tC\t0\nA\tGet\tRead\t\t\td\nA\tget\tRead\t\t\td\n",
		"unsorted services":  "V\t1\nS\txyz\tX\tc\tC\t0\nA\tGet\tRead\t\t\td\nS\tabc\tA\tc\tC\t0\n",
		"upper-case service": "V\t1\nS\tABC\tX\tc\tC\t0\nA\tGet\tRead\t\t\td\n",
		"bad resource":       "V\t1\nS\tabc\tAbc\tc\tC\t0\nA\tGet\tRead\tthing\t\td\n",
		"no version":         "S\tabc\tAbc\tc\tC\t0\nA\tGet\tRead\t\t\td\n",
		"no actions":         "V\t1\n",
	} {
		if _, err := iamdata.ParseCatalog(gz(t, text)); crossbill.ErrorCode(err) != crossbill.CodeInternal {
			t.Errorf("%s: err = %v, want an internal error", name, err)
		}
	}
	if _, err := iamdata.ParseCatalog([]byte("not gzip")); err == nil {
		t.Error("non-gzip input parsed")
	}
}

// FuzzParseCatalog feeds arbitrary catalog text to the parser: it must
// refuse bad input with an error, never panic, and what it accepts must be
// searchable.
func FuzzParseCatalog(f *testing.F) {
	f.Add("V\t1\nS\tabc\tAbc\tc\tC\t1\nR\tthing\tarn\t\nA\tGet\tRead\tthing:1\tk\td\n")
	f.Add("V\t1\nK\taws:RequestTag/${TagKey}\tString\nS\ta\tA\tc\tC\t0\nA\tX\tList\t\t\t\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := iamdata.ParseCatalog(gz(t, text))
		if err != nil {
			return
		}
		for _, a := range c.All() {
			got, ok := c.Action(a.String())
			if !ok || got.ID != a.ID {
				t.Fatalf("Action(%q) = %+v, %v", a.String(), got, ok)
			}
		}
	})
}
