package scim

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

// PatchRequest is the body of a PATCH (RFC 7644 §3.5.2).
type PatchRequest struct {
	Schemas    []string  `json:"schemas"`
	Operations []PatchOp `json:"Operations"`
}

// PatchOp is one operation. Op is matched case-insensitively: Entra ID
// sends "Add", "Replace" and "Remove".
type PatchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// MaxOperations bounds the operations of one PATCH.
const MaxOperations = 1000

// Path is a parsed PATCH path: an attribute (with its extension URN), an
// optional value filter on its elements, and an optional sub-attribute.
type Path struct {
	URN    string            // "" for the core schema
	Attr   *Attribute        // nil when the path names a whole extension
	Filter filter.Expression // members[value eq "…"]
	Sub    *Attribute        // name.givenName, emails[type eq "work"].value
}

// ParsePath parses a PATCH path of the resource type: unknown attributes
// and bad syntax are invalidPath errors, never a panic.
func (rt *ResourceType) ParsePath(s string) (p Path, err error) {
	if len(s) > MaxFilter {
		return Path{}, Errorf(InvalidPath, "the path is longer than %d bytes", MaxFilter)
	}
	if e := rt.extension(s); e != nil {
		return Path{URN: e.ID}, nil
	}
	defer func() {
		if r := recover(); r != nil {
			p, err = Path{}, Errorf(InvalidPath, "cannot parse the path %q", s)
		}
	}()
	fp, perr := filter.ParsePath([]byte(s))
	if perr != nil {
		return Path{}, Errorf(InvalidPath, "cannot parse the path %q: %v", s, perr)
	}
	urn, a := rt.lookup(fp.AttributePath.URI(), fp.AttributePath.AttributeName)
	if a == nil {
		return Path{}, Errorf(InvalidPath, "no attribute %q", s)
	}
	p = Path{URN: urn, Attr: a, Filter: fp.ValueExpression}
	sub := fp.AttributePath.SubAttributeName()
	if sub == "" {
		sub = fp.SubAttributeName()
	}
	if p.Filter != nil {
		if a.Type != "complex" || !a.MultiValued {
			return Path{}, Errorf(InvalidPath, "%s is not a multi-valued complex attribute: no filter on it", a.Name)
		}
		if err := check(p.Filter); err != nil {
			return Path{}, Errorf(InvalidPath, "bad filter in the path %q: %s", s, err.(*Error).Detail)
		}
	}
	if sub != "" {
		if p.Sub = a.Sub(sub); p.Sub == nil {
			return Path{}, Errorf(InvalidPath, "%s has no sub-attribute %q", a.Name, sub)
		}
	}
	return p, nil
}

// Patch applies the operations to res in order. res is changed in
// place; on error the caller discards it.
func (rt *ResourceType) Patch(res Resource, ops []PatchOp) error {
	if len(ops) == 0 {
		return Errorf(InvalidSyntax, "no Operations")
	}
	if len(ops) > MaxOperations {
		return Errorf(TooMany, "at most %d operations", MaxOperations)
	}
	for i, op := range ops {
		if err := rt.apply(res, op); err != nil {
			if e, ok := err.(*Error); ok {
				e.Detail = "operation " + strconv.Itoa(i+1) + ": " + e.Detail
			}
			return err
		}
	}
	return nil
}

func (rt *ResourceType) apply(res Resource, op PatchOp) error {
	kind := strings.ToLower(op.Op)
	if kind != "add" && kind != "replace" && kind != "remove" {
		return Errorf(InvalidSyntax, "op must be add, replace or remove, not %q", op.Op)
	}
	var value any
	hasValue := len(op.Value) > 0 && string(op.Value) != "null"
	if hasValue {
		if err := json.Unmarshal(op.Value, &value); err != nil {
			return Errorf(InvalidSyntax, "the value is not JSON")
		}
	}
	if kind != "remove" && !hasValue {
		return Errorf(InvalidValue, "%s needs a value", kind)
	}
	if op.Path == "" {
		if kind == "remove" {
			return Errorf(NoTarget, "remove needs a path")
		}
		obj, ok := value.(map[string]any)
		if !ok {
			return Errorf(InvalidValue, "without a path the value must be an object")
		}
		return rt.merge(res, "", obj, kind)
	}
	p, err := rt.ParsePath(op.Path)
	if err != nil {
		return err
	}
	if p.Attr == nil { // a whole extension
		if kind == "remove" {
			delete(res, keyOf(res, p.URN))
			return nil
		}
		obj, ok := value.(map[string]any)
		if !ok {
			return Errorf(InvalidValue, "the value of %s must be an object", p.URN)
		}
		return rt.merge(res, p.URN, obj, kind)
	}
	if p.Attr.Mutability == "readOnly" {
		return Errorf(Mutability, "%s is read-only", p.Attr.Name)
	}
	holder := rt.holder(res, p.URN, kind != "remove")
	if holder == nil {
		return nil // removing from an absent extension: nothing to do
	}
	key := keyOf(holder, p.Attr.Name)
	switch {
	case p.Filter != nil:
		return rt.applyFiltered(holder, key, p, kind, value)
	case p.Sub != nil:
		parent, _ := holder[key].(map[string]any)
		if p.Attr.MultiValued {
			// emails.value without a filter: every element.
			for _, el := range asList(holder[key]) {
				if m, ok := el.(map[string]any); ok {
					setOrDelete(m, p.Sub.Name, kind, value)
				}
			}
			return nil
		}
		if parent == nil {
			if kind == "remove" {
				return nil
			}
			parent = map[string]any{}
			holder[key] = parent
		}
		setOrDelete(parent, p.Sub.Name, kind, value)
		return nil
	case kind == "remove":
		if hasValue && p.Attr.MultiValued {
			// Entra ID: remove members with a list of {"value": …}.
			holder[key] = without(asList(holder[key]), asList(value))
			return nil
		}
		delete(holder, key)
		return nil
	}
	return rt.set(holder, key, p.Attr, value, kind)
}

// merge applies an add or replace whose value is an object of attributes
// (no path, or a path naming an extension).
func (rt *ResourceType) merge(res Resource, urn string, obj map[string]any, kind string) error {
	for k, v := range obj {
		if urn == "" {
			if strings.EqualFold(k, "schemas") || strings.EqualFold(k, "meta") {
				continue
			}
			if e := rt.extension(k); e != nil {
				m, ok := v.(map[string]any)
				if !ok {
					return Errorf(InvalidValue, "the value of %s must be an object", k)
				}
				if err := rt.merge(res, e.ID, m, kind); err != nil {
					return err
				}
				continue
			}
		}
		_, a := rt.lookup(urn, k)
		if a == nil {
			return Errorf(InvalidPath, "no attribute %q", k)
		}
		holder := rt.holder(res, urn, true)
		key := keyOf(holder, a.Name)
		if a.Mutability == "readOnly" {
			// Okta sends the id with the attributes it replaces.
			if reflect.DeepEqual(holder[key], v) {
				continue
			}
			return Errorf(Mutability, "%s is read-only", a.Name)
		}
		if err := rt.set(holder, key, a, v, kind); err != nil {
			return err
		}
	}
	return nil
}

// holder is the object that holds the attributes of urn, created when
// create is set.
func (rt *ResourceType) holder(res Resource, urn string, create bool) map[string]any {
	if urn == "" {
		return res
	}
	key := keyOf(res, urn)
	m, ok := res[key].(map[string]any)
	if !ok && create {
		m = map[string]any{}
		res[key] = m
	}
	return m
}

// set adds or replaces one attribute's value: add appends to a
// multi-valued attribute (skipping values already there) and merges into a
// complex one; replace replaces.
func (rt *ResourceType) set(holder map[string]any, key string, a *Attribute, value any, kind string) error {
	switch {
	case a.MultiValued:
		list := asList(value)
		if kind == "add" {
			cur := asList(holder[key])
			for _, v := range list {
				if !containsValue(cur, v) {
					cur = append(cur, v)
				}
			}
			list = cur
		}
		holder[key] = list
	case a.Type == "complex":
		m, ok := value.(map[string]any)
		if str, isStr := value.(string); isStr && a.Sub("value") != nil {
			m, ok = map[string]any{"value": str}, true // Entra ID's manager
		}
		if !ok {
			return Errorf(InvalidValue, "%s must be an object", a.Name)
		}
		cur, _ := holder[key].(map[string]any)
		if cur == nil { // replace and add both merge the sub-attributes given (RFC 7644 §3.5.2.3)
			cur = map[string]any{}
		}
		for k, v := range m {
			cur[k] = v
		}
		holder[key] = cur
	default:
		if _, ok := value.([]any); ok {
			return Errorf(InvalidValue, "%s takes one value", a.Name)
		}
		if _, ok := value.(map[string]any); ok {
			return Errorf(InvalidValue, "%s takes one value, not an object", a.Name)
		}
		holder[key] = value
	}
	return nil
}

// applyFiltered applies an operation to the elements of a multi-valued
// attribute that match the path's filter.
func (rt *ResourceType) applyFiltered(holder map[string]any, key string, p Path, kind string, value any) error {
	list := asList(holder[key])
	var kept []any
	matched := 0
	for _, el := range list {
		m, ok := el.(map[string]any)
		if !ok || !rt.match(p.Filter, m, p.Attr.SubAttributes) {
			kept = append(kept, el)
			continue
		}
		matched++
		switch {
		case kind == "remove" && p.Sub == nil:
			continue // dropped
		case p.Sub != nil:
			setOrDelete(m, p.Sub.Name, kind, value)
		default:
			nv, ok := value.(map[string]any)
			if !ok {
				return Errorf(InvalidValue, "the value for %s must be an object", p.Attr.Name)
			}
			for k, v := range nv {
				m[k] = v
			}
		}
		kept = append(kept, m)
	}
	if matched == 0 && kind != "remove" {
		// Entra ID: replace emails[type eq "work"].value on a user without
		// a work email adds one.
		attrName, want, ok := simpleEquality(p.Filter)
		if !ok || p.Sub == nil {
			return Errorf(NoTarget, "no %s matches the filter", p.Attr.Name)
		}
		el := map[string]any{attrName: want}
		setOrDelete(el, p.Sub.Name, "add", value)
		kept = append(kept, el)
	}
	if kept == nil {
		kept = []any{}
	}
	holder[key] = kept
	return nil
}

func simpleEquality(e filter.Expression) (string, string, bool) {
	x, ok := e.(*filter.AttributeExpression)
	if !ok || !strings.EqualFold(string(x.Operator), "eq") || x.AttributePath.SubAttribute != nil {
		return "", "", false
	}
	s, ok := x.CompareValue.(string)
	return x.AttributePath.AttributeName, s, ok
}

func setOrDelete(m map[string]any, name, kind string, value any) {
	k := keyOf(m, name)
	if kind == "remove" {
		delete(m, k)
		return
	}
	m[k] = value
}

// containsValue reports whether list holds v, comparing complex values by
// their "value" sub-attribute when both have one.
func containsValue(list []any, v any) bool {
	for _, x := range list {
		if sameValue(x, v) {
			return true
		}
	}
	return false
}

func sameValue(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		av, bv := am[keyOf(am, "value")], bm[keyOf(bm, "value")]
		if av != nil && bv != nil {
			return reflect.DeepEqual(av, bv)
		}
	}
	return reflect.DeepEqual(a, b)
}

func without(list, drop []any) []any {
	out := []any{}
	for _, x := range list {
		if !containsValue(drop, x) {
			out = append(out, x)
		}
	}
	return out
}
