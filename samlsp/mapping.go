package samlsp

import (
	"strings"

	"github.com/seatkeeper/seatkeeper"
)

// Attributes are an assertion's attributes, by lower-cased Name and by
// lower-cased FriendlyName alike, each with every value it had.
type Attributes map[string][]string

// Add records the values of an attribute under both of its names.
func (a Attributes) Add(name, friendly string, values ...string) {
	for _, n := range []string{name, friendly} {
		if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
			a[n] = append(a[n], values...)
		}
	}
}

// First returns the first non-empty value of the first of names present.
func (a Attributes) First(names ...string) string {
	for _, n := range names {
		for _, v := range a[strings.ToLower(n)] {
			if v = strings.TrimSpace(v); v != "" {
				return v
			}
		}
	}
	return ""
}

// Mapping is what the rules say of one login.
type Mapping struct {
	// Refused is the index of the none rule that refused the login, or -1.
	Refused int
	// Sections holds, for each section a rule matched, what it assigns;
	// a section absent here is left as it is.
	Sections map[string][]string
	// Matched is the index of the rule that won each matched section.
	Matched map[string]int
}

// Map applies the rules (SPEC §7): sections are independent; within a
// section the first rule one of whose attribute's values contains the
// rule's text (ignoring case) wins; a section no rule matches changes
// nothing; a none rule that wins refuses the whole login.
func Map(rules []seatkeeper.SAMLRule, attrs Attributes) Mapping {
	m := Mapping{Refused: -1, Sections: map[string][]string{}, Matched: map[string]int{}}
	for i, r := range rules {
		if _, done := m.Matched[r.Section]; done || !matches(r, attrs) {
			continue
		}
		m.Matched[r.Section] = i
		if r.None {
			if m.Refused < 0 {
				m.Refused = i
			}
			continue
		}
		m.Sections[r.Section] = r.Values()
	}
	return m
}

func matches(r seatkeeper.SAMLRule, attrs Attributes) bool {
	want := strings.ToLower(r.Contains)
	for _, v := range attrs[strings.ToLower(strings.TrimSpace(r.Attribute))] {
		if strings.Contains(strings.ToLower(v), want) {
			return true
		}
	}
	return false
}
