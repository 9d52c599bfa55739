package entitlement

// noVia is returned for refusals so that Via is always a JSON list.
var noVia = []string{}

// Check decides whether the user may use a feature. signedIn says whether
// the user has a live presence (R5); it matters for features that come
// from a concurrent subscription (R4). The order of refusals: inactive,
// no license, setting off (R13), not signed in.
func (e *Entitlements) Check(feature string, signedIn bool) Decision {
	d := Decision{Feature: feature, Via: noVia}
	if !e.active {
		d.Code = UserInactive
		return d
	}
	i := e.acct.cat.FeatureIndex(feature)
	if i < 0 || !e.features.Has(i) {
		d.Code = NoLicense
		return d
	}
	d.Via = e.via[i]
	switch {
	case e.acct.settingOff.Has(i):
		d.Code = SettingDisabled
	case !signedIn && !e.offline.Has(i):
		d.Code = NotSignedIn
	default:
		d.Allowed, d.Code = true, OK
	}
	return d
}

// Permission decides whether the user may do something. A permission of a
// service that requires a feature (QM requires qm) applies only while the
// user is entitled to that feature; then one of the user's roles of that
// service must grant it (R11). Account roles and service roles are
// independent: only account roles grant account permissions (R13).
func (e *Entitlements) Permission(permission string, signedIn bool) Decision {
	d := Decision{Permission: permission, Via: noVia}
	if !e.active {
		d.Code = UserInactive
		return d
	}
	cat := e.acct.cat
	p := cat.PermissionIndex(permission)
	if p < 0 {
		d.Code = PermissionDenied
		return d
	}
	if fi := e.acct.requires[cat.Permissions[p].Service]; fi >= 0 {
		gate := e.Check(cat.Features[fi].Key, signedIn)
		if !gate.Allowed {
			d.Code = gate.Code
			return d
		}
		d.Via = gate.Via
	}
	if !e.perms.Has(p) {
		d.Code = PermissionDenied
		return d
	}
	d.Allowed, d.Code, d.Roles = true, OK, e.permVia[p]
	d.Scope = ScopeAll
	if e.scopeOwn {
		d.Scope = ScopeOwn
	}
	return d
}

// Access is everything a user may use and do.
type Access struct {
	Active      bool              `json:"active"`
	SignedIn    bool              `json:"signed_in"`
	Licenses    []string          `json:"licenses"`
	Roles       []RoleRef         `json:"roles"`
	Scope       string            `json:"scope"`
	Features    []FeatureGrant    `json:"features"`
	Permissions []PermissionGrant `json:"permissions"`
}

// FeatureGrant is one entitled feature and the licenses that grant it.
type FeatureGrant struct {
	Feature string   `json:"feature"`
	Via     []string `json:"via"`
}

// PermissionGrant is one permission and the roles that grant it.
type PermissionGrant struct {
	Permission string   `json:"permission"`
	Roles      []string `json:"roles"`
}

// Access lists every feature and permission the user is entitled to now.
// It is worked out once per compiled holding and presence state; the
// slices of the result are shared and must not be modified.
func (e *Entitlements) Access(signedIn bool) Access {
	i := 0
	if signedIn {
		i = 1
	}
	e.accessOnce[i].Do(func() { e.access[i] = e.buildAccess(signedIn) })
	return e.access[i]
}

func (e *Entitlements) buildAccess(signedIn bool) Access {
	a := e.acct
	out := Access{
		Active: e.active, SignedIn: signedIn, Scope: ScopeAll,
		Licenses:    make([]string, 0, e.roots.Len()),
		Roles:       make([]RoleRef, 0, len(e.roles)),
		Features:    make([]FeatureGrant, 0, e.features.Len()),
		Permissions: make([]PermissionGrant, 0, e.perms.Len()),
	}
	e.roots.Each(func(i int) { out.Licenses = append(out.Licenses, a.cat.Licenses[i].Key) })
	if e.scopeOwn {
		out.Scope = ScopeOwn
	}
	if !e.active {
		return out
	}
	for _, ri := range e.roles {
		out.Roles = append(out.Roles, a.roles[ri].ref)
	}
	e.features.Each(func(i int) {
		if !a.settingOff.Has(i) && (signedIn || e.offline.Has(i)) {
			out.Features = append(out.Features, FeatureGrant{Feature: a.cat.Features[i].Key, Via: e.via[i]})
		}
	})
	e.perms.Each(func(p int) {
		if fi := a.requires[a.cat.Permissions[p].Service]; fi >= 0 {
			if !e.features.Has(fi) || a.settingOff.Has(fi) || !(signedIn || e.offline.Has(fi)) {
				return
			}
		}
		out.Permissions = append(out.Permissions, PermissionGrant{Permission: a.cat.Permissions[p].Key, Roles: e.permVia[p]})
	})
	return out
}

// Active reports whether the user is active (R3).
func (e *Entitlements) Active() bool { return e.active }

// Licenses returns the licenses the user holds (assigned, linked to their
// roles, or account-wide) that count, in catalog order.
func (e *Entitlements) Licenses() []string { return e.acct.licenseKeys(e.roots) }
