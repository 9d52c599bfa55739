package catalog_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seatkeeper/seatkeeper/catalog"
)

var update = flag.Bool("update", false, "rewrite the golden .want files of testdata/broken from the loader's output")

// brokenFiles returns the catalogs of testdata/broken, each named as the
// loader is given it: "testdata/broken/NAME.yaml".
func brokenFiles(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob("testdata/broken/*.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatal("no catalogs in testdata/broken")
	}
	return files
}

// TestLoadBrokenCorpus loads every broken catalog and compares the problems
// it reports, one `file:line:col: message` a line, with NAME.want. Run with
// -update to rewrite the golden files, then review them by eye.
func TestLoadBrokenCorpus(t *testing.T) {
	for _, file := range brokenFiles(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			cat, err := catalog.Load(file, data)
			if err == nil {
				t.Fatalf("Load(%s) succeeded (catalog %q), want problems", file, cat.Name)
			}
			if cat != nil {
				t.Errorf("Load(%s) returned a catalog with its error", file)
			}
			var probs catalog.Problems
			if !errors.As(err, &probs) {
				t.Fatalf("Load(%s) error is %T, want catalog.Problems", file, err)
			}
			got := err.Error()
			wantFile := strings.TrimSuffix(file, ".yaml") + ".want"
			if *update {
				if err := os.WriteFile(wantFile, []byte(got+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			raw, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if want := strings.TrimRight(string(raw), "\n"); got != want {
				t.Errorf("Load(%s) problems:\n%s\n\nwant:\n%s", file, got, want)
			}
		})
	}
}

// TestBrokenCorpusComplete: every golden file has its catalog, and the
// corpus still holds the cases the loader must be checked against.
func TestBrokenCorpusComplete(t *testing.T) {
	wants, err := filepath.Glob("testdata/broken/*.want")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range wants {
		if _, err := os.Stat(strings.TrimSuffix(w, ".want") + ".yaml"); err != nil {
			t.Errorf("%s has no catalog: %v", w, err)
		}
	}
	for _, name := range []string{
		"unknown_top_level_key", "unknown_key_in_license", "unknown_key_in_feature",
		"unknown_key_in_service", "unknown_key_in_role", "duplicate_feature",
		"duplicate_license", "duplicate_key_in_license", "unknown_feature_in_grants",
		"unknown_license_in_includes", "unknown_license_in_requires",
		"unknown_license_in_coverage", "unknown_license_in_role", "include_self",
		"include_cycle", "plan_requires_itself", "plan_requires_plan",
		"account_license_on_role", "quantity_grants", "concurrent_account_scope",
		"bad_numbers", "bad_enums", "bad_keys", "foreign_permission",
		"default_role_not_a_role", "unknown_setting", "exclusive_group",
		"missing_sections", "empty", "invalid_syntax", "alias", "two_documents",
		"many_problems",
	} {
		if _, err := os.Stat(filepath.Join("testdata/broken", name+".yaml")); err != nil {
			t.Errorf("corpus case %s is missing: %v", name, err)
		}
	}
}

// TestProblemsShape checks what every broken catalog's error must be,
// whatever its golden file says: positioned, in the file given, sorted.
func TestProblemsShape(t *testing.T) {
	for _, file := range brokenFiles(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, err = catalog.Load(file, data)
			var probs catalog.Problems
			if !errors.As(err, &probs) {
				t.Fatalf("Load(%s) error is %T (%v), want catalog.Problems", file, err, err)
			}
			if got := len(probs); got == 0 {
				t.Fatal("Problems is empty")
			}
			lines := strings.Split(err.Error(), "\n")
			if got, want := len(lines), len(probs); got != want {
				t.Errorf("error has %d lines, want one per problem (%d)", got, want)
			}
			checkProblems(t, file, data, probs)
		})
	}
}

// checkProblems asserts the invariants of every Problems: the file name as
// given, positions inside the file, a message, and position order.
func checkProblems(t *testing.T, file string, data []byte, probs catalog.Problems) {
	t.Helper()
	nlines := strings.Count(string(data), "\n") + 1
	for i, p := range probs {
		if got, want := p.File, file; got != want {
			t.Errorf("problem %d: File = %q, want %q", i, got, want)
		}
		if p.Line < 1 || p.Line > nlines {
			t.Errorf("problem %d (%s): line %d outside 1..%d", i, p, p.Line, nlines)
		}
		if p.Col < 1 {
			t.Errorf("problem %d (%s): col %d < 1", i, p, p.Col)
		}
		if strings.TrimSpace(p.Message) == "" || strings.Contains(p.Message, "\n") {
			t.Errorf("problem %d: message %q must be one non-empty line", i, p.Message)
		}
		if i > 0 {
			q := probs[i-1]
			if p.Line < q.Line || p.Line == q.Line && p.Col < q.Col {
				t.Errorf("problem %d (%s) comes after %s: not in position order", i, p, q)
			}
		}
	}
}
