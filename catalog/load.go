package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

var (
	featureKeyRe = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)
	identRe      = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	nameRe       = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)
	lineRe       = regexp.MustCompile(`^line (\d+): `)
	anchorRe     = regexp.MustCompile(`unknown anchor '([^']*)' referenced`)
	decimalRe    = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)
)

// ref is a key written in the catalog and where it was written, so that an
// unknown reference is reported at the reference, not at its owner.
type ref struct {
	key  string
	node *yaml.Node
}

type rawFeature struct {
	key, description string
	node             *yaml.Node
	setting          ref
}

type rawLicense struct {
	key, title, group, unit     string
	node                        *yaml.Node
	kind                        Kind
	scope                       Scope
	sale                        Sale
	models                      []Model
	grants, includes, requires  []ref
	coverage                    []ref
	max                         int
	storageGB                   map[Model]int
	storage, data, roleRequired bool
	fieldNodes                  map[string]*yaml.Node // key nodes of the fields, for positions
}

type rawPermission struct {
	key, description string
	node             *yaml.Node
}

type rawRole struct {
	name, description     string
	node                  *yaml.Node
	permissions, licenses []ref
}

type rawService struct {
	key, title        string
	node              *yaml.Node
	requires, defRole ref
	permissions       []rawPermission
	roles             []rawRole
	builtIn           bool
}

type rawCatalog struct {
	name, version, title string
	features             []rawFeature
	licenses             []rawLicense
	services             []rawService
}

type loader struct {
	file  string
	root  *yaml.Node
	probs Problems
}

// Load parses and checks a catalog file and compiles it. On failure the
// error is a Problems listing every problem found, each with the file name
// and the line and column it is at.
func Load(file string, data []byte) (cat *Catalog, err error) {
	l := &loader{file: file}
	defer func() {
		// The YAML parser is third-party code fed arbitrary bytes; a panic
		// in it must still come out as a positioned problem.
		if r := recover(); r != nil {
			cat, err = nil, Problems{{File: file, Line: 1, Col: 1, Message: fmt.Sprintf("the YAML parser failed: %v", r)}}
		}
	}()
	raw := l.parse(data)
	if raw != nil {
		l.check(raw)
	}
	if len(l.probs) > 0 {
		slices.SortStableFunc(l.probs, func(a, b Problem) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Col - b.Col
		})
		return nil, l.probs
	}
	return compile(raw), nil
}

func (l *loader) errf(n *yaml.Node, format string, args ...any) {
	line, col := 1, 1
	if n == nil {
		n = l.root
	}
	if n != nil && n.Line > 0 {
		line, col = n.Line, max(n.Column, 1)
	}
	l.probs = append(l.probs, Problem{File: l.file, Line: line, Col: col, Message: fmt.Sprintf(format, args...)})
}

func (l *loader) parse(data []byte) *rawCatalog {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			l.errf(nil, "the file is empty: a catalog needs name, version, features and licenses")
		} else {
			l.yamlError(data, err)
		}
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		l.errf(&extra, "a catalog file holds one YAML document; remove this second one")
	} else if !errors.Is(err, io.EOF) {
		l.yamlError(data, err)
	}
	if len(doc.Content) == 0 {
		l.errf(nil, "the file is empty: a catalog needs name, version, features and licenses")
		return nil
	}
	l.root = doc.Content[0]
	if !l.noAliases(l.root) {
		return nil
	}
	if l.root.Kind != yaml.MappingNode {
		l.errf(l.root, "a catalog must be a mapping with name, version, features and licenses")
		return nil
	}
	raw := &rawCatalog{}
	seen := map[string]bool{}
	l.each(l.root, "the catalog", func(k, v *yaml.Node) {
		seen[k.Value] = true
		switch k.Value {
		case "name":
			raw.name = l.word(v, "name")
			if raw.name != "" && !nameRe.MatchString(raw.name) {
				l.errf(v, "name %q must be lower-case letters, digits, '-' and '_', starting with a letter", raw.name)
			}
		case "version":
			raw.version = l.word(v, "version")
		case "title":
			raw.title = l.text(v, "title")
		case "features":
			l.each(v, "features", func(k, v *yaml.Node) { raw.features = append(raw.features, l.feature(k, v)) })
		case "licenses":
			l.each(v, "licenses", func(k, v *yaml.Node) { raw.licenses = append(raw.licenses, l.license(k, v)) })
		case "services":
			l.each(v, "services", func(k, v *yaml.Node) { raw.services = append(raw.services, l.service(k, v)) })
		default:
			l.errf(k, "unknown key %q: a catalog has name, version, title, features, licenses and services", k.Value)
		}
	})
	for _, key := range []string{"name", "version", "features", "licenses"} {
		if !seen[key] {
			l.errf(l.root, "the catalog has no %q", key)
		}
	}
	return raw
}

func (l *loader) yamlError(data []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line, col := 1, 1
	if m := lineRe.FindStringSubmatch(msg); m != nil {
		msg = msg[len(m[0]):]
		if n, err := strconv.Atoi(m[1]); err == nil && n > 0 {
			line = n
		}
		// For parser (not scanner) errors yaml.v3 reports the zero-based
		// line of the enclosing construct: one less than where it starts.
		if parserProblem(msg) {
			line++
		}
	}
	if m := anchorRe.FindStringSubmatch(msg); m != nil {
		if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
			line = bytes.Count(data[:i], []byte("\n")) + 1
			col = i - bytes.LastIndexByte(data[:i], '\n')
		}
	}
	msg = strings.Join(strings.Fields(msg), " ")
	l.probs = append(l.probs, Problem{File: l.file, Line: line, Col: col, Message: "invalid YAML: " + msg})
}

// parserProblem reports whether a yaml.v3 message comes from its parser,
// whose positions need the adjustment above, rather than its scanner.
func parserProblem(msg string) bool {
	for _, p := range []string{"did not find expected key", "did not find expected node content",
		"did not find expected ',' or ']'", "did not find expected ',' or '}'",
		"did not find expected '-' indicator", "did not find expected <document start>"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// noAliases refuses anchors' aliases and merge keys: a catalog is small, and
// aliases would let a tiny file expand without bound.
func (l *loader) noAliases(n *yaml.Node) bool {
	ok := true
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.AliasNode {
			l.errf(n, "YAML aliases are not supported in a catalog; write the value out")
			ok = false
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return ok
}

// each calls fn for every key and value of a mapping, reporting values that
// are not mappings, keys that are not plain strings, and duplicate keys.
func (l *loader) each(n *yaml.Node, what string, fn func(k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return // an empty section
		}
		l.errf(n, "%s must be a mapping of keys to values", what)
		return
	}
	first := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag == "!!null" || k.Tag == "!!merge" || strings.ContainsFunc(k.Value, unicode.IsControl) {
			l.errf(k, "keys in %s must be plain words", what)
			continue
		}
		if prev, dup := first[k.Value]; dup {
			l.errf(k, "duplicate key %q in %s (first at line %d)", k.Value, what, prev.Line)
			continue
		}
		first[k.Value] = k
		fn(k, v)
	}
}

func (l *loader) scalar(n *yaml.Node, what string) bool {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		l.errf(n, "%s must be a single value", what)
		return false
	}
	return true
}

func (l *loader) text(n *yaml.Node, what string) string {
	if !l.scalar(n, what) {
		return ""
	}
	return n.Value
}

// word is text that must not be empty: a name or a reference.
func (l *loader) word(n *yaml.Node, what string) string {
	s := l.text(n, what)
	if s == "" && n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		l.errf(n, "%s must not be empty", what)
	}
	return s
}

func (l *loader) ident(n *yaml.Node, what string) string {
	s := l.word(n, what)
	if s != "" && !identRe.MatchString(s) {
		l.errf(n, "%s %q must be lower-case letters, digits and underscores, starting with a letter", what, s)
	}
	return s
}

func (l *loader) boolean(n *yaml.Node, what string) bool {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		l.errf(n, "%s must be true or false", what)
		return false
	}
	return b
}

func (l *loader) integer(n *yaml.Node, what string, lo, hi int) int {
	if n.Kind != yaml.ScalarNode {
		l.errf(n, "%s must be a whole number from %d to %d", what, lo, hi)
		return 0
	}
	// Plain decimals only: YAML would read 017 as octal and 0x10 as hex.
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if n.Tag != "!!int" || !decimalRe.MatchString(n.Value) || err != nil || v < int64(lo) || v > int64(hi) {
		l.errf(n, "%s must be a whole number from %d to %d, not %s", what, lo, hi, n.Value)
		return 0
	}
	return int(v)
}

func enum[T any](l *loader, n *yaml.Node, what string, names map[string]T, order string) (T, bool) {
	var zero T
	if !l.scalar(n, what) {
		return zero, false
	}
	v, ok := names[n.Value]
	if !ok {
		l.errf(n, "%s must be one of %s, not %q", what, order, n.Value)
	}
	return v, ok
}

func (l *loader) refs(n *yaml.Node, what string) []ref {
	if n.Kind != yaml.SequenceNode {
		l.errf(n, "%s must be a list, like [a, b]", what)
		return nil
	}
	var out []ref
	seen := map[string]bool{}
	for _, c := range n.Content {
		if !l.scalar(c, "an entry of "+what) {
			continue
		}
		if seen[c.Value] {
			l.errf(c, "%q is listed twice in %s", c.Value, what)
			continue
		}
		seen[c.Value] = true
		out = append(out, ref{key: c.Value, node: c})
	}
	return out
}

func (l *loader) feature(k, v *yaml.Node) rawFeature {
	f := rawFeature{key: k.Value, node: k}
	if !featureKeyRe.MatchString(f.key) {
		l.errf(k, "feature key %q must be dot-separated lower-case words, like qm.evaluations", f.key)
	}
	if v.Kind == yaml.ScalarNode {
		f.description = l.text(v, "the description of feature "+f.key)
		return f
	}
	l.each(v, "feature "+f.key, func(fk, fv *yaml.Node) {
		switch fk.Value {
		case "description":
			f.description = l.text(fv, "description")
		case "setting":
			f.setting = ref{key: l.word(fv, "setting"), node: fv}
		default:
			l.errf(fk, "unknown key %q in feature %s: a feature has description and setting", fk.Value, f.key)
		}
	})
	return f
}

func (l *loader) license(k, v *yaml.Node) rawLicense {
	lic := rawLicense{key: k.Value, node: k, fieldNodes: map[string]*yaml.Node{}}
	if !identRe.MatchString(lic.key) {
		l.errf(k, "license key %q must be lower-case letters, digits and underscores, starting with a letter", lic.key)
	}
	what := "license " + lic.key
	l.each(v, what, func(fk, fv *yaml.Node) {
		lic.fieldNodes[fk.Value] = fk
		switch fk.Value {
		case "title":
			lic.title = l.text(fv, "title")
		case "kind":
			lic.kind, _ = enum(l, fv, "kind", kindNames, "plan, addon or type")
		case "scope":
			lic.scope, _ = enum(l, fv, "scope", scopeNames, "user, account or quantity")
		case "sale":
			lic.sale, _ = enum(l, fv, "sale", saleNames, "active, not_for_sale or retired")
		case "models":
			for _, r := range l.refs(fv, "models") {
				if m, ok := enum(l, r.node, "a model", modelNames, "named or concurrent"); ok {
					lic.models = append(lic.models, m)
				}
			}
		case "grants":
			lic.grants = l.refs(fv, "grants")
		case "includes":
			lic.includes = l.refs(fv, "includes")
		case "requires_one_of":
			lic.requires = l.refs(fv, "requires_one_of")
		case "coverage":
			lic.coverage = l.refs(fv, "coverage")
		case "exclusive_group":
			lic.group = l.ident(fv, "exclusive_group")
		case "max_per_account":
			lic.max = l.integer(fv, "max_per_account", 1, 1_000_000)
		case "storage_gb":
			lic.storageGB = map[Model]int{}
			l.each(fv, "storage_gb", func(mk, mv *yaml.Node) {
				m, ok := enum(l, mk, "a storage_gb key", modelNames, "named or concurrent")
				if n := l.integer(mv, "storage_gb."+mk.Value, 0, 1_000_000); ok {
					lic.storageGB[m] = n
				}
			})
		case "storage":
			lic.storage = l.boolean(fv, "storage")
		case "data":
			lic.data = l.boolean(fv, "data")
		case "role_required":
			lic.roleRequired = l.boolean(fv, "role_required")
		case "unit":
			lic.unit = l.text(fv, "unit")
		default:
			l.errf(fk, "unknown key %q in %s", fk.Value, what)
		}
	})
	if (v.Kind == yaml.MappingNode || v.Tag == "!!null") && lic.fieldNodes["kind"] == nil {
		l.errf(k, "%s has no kind (plan, addon or type)", what)
	}
	return lic
}

func (l *loader) service(k, v *yaml.Node) rawService {
	s := rawService{key: k.Value, node: k}
	if !identRe.MatchString(s.key) {
		l.errf(k, "service key %q must be lower-case letters, digits and underscores, starting with a letter", s.key)
	}
	if s.key == "account" {
		l.errf(k, "service account is built in: its roles owner, admin and member exist in every catalog")
	}
	what := "service " + s.key
	l.each(v, what, func(fk, fv *yaml.Node) {
		switch fk.Value {
		case "title":
			s.title = l.text(fv, "title")
		case "requires":
			s.requires = ref{key: l.word(fv, "requires"), node: fv}
		case "default_role":
			s.defRole = ref{key: l.word(fv, "default_role"), node: fv}
		case "permissions":
			l.each(fv, "permissions of "+what, func(pk, pv *yaml.Node) {
				s.permissions = append(s.permissions, rawPermission{key: pk.Value, node: pk, description: l.text(pv, "the description of permission "+pk.Value)})
			})
		case "roles":
			l.each(fv, "roles of "+what, func(rk, rv *yaml.Node) { s.roles = append(s.roles, l.role(what, rk, rv)) })
		default:
			l.errf(fk, "unknown key %q in %s: a service has title, requires, default_role, permissions and roles", fk.Value, what)
		}
	})
	return s
}

func (l *loader) role(service string, k, v *yaml.Node) rawRole {
	r := rawRole{name: k.Value, node: k}
	if !identRe.MatchString(r.name) {
		l.errf(k, "role name %q must be lower-case letters, digits and underscores, starting with a letter", r.name)
	}
	l.each(v, "role "+r.name+" of "+service, func(fk, fv *yaml.Node) {
		switch fk.Value {
		case "description":
			r.description = l.text(fv, "description")
		case "permissions":
			r.permissions = l.refs(fv, "permissions")
		case "licenses":
			r.licenses = l.refs(fv, "licenses")
		default:
			l.errf(fk, "unknown key %q in role %s: a role has description, permissions and licenses", fk.Value, r.name)
		}
	})
	return r
}
