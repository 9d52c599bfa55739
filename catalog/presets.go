package catalog

import (
	"embed"
	"fmt"
	"sort"
	"sync"
)

//go:embed presets/*.yaml
var presetFiles embed.FS

// PresetNames are the catalogs every server has (SPEC §3).
var PresetNames = []string{"contact-center", "wfo"}

var (
	presetsOnce sync.Once
	presets     map[string]*Catalog
)

// Preset returns the embedded catalog with the given name.
func Preset(name string) (*Catalog, bool) {
	presetsOnce.Do(func() {
		presets = map[string]*Catalog{}
		for _, n := range PresetNames {
			c, err := LoadPreset(n)
			if err != nil {
				// The presets are checked by tests; a broken one is a build defect.
				panic(fmt.Sprintf("preset %s: %v", n, err))
			}
			presets[n] = c
		}
	})
	c, ok := presets[name]
	return c, ok
}

// LoadPreset loads and compiles an embedded preset afresh.
func LoadPreset(name string) (*Catalog, error) {
	file := "presets/" + name + ".yaml"
	data, err := presetFiles.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("no preset catalog %q (have %v)", name, PresetNames)
	}
	return Load(file, data)
}

// PresetSource returns the YAML text of an embedded preset.
func PresetSource(name string) ([]byte, bool) {
	data, err := presetFiles.ReadFile("presets/" + name + ".yaml")
	return data, err == nil
}

// Set is the catalogs a server knows: the presets and those loaded from
// files with --catalog, by name.
type Set map[string]*Catalog

// NewSet returns the presets plus extra, which may replace a preset of the
// same name.
func NewSet(extra ...*Catalog) Set {
	s := Set{}
	for _, n := range PresetNames {
		s[n], _ = Preset(n)
	}
	for _, c := range extra {
		s[c.Name] = c
	}
	return s
}

// Names returns the catalog names in sorted order.
func (s Set) Names() []string {
	out := make([]string, 0, len(s))
	for n := range s {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
