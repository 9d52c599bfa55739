package scim

import (
	"fmt"
	"strings"
	"time"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/seatkeeper/seatkeeper"
)

// MaxFilter bounds the length of a filter or a path.
const MaxFilter = 4096

// ParseFilter parses a filter (RFC 7644 §3.4.2.2). Whatever the input, a
// bad filter is an invalidFilter error, never a panic.
func ParseFilter(s string) (e filter.Expression, err error) {
	if len(s) > MaxFilter {
		return nil, Errorf(InvalidFilter, "the filter is longer than %d bytes", MaxFilter)
	}
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, Errorf(InvalidFilter, "cannot parse the filter %q", s)
		}
	}()
	e, perr := filter.ParseFilter([]byte(s))
	if perr != nil {
		return nil, Errorf(InvalidFilter, "cannot parse the filter %q: %v", s, perr)
	}
	if err := check(e); err != nil {
		return nil, err
	}
	return e, nil
}

// check refuses what the grammar lets through but cannot be evaluated.
func check(e filter.Expression) error {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		op := filter.CompareOperator(strings.ToLower(string(x.Operator)))
		switch op {
		case filter.PR:
			return nil
		case filter.EQ, filter.NE, filter.CO, filter.SW, filter.EW, filter.GT, filter.GE, filter.LT, filter.LE:
		default:
			return Errorf(InvalidFilter, "unknown operator %q", x.Operator)
		}
		switch x.CompareValue.(type) {
		case string, bool, float64, int, nil:
		default:
			return Errorf(InvalidFilter, "cannot compare with %v", x.CompareValue)
		}
		if _, isBool := x.CompareValue.(bool); isBool && op != filter.EQ && op != filter.NE {
			return Errorf(InvalidFilter, "booleans compare only with eq and ne")
		}
		return nil
	case *filter.LogicalExpression:
		if err := check(x.Left); err != nil {
			return err
		}
		return check(x.Right)
	case *filter.NotExpression:
		return check(x.Expression)
	case *filter.ValuePath:
		return check(x.ValueFilter)
	case nil:
		return Errorf(InvalidFilter, "empty filter")
	}
	return Errorf(InvalidFilter, "unsupported filter %v", e)
}

// Match reports whether the resource satisfies the filter.
func (rt *ResourceType) Match(e filter.Expression, res Resource) bool {
	return rt.match(e, res, nil)
}

// match evaluates e on obj: the resource (subs nil) or one element of a
// multi-valued attribute, whose sub-attributes are subs.
func (rt *ResourceType) match(e filter.Expression, obj map[string]any, subs []Attribute) bool {
	switch x := e.(type) {
	case *filter.LogicalExpression:
		if strings.EqualFold(string(x.Operator), string(filter.OR)) {
			return rt.match(x.Left, obj, subs) || rt.match(x.Right, obj, subs)
		}
		return rt.match(x.Left, obj, subs) && rt.match(x.Right, obj, subs)
	case *filter.NotExpression:
		return !rt.match(x.Expression, obj, subs)
	case *filter.ValuePath:
		_, a := rt.lookup(x.AttributePath.URI(), x.AttributePath.AttributeName)
		if a == nil {
			return false
		}
		for _, el := range asList(rt.container(obj, x.AttributePath.URI())[keyOf(rt.container(obj, x.AttributePath.URI()), a.Name)]) {
			if m, ok := el.(map[string]any); ok && rt.match(x.ValueFilter, m, a.SubAttributes) {
				return true
			}
		}
		return false
	case *filter.AttributeExpression:
		values, exact := rt.values(obj, subs, x.AttributePath)
		op := filter.CompareOperator(strings.ToLower(string(x.Operator)))
		switch op {
		case filter.PR:
			for _, v := range values {
				if present(v) {
					return true
				}
			}
			return false
		case filter.NE:
			for _, v := range values {
				if compare(v, filter.EQ, x.CompareValue, exact) {
					return false
				}
			}
			return true
		}
		for _, v := range values {
			if compare(v, op, x.CompareValue, exact) {
				return true
			}
		}
	}
	return false
}

// container is the object holding the attributes of urn: the resource, or
// its extension object.
func (rt *ResourceType) container(obj map[string]any, urn string) map[string]any {
	if urn == "" || strings.EqualFold(urn, rt.Schema.ID) {
		return obj
	}
	m, _ := obj[keyOf(obj, urn)].(map[string]any)
	return m
}

// values collects the values a path names, and whether they compare
// case-exactly. A multi-valued complex attribute without a sub-attribute
// stands for the values of its elements (RFC 7644 §3.4.2.2).
func (rt *ResourceType) values(obj map[string]any, subs []Attribute, p filter.AttributePath) ([]any, bool) {
	var a *Attribute
	if subs != nil {
		a = find(subs, p.AttributeName)
	} else {
		_, a = rt.lookup(p.URI(), p.AttributeName)
		obj = rt.container(obj, p.URI())
	}
	if a == nil || obj == nil {
		return nil, false
	}
	v := obj[keyOf(obj, a.Name)]
	exact := a.CaseExact
	sub := p.SubAttributeName()
	if sub == "" && a.Type == "complex" && a.MultiValued {
		sub = "value"
	}
	if sub == "" {
		return asList(v), exact
	}
	if sa := a.Sub(sub); sa != nil {
		exact = sa.CaseExact
	}
	var out []any
	for _, el := range asList(v) {
		if m, ok := el.(map[string]any); ok {
			out = append(out, m[keyOf(m, sub)])
		}
	}
	return out, exact
}

func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

func present(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// keyOf returns the key of obj that equals name case-insensitively, or
// name itself.
func keyOf(obj map[string]any, name string) string {
	if _, ok := obj[name]; ok {
		return name
	}
	for k := range obj {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return name
}

func compare(v any, op filter.CompareOperator, want any, exact bool) bool {
	switch w := want.(type) {
	case nil:
		return op == filter.EQ && v == nil
	case bool:
		b, ok := boolOf(v)
		return ok && b == w
	case float64, int:
		f, ok := v.(float64)
		if !ok {
			return false
		}
		return order(op, cmpFloat(f, toFloat(w)))
	case string:
		s, ok := v.(string)
		if !ok {
			return false
		}
		if !exact { // as the store compares names (seatkeeper.NameKey)
			s, w = seatkeeper.NameKey(s), seatkeeper.NameKey(w)
		}
		switch op {
		case filter.EQ:
			return s == w
		case filter.CO:
			return strings.Contains(s, w)
		case filter.SW:
			return strings.HasPrefix(s, w)
		case filter.EW:
			return strings.HasSuffix(s, w)
		}
		if ts, err1 := time.Parse(time.RFC3339Nano, s); err1 == nil {
			if tw, err2 := time.Parse(time.RFC3339Nano, w); err2 == nil {
				return order(op, ts.Compare(tw))
			}
		}
		return order(op, strings.Compare(s, w))
	}
	return false
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func order(op filter.CompareOperator, c int) bool {
	switch op {
	case filter.EQ:
		return c == 0
	case filter.GT:
		return c > 0
	case filter.GE:
		return c >= 0
	case filter.LT:
		return c < 0
	case filter.LE:
		return c <= 0
	}
	return false
}

// boolOf reads a boolean, also from the strings "true" and "false" in any
// case, which some identity providers send (Entra ID's "False").
func boolOf(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		switch strings.ToLower(x) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

// Equality finds an equality on a string that every match satisfies: the
// filter itself, or a term of its top-level "and"s. It returns the
// attribute's lower-case path ("username", "emails.value", an extension
// attribute with its URN), the value, and whether the filter is exactly
// that equality. A store uses it to narrow the candidates by index.
func Equality(e filter.Expression) (path, value string, exact bool) {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		s, ok := x.CompareValue.(string)
		if !ok || !strings.EqualFold(string(x.Operator), "eq") {
			return "", "", false
		}
		p := strings.ToLower(x.AttributePath.AttributeName)
		if sub := x.AttributePath.SubAttributeName(); sub != "" {
			p += "." + strings.ToLower(sub)
		}
		if uri := x.AttributePath.URI(); uri != "" && !strings.EqualFold(uri, UserSchema) && !strings.EqualFold(uri, GroupSchema) {
			p = strings.ToLower(uri) + ":" + p
		}
		return p, s, true
	case *filter.LogicalExpression:
		if !strings.EqualFold(string(x.Operator), "and") {
			return "", "", false
		}
		if p, v, _ := Equality(x.Left); p != "" {
			return p, v, false
		}
		p, v, _ := Equality(x.Right)
		return p, v, false
	}
	return "", "", false
}

// String renders a filter, for messages.
func String(e filter.Expression) string { return fmt.Sprint(e) }
