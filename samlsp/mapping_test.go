package samlsp_test

import (
	"slices"
	"testing"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/samlsp"
)

func TestMap(t *testing.T) {
	rules := []seatkeeper.SAMLRule{
		{Section: "plan", Attribute: "groups", Contains: "premium", Assign: "premium"},
		{Section: "plan", Attribute: "groups", Contains: "agent", Assign: "essentials"},
		{Section: "addons", Attribute: "department", Contains: "quality", Assign: "qm, wfm"},
		{Section: "roles", Attribute: "groups", Contains: "blocked", None: true},
		{Section: "roles", Attribute: "groups", Contains: "lead", Assign: "qm:supervisor"},
		{Section: "licenses", Attribute: "http://schemas.example/claims/tier", Contains: "", Assign: "cr"},
	}
	attrs := func(kv ...string) samlsp.Attributes {
		a := samlsp.Attributes{}
		for i := 0; i < len(kv); i += 2 {
			a.Add(kv[i], "", kv[i+1])
		}
		return a
	}
	cases := []struct {
		name    string
		attrs   samlsp.Attributes
		want    map[string][]string
		refused int
	}{
		{"FirstMatchWins", attrs("groups", "premium-agents"), map[string][]string{"plan": {"premium"}}, -1},
		{"AnyValueOfAMultiValuedAttribute", attrs("groups", "sales", "groups", "Team-Lead", "groups", "agents"),
			map[string][]string{"plan": {"essentials"}, "roles": {"qm:supervisor"}}, -1},
		{"SectionsAreIndependent", attrs("groups", "agents", "Department", "Quality Assurance"),
			map[string][]string{"plan": {"essentials"}, "addons": {"qm", "wfm"}}, -1},
		{"NoMatchChangesNothing", attrs("groups", "sales"), map[string][]string{}, -1},
		{"NoneRefuses", attrs("groups", "agents", "groups", "blocked"), map[string][]string{"plan": {"essentials"}}, 3},
		{"NoneWinsWhenItComesFirst", attrs("groups", "lead", "groups", "blocked-lead"), map[string][]string{"roles": {"qm:supervisor"}}, 3},
		{"EmptyContainsNeedsTheAttribute", attrs("HTTP://schemas.example/claims/TIER", "gold"), map[string][]string{"licenses": {"cr"}}, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := samlsp.Map(rules, c.attrs)
			if m.Refused != c.refused {
				t.Errorf("refused by rule %d, want %d", m.Refused, c.refused)
			}
			if c.refused >= 0 {
				return
			}
			if len(m.Sections) != len(c.want) {
				t.Errorf("sections %v, want %v", m.Sections, c.want)
			}
			for s, v := range c.want {
				if !slices.Equal(m.Sections[s], v) {
					t.Errorf("section %s: %v, want %v", s, m.Sections[s], v)
				}
			}
		})
	}
}
