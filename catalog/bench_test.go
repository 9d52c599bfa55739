package catalog_test

import (
	"testing"

	"github.com/seatkeeper/seatkeeper/catalog"
)

// BenchmarkLoadPresets loads and compiles both presets from their YAML.
func BenchmarkLoadPresets(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		for _, n := range catalog.PresetNames {
			if _, err := catalog.LoadPreset(n); err != nil {
				b.Fatal(err)
			}
		}
	}
}
