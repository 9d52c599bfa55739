package scim

import (
	"strings"
)

// Normalize checks a resource sent by a client against the resource
// type's schemas and returns what is kept: attributes with their schema's
// spelling, booleans also read from "True"/"False" strings (Entra ID),
// read-only and write-only attributes (id, meta, groups, password) and
// attributes of no schema dropped. A value of the wrong type is an
// invalidValue error; a missing required attribute too.
func (rt *ResourceType) Normalize(in Resource) (Resource, error) {
	out := Resource{}
	for k, v := range in {
		if strings.EqualFold(k, "schemas") {
			// Kept as declared (the URNs this server knows), to be
			// answered as declared.
			var known []any
			for _, s := range asList(v) {
				if s, ok := s.(string); ok && (strings.EqualFold(s, rt.Schema.ID) || rt.extension(s) != nil) {
					known = append(known, s)
				}
			}
			if known != nil {
				out["schemas"] = known
			}
			continue
		}
		if e := rt.extension(k); e != nil {
			m, ok := v.(map[string]any)
			if !ok {
				if v == nil {
					continue
				}
				return nil, Errorf(InvalidValue, "%s must be an object", k)
			}
			em, err := normalizeAttrs(e.Attributes, m, e.ID+":")
			if err != nil {
				return nil, err
			}
			out[e.ID] = em
			continue
		}
		_, a := rt.lookup("", k)
		if a == nil || a.Mutability == "readOnly" || a.Returned == "never" {
			continue
		}
		nv, err := normalizeValue(a, v, "")
		if err != nil {
			return nil, err
		}
		if nv != nil {
			out[a.Name] = nv
		}
	}
	for _, a := range rt.Schema.Attributes {
		if a.Required && !present(out[a.Name]) {
			return nil, Errorf(InvalidValue, "%s is required", a.Name)
		}
	}
	return out, nil
}

func normalizeAttrs(attrs []Attribute, in map[string]any, prefix string) (map[string]any, error) {
	out := map[string]any{}
	for k, v := range in {
		a := find(attrs, k)
		if a == nil || a.Mutability == "readOnly" && prefix == "" {
			continue
		}
		nv, err := normalizeValue(a, v, prefix)
		if err != nil {
			return nil, err
		}
		if nv != nil {
			out[a.Name] = nv
		}
	}
	return out, nil
}

func normalizeValue(a *Attribute, v any, prefix string) (any, error) {
	if v == nil {
		return nil, nil
	}
	if a.MultiValued {
		list, ok := v.([]any)
		if !ok {
			return nil, Errorf(InvalidValue, "%s%s must be a list", prefix, a.Name)
		}
		out := []any{}
		one := *a
		one.MultiValued = false
		for _, el := range list {
			nv, err := normalizeValue(&one, el, prefix)
			if err != nil {
				return nil, err
			}
			if nv != nil {
				out = append(out, nv)
			}
		}
		return out, nil
	}
	switch a.Type {
	case "complex":
		m, ok := v.(map[string]any)
		if str, isStr := v.(string); isStr && a.Sub("value") != nil {
			// Entra ID sends the enterprise manager as its id alone.
			m, ok = map[string]any{"value": str}, true
		}
		if !ok {
			return nil, Errorf(InvalidValue, "%s%s must be an object", prefix, a.Name)
		}
		return normalizeAttrs(a.SubAttributes, m, prefix+a.Name+".")
	case "boolean":
		b, ok := boolOf(v)
		if !ok {
			return nil, Errorf(InvalidValue, "%s%s must be true or false", prefix, a.Name)
		}
		return b, nil
	case "integer", "decimal":
		if _, ok := v.(float64); !ok {
			return nil, Errorf(InvalidValue, "%s%s must be a number", prefix, a.Name)
		}
		return v, nil
	default: // string, reference, dateTime, binary
		s, ok := v.(string)
		if !ok {
			return nil, Errorf(InvalidValue, "%s%s must be a string", prefix, a.Name)
		}
		if len(s) > 4096 || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\t' }) {
			return nil, Errorf(InvalidValue, "%s%s must be at most 4096 characters, without control characters", prefix, a.Name)
		}
		return s, nil
	}
}
