package catalog_test

import (
	"testing"

	"github.com/seatkeeper/seatkeeper/catalog"
)

func TestPresetsLoad(t *testing.T) {
	for _, n := range catalog.PresetNames {
		if _, err := catalog.LoadPreset(n); err != nil {
			t.Errorf("%s:\n%v", n, err)
		}
	}
}
