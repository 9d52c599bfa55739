package scim

import "strings"

// Project applies attributes and excludedAttributes (RFC 7644 §3.9), each
// a comma-separated list of attribute paths ("userName", "name.givenName",
// "urn:…:User:department"). id and schemas are always returned, and
// attributes returned never are never returned.
func (rt *ResourceType) Project(res Resource, attributes, excluded string) Resource {
	delete(res, keyOf(res, "password"))
	if attributes != "" {
		out := Resource{"id": res["id"], "schemas": res["schemas"]}
		for _, p := range splitPaths(attributes) {
			rt.copyPath(out, res, p)
		}
		return out
	}
	for _, p := range splitPaths(excluded) {
		urn, name, sub := rt.splitPath(p)
		_, a := rt.lookup(urn, name)
		if a == nil || a.Returned == "always" {
			continue
		}
		holder := rt.container(res, urn)
		if holder == nil {
			continue
		}
		if sub == "" {
			delete(holder, keyOf(holder, a.Name))
			continue
		}
		for _, el := range asList(holder[keyOf(holder, a.Name)]) {
			if m, ok := el.(map[string]any); ok {
				delete(m, keyOf(m, sub))
			}
		}
	}
	return res
}

func splitPaths(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// splitPath splits "urn:…:attr.sub" into its URN, attribute and
// sub-attribute; a bare extension URN is returned as the URN alone.
func (rt *ResourceType) splitPath(p string) (urn, name, sub string) {
	if e := rt.extension(p); e != nil {
		return e.ID, "", ""
	}
	if i := strings.LastIndex(p, ":"); i >= 0 {
		urn, p = p[:i], p[i+1:]
	}
	name, sub, _ = strings.Cut(p, ".")
	return urn, name, sub
}

// copyPath copies what one path names from res into out.
func (rt *ResourceType) copyPath(out, res Resource, p string) {
	urn, name, sub := rt.splitPath(p)
	if name == "" { // a whole extension
		if v, ok := res[keyOf(res, urn)]; ok {
			out[urn] = v
		}
		return
	}
	_, a := rt.lookup(urn, name)
	src := rt.container(res, urn)
	if a == nil || src == nil {
		return
	}
	v, ok := src[keyOf(src, a.Name)]
	if !ok {
		return
	}
	dst := out
	if urn != "" && !strings.EqualFold(urn, rt.Schema.ID) {
		key := keyOf(res, urn)
		m, _ := out[key].(map[string]any)
		if m == nil {
			m = map[string]any{}
			out[key] = m
		}
		dst = m
	}
	if sub == "" {
		dst[a.Name] = v
		return
	}
	switch x := v.(type) {
	case map[string]any:
		m, _ := dst[a.Name].(map[string]any)
		if m == nil {
			m = map[string]any{}
			dst[a.Name] = m
		}
		if sv, ok := x[keyOf(x, sub)]; ok {
			m[sub] = sv
		}
	case []any:
		var list []any
		for _, el := range x {
			if m, ok := el.(map[string]any); ok {
				if sv, ok := m[keyOf(m, sub)]; ok {
					list = append(list, map[string]any{sub: sv})
				}
			}
		}
		dst[a.Name] = list
	}
}
