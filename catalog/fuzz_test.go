package catalog_test

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/seatkeeper/seatkeeper/catalog"
)

const fuzzFile = "fuzz.yaml"

var fuzzLineRe = regexp.MustCompile(`^` + regexp.QuoteMeta(fuzzFile) + `:\d+:\d+: .+$`)

// FuzzLoad feeds arbitrary bytes to Load. Load must never panic; a failure
// is a Problems of positioned problems in the file given, printed one
// `file:line:col: message` a line; a success is a named catalog whose
// features and licenses are numbered by position.
func FuzzLoad(f *testing.F) {
	for _, name := range catalog.PresetNames {
		src, ok := catalog.PresetSource(name)
		if !ok {
			f.Fatalf("no preset source %s", name)
		}
		f.Add(src)
	}
	for _, file := range brokenFiles(f) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		cat, err := catalog.Load(fuzzFile, data)
		if err != nil {
			if cat != nil {
				t.Error("Load returned a catalog with its error")
			}
			var probs catalog.Problems
			if !errors.As(err, &probs) {
				t.Fatalf("error is %T (%v), want catalog.Problems", err, err)
			}
			if len(probs) == 0 {
				t.Fatal("error is an empty Problems")
			}
			for _, p := range probs {
				if p.Line < 1 || p.Col < 1 {
					t.Errorf("problem at line %d col %d: %s", p.Line, p.Col, p)
				}
				if got, want := p.File, fuzzFile; got != want {
					t.Errorf("problem File = %q, want %q", got, want)
				}
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !fuzzLineRe.MatchString(line) {
					t.Errorf("error line %q is not `%s:line:col: message`", line, fuzzFile)
				}
			}
			return
		}
		if cat == nil {
			t.Fatal("Load returned neither a catalog nor an error")
		}
		if cat.Name == "" {
			t.Error("Load succeeded with a catalog that has no Name")
		}
		for i, f := range cat.Features {
			if f.Index != i {
				t.Errorf("feature %q at %d has Index %d", f.Key, i, f.Index)
			}
		}
		for i, l := range cat.Licenses {
			if l.Index != i {
				t.Errorf("license %q at %d has Index %d", l.Key, i, l.Index)
			}
		}
	})
}
