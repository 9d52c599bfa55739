package catalog_test

import (
	"os"
	"strings"
	"testing"

	"github.com/seatkeeper/seatkeeper/catalog"
)

// TestDocumentedExampleLoads keeps the annotated example of docs/catalog.md
// true: it must load, and mean what its comments say.
func TestDocumentedExampleLoads(t *testing.T) {
	doc, err := os.ReadFile("../docs/catalog.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/catalog.md has no yaml example")
	}
	c, err := catalog.Load("docs/catalog.md", []byte(example))
	if err != nil {
		t.Fatalf("the documented example does not load:\n%v", err)
	}
	plus, _ := c.License("plus")
	if !plus.FeatureSet.Has(c.FeatureIndex("qa.scoring")) {
		t.Error("plus should grant qa.scoring through includes and the key hierarchy")
	}
	if plus.FeatureCover.Has(c.FeatureIndex("qa.scoring")) {
		t.Error("under a concurrent plus, qa is coverage and must not come with the plan")
	}
	if got := c.Matrix().Columns; strings.Join(got, ",") != "basic,plus" {
		t.Errorf("matrix columns = %v", got)
	}
}
