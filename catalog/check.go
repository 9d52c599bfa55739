package catalog

import (
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// check reports every reference and combination problem of a parsed
// catalog. It runs even when parsing found problems, so that one run of
// `seatkeeper catalog check` shows everything.
func (l *loader) check(raw *rawCatalog) {
	features := map[string]*rawFeature{}
	for i := range raw.features {
		f := &raw.features[i]
		features[f.key] = f
		if f.setting.node != nil && f.setting.key != "" && !slices.Contains(BoolSettings, f.setting.key) {
			l.errf(f.setting.node, "unknown setting %q: a feature can be gated on %s", f.setting.key, strings.Join(BoolSettings, ", "))
		}
	}
	licenses := map[string]*rawLicense{}
	for i := range raw.licenses {
		lic := &raw.licenses[i]
		licenses[lic.key] = lic
		if lic.scope == 0 {
			lic.scope = ScopeUser
		}
		if lic.sale == 0 {
			lic.sale = SaleActive
		}
		if len(lic.models) == 0 {
			lic.models = []Model{ModelNamed}
		}
	}
	for i := range raw.licenses {
		l.checkLicense(&raw.licenses[i], features, licenses)
	}
	l.checkCycles(raw.licenses, licenses)

	owner := map[string]string{} // permission key -> service key
	for _, s := range append([]rawService{accountService()}, raw.services...) {
		for _, p := range s.permissions {
			owner[p.key] = s.key
		}
	}
	for i := range raw.services {
		l.checkService(&raw.services[i], features, licenses, owner)
	}
}

func (l *loader) checkLicense(lic *rawLicense, features map[string]*rawFeature, licenses map[string]*rawLicense) {
	at := func(field string) *yaml.Node {
		if n := lic.fieldNodes[field]; n != nil {
			return n
		}
		return lic.node
	}
	if lic.kind == KindPlan && lic.scope != ScopeUser {
		l.errf(lic.fieldNodes["scope"], "license %s is a plan, and plans are held per user: scope must be user", lic.key)
	}
	if lic.scope != ScopeUser {
		if slices.Contains(lic.models, ModelConcurrent) {
			l.errf(at("models"), "license %s has scope %s, and only user licenses can be concurrent", lic.key, lic.scope)
		}
		if lic.max > 0 {
			l.errf(at("max_per_account"), "max_per_account counts user seats; license %s has scope %s", lic.key, lic.scope)
		}
		if len(lic.requires) > 0 {
			l.errf(at("requires_one_of"), "license %s has scope %s and is never held by a user, so it cannot require another license", lic.key, lic.scope)
		}
	}
	if lic.scope != ScopeQuantity {
		if lic.storage {
			l.errf(at("storage"), "storage marks a quantity license; license %s has scope %s", lic.key, lic.scope)
		}
		if lic.unit != "" {
			l.errf(at("unit"), "unit belongs to quantity licenses; license %s has scope %s", lic.key, lic.scope)
		}
	}
	if lic.scope == ScopeQuantity && len(lic.grants) > 0 {
		l.errf(at("grants"), "license %s counts a resource (scope quantity) and cannot grant features", lic.key)
	}
	for _, g := range lic.grants {
		if _, ok := features[g.key]; !ok {
			l.errf(g.node, "license %s grants unknown feature %q", lic.key, g.key)
		}
	}
	for _, inc := range lic.includes {
		target, ok := licenses[inc.key]
		switch {
		case !ok:
			l.errf(inc.node, "license %s includes unknown license %q", lic.key, inc.key)
		case target.kind == KindPlan && lic.kind != KindPlan:
			l.errf(inc.node, "license %s is not a plan and cannot include plan %s", lic.key, inc.key)
		}
	}
	for _, req := range lic.requires {
		target, ok := licenses[req.key]
		switch {
		case !ok:
			l.errf(req.node, "license %s requires unknown license %q", lic.key, req.key)
		case req.key == lic.key:
			l.errf(req.node, "license %s requires itself, so it could never be held", lic.key)
		case lic.kind == KindPlan && target.kind == KindPlan:
			l.errf(req.node, "plan %s requires plan %s, but a user holds only one plan", lic.key, req.key)
		case target.scope != ScopeUser:
			l.errf(req.node, "license %s requires %s, which has scope %s and is never held by a user", lic.key, req.key, target.scope)
		}
	}
	if len(lic.coverage) > 0 && (lic.kind != KindPlan || !slices.Contains(lic.models, ModelConcurrent)) {
		l.errf(at("coverage"), "coverage applies to plans sold as concurrent; license %s is not one", lic.key)
	}
	for _, c := range lic.coverage {
		if _, ok := licenses[c.key]; !ok {
			l.errf(c.node, "license %s lists unknown license %q in coverage", lic.key, c.key)
			continue
		}
		if !slices.ContainsFunc(lic.includes, func(r ref) bool { return r.key == c.key }) {
			l.errf(c.node, "coverage license %q must also be in the includes of %s", c.key, lic.key)
		}
	}
	if lic.storageGB != nil {
		if lic.kind != KindPlan {
			l.errf(at("storage_gb"), "storage_gb is storage per plan seat; license %s is not a plan", lic.key)
		}
		for m := range lic.storageGB {
			if !slices.Contains(lic.models, m) {
				l.errf(at("storage_gb"), "storage_gb of %s names model %s, which the license is not sold under", lic.key, m)
			}
		}
	}
}

// checkCycles reports every include cycle once, at the include that closes it.
func (l *loader) checkCycles(list []rawLicense, licenses map[string]*rawLicense) {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var visit func(lic *rawLicense, path []string)
	visit = func(lic *rawLicense, path []string) {
		color[lic.key] = grey
		path = append(path, lic.key)
		for _, inc := range lic.includes {
			next, ok := licenses[inc.key]
			if !ok {
				continue
			}
			switch color[next.key] {
			case grey:
				start := slices.Index(path, next.key)
				cycle := append(slices.Clone(path[start:]), next.key)
				l.errf(inc.node, "include cycle: %s", strings.Join(cycle, " → "))
			case white:
				visit(next, path)
			}
		}
		color[lic.key] = black
	}
	for i := range list {
		if color[list[i].key] == white {
			visit(&list[i], nil)
		}
	}
}

func (l *loader) checkService(s *rawService, features map[string]*rawFeature, licenses map[string]*rawLicense, owner map[string]string) {
	if s.requires.node != nil && s.requires.key != "" {
		if _, ok := features[s.requires.key]; !ok {
			l.errf(s.requires.node, "service %s requires unknown feature %q", s.key, s.requires.key)
		}
	}
	if s.defRole.node != nil && s.defRole.key != "" {
		if !slices.ContainsFunc(s.roles, func(r rawRole) bool { return r.name == s.defRole.key }) {
			l.errf(s.defRole.node, "default_role %q is not a role of service %s", s.defRole.key, s.key)
		}
		if s.requires.key == "" {
			l.errf(s.defRole.node, "service %s has a default_role but no requires: the default role is given to users entitled to the required feature", s.key)
		}
	}
	for _, p := range s.permissions {
		if !featureKeyRe.MatchString(p.key) || !strings.HasPrefix(p.key, s.key+".") {
			l.errf(p.node, "permission %q of service %s must start with %q and be dot-separated lower-case words", p.key, s.key, s.key+".")
		}
		if _, ok := features[p.key]; ok {
			l.errf(p.node, "%q is both a feature and a permission; give them different keys", p.key)
		}
	}
	for _, r := range s.roles {
		for _, p := range r.permissions {
			switch o, ok := owner[p.key]; {
			case !ok:
				l.errf(p.node, "role %s of service %s grants unknown permission %q", r.name, s.key, p.key)
			case o != s.key:
				l.errf(p.node, "permission %q belongs to service %s; a role of service %s cannot grant it", p.key, o, s.key)
			}
		}
		groups := map[string]string{}
		plans := 0
		for _, lr := range r.licenses {
			lic, ok := licenses[lr.key]
			if !ok {
				l.errf(lr.node, "role %s of service %s links unknown license %q", r.name, s.key, lr.key)
				continue
			}
			if lic.scope != ScopeUser {
				l.errf(lr.node, "role %s links license %s, which has scope %s: only user licenses can be linked to roles", r.name, lic.key, lic.scope)
			}
			if lic.kind == KindPlan {
				if plans++; plans > 1 {
					l.errf(lr.node, "role %s links two plans, but a user holds only one plan", r.name)
				}
			}
			if lic.group != "" {
				if other, dup := groups[lic.group]; dup {
					l.errf(lr.node, "role %s links %s and %s, but a role may link only one license of group %s", r.name, other, lic.key, lic.group)
				}
				groups[lic.group] = lic.key
			}
		}
	}
}
