package seatkeeper_test

import (
	"testing"

	"github.com/seatkeeper/seatkeeper"
)

// TestNameKey: names compare by Unicode's canonical caseless match (full
// case folding of the canonical decomposition, composed again), and ASCII
// names by lower-casing.
func TestNameKey(t *testing.T) {
	for _, c := range []struct{ a, b string }{
		{"Ann.Lee@Example.com", "ann.lee@example.com"},
		{"Jos\u00e9", "jose\u0301"},                  // composed and decomposed é
		{"\u03a3\u0391\u03a3", "\u03c3\u03b1\u03c2"}, // ΣΑΣ and σας: final sigma
		{"Stra\u00dfe", "STRASSE"},                   // ß folds to ss
		{"\u00c4rger", "\u00e4RGER"},
		{"\u212bngstr\u00f6m", "\u00e5ngstr\u00f6m"}, // the Ångström sign is Å
	} {
		if ka, kb := seatkeeper.NameKey(c.a), seatkeeper.NameKey(c.b); ka != kb {
			t.Errorf("NameKey(%q) = %q, NameKey(%q) = %q: want one key", c.a, ka, c.b, kb)
		}
	}
	for _, c := range []struct{ a, b string }{
		{"jose", "jos\u00e9"},
		{"ann", "anna"},
		{"i", "\u0131"}, // dotless ı is its own letter, not I's
	} {
		if seatkeeper.NameKey(c.a) == seatkeeper.NameKey(c.b) {
			t.Errorf("%q and %q have one key, %q", c.a, c.b, seatkeeper.NameKey(c.a))
		}
	}
	if k := seatkeeper.NameKey("jose\u0301"); k != "jos\u00e9" {
		t.Errorf("the key of a decomposed é is %q, want it composed", k)
	}
}
