package entitlement

import (
	"sync"

	"github.com/seatkeeper/seatkeeper/catalog"
)

// Entitlements is the compiled access of one user in one account. It is
// immutable; decisions on it do not allocate.
type Entitlements struct {
	acct   *Account
	active bool

	roots         catalog.Bits // licenses the user holds: assigned, role-linked, account-wide
	features      catalog.Bits // entitled while signed in
	offline       catalog.Bits // entitled without a live presence
	perms         catalog.Bits // permissions of the user's effective roles
	via           [][]string   // per feature: the roots that grant it
	permVia       [][]string   // per permission: the roles that grant it
	roles         []int        // effective roles, explicit then defaults
	explicitRoles []RoleRef

	accessOnce [2]sync.Once
	access     [2]Access
	scopeOwn   bool
}

// Compile works out what a user holds and may use. Licenses the user holds
// count only if the account subscribes to them, except coverage licenses of
// a concurrent plan the user holds (R9), which draw on the plan's pool.
func (a *Account) Compile(h Holding) *Entitlements {
	cat := a.cat
	e := &Entitlements{acct: a, active: h.Active, explicitRoles: h.Roles}
	if !h.Active {
		return e // R3: inactive users hold nothing
	}

	// The roles the user holds, and the licenses they link (R15).
	held := cat.LicenseBits()
	for _, r := range h.Roles {
		if i, ok := a.roleIndex[r]; ok {
			e.roles = append(e.roles, i)
			held.Or(a.roles[i].links)
		}
	}
	for _, l := range h.Licenses {
		if i := cat.LicenseIndex(l); i >= 0 && cat.Licenses[i].Scope == catalog.ScopeUser {
			held.Set(i)
		}
	}
	roots := held.Clone()
	// Only what the account bought counts…
	for i := range roots {
		roots[i] &= a.inForce[i]
	}
	// …plus coverage licenses under a concurrent plan held (R9).
	held.Each(func(i int) {
		if a.plans.Has(i) && a.concurrent.Has(i) && roots.Has(i) {
			cover := cat.Licenses[i].CoverageSet.Clone()
			for w := range cover {
				cover[w] &= held[w]
			}
			roots.Or(cover)
		}
	})
	roots.Or(a.accountWide)

	// R2: in a catalog with plans, no plan means no part of the service.
	if cat.HasPlans() && !roots.Intersects(a.plans) {
		roots = cat.LicenseBits()
	}
	e.roots = roots

	// Expand includes, per root; a concurrent plan leaves its coverage
	// licenses out (R9).
	closures := make([]catalog.Bits, len(cat.Licenses))
	expanded := cat.LicenseBits()
	roots.Each(func(i int) {
		lic := &cat.Licenses[i]
		c := lic.Closure
		if a.concurrent.Has(i) {
			c = lic.ClosureCover
		}
		closures[i] = c
		expanded.Or(c)
	})
	// A license whose requires_one_of is unmet grants nothing (R16). Drop
	// such licenses until what remains is consistent.
	for changed := true; changed; {
		changed = false
		expanded.Each(func(i int) {
			req := cat.Licenses[i].RequiresSet
			if !req.Empty() && !expanded.Intersects(req) {
				expanded.Clear(i)
				changed = true
			}
		})
	}

	e.features = cat.FeatureBits()
	e.offline = cat.FeatureBits()
	planConcurrent := roots.Intersects(a.concurrentPlans)
	rootFeatures := make([]catalog.Bits, len(cat.Licenses))
	roots.Each(func(i int) {
		f := cat.FeatureBits()
		closures[i].Each(func(j int) {
			if expanded.Has(j) {
				f.Or(cat.Licenses[j].GrantSet)
			}
		})
		rootFeatures[i] = f
		e.features.Or(f)
		// R4: under a concurrent plan every feature needs a live presence,
		// since the plan itself does; otherwise only what a concurrent
		// subscription grants does.
		if !planConcurrent && !a.concurrent.Has(i) {
			e.offline.Or(f)
		}
	})
	e.via = a.buildVia(e.features, roots, rootFeatures)

	// Effective roles: a service's default role for users entitled to the
	// service who hold none of its roles (R11).
	for si, svc := range cat.Services {
		fi := a.requires[si]
		if svc.DefaultRole == "" || fi < 0 || !e.features.Has(fi) {
			continue
		}
		hasOne := false
		for _, ri := range e.roles {
			hasOne = hasOne || a.roles[ri].service == si
		}
		if !hasOne {
			e.roles = append(e.roles, a.roleIndex[RoleRef{Service: svc.Key, Role: svc.DefaultRole}])
		}
	}
	e.perms = cat.PermissionBits()
	e.permVia = make([][]string, len(cat.Permissions))
	for _, ri := range e.roles {
		r := &a.roles[ri]
		// A role linked to licenses gives its permissions only to a user
		// who really holds them: a link to a license the account does not
		// subscribe gives nothing (R15).
		if !subset(r.links, roots) {
			continue
		}
		e.perms.Or(r.perms)
		r.perms.Each(func(p int) { e.permVia[p] = append(e.permVia[p], r.name) })
	}

	// R16: users whose only licenses are data licenses see only their own data.
	own, some := true, false
	roots.Each(func(i int) {
		if cat.Licenses[i].Scope == catalog.ScopeUser {
			some = true
			own = own && cat.Licenses[i].Data
		}
	})
	e.scopeOwn = some && own
	return e
}

// buildVia lists, for every granted feature, the roots that grant it. Most
// features share the same few root sets, so equal lists share one slice.
func (a *Account) buildVia(features, roots catalog.Bits, rootFeatures []catalog.Bits) [][]string {
	via := make([][]string, len(a.cat.Features))
	shared := map[string][]string{}
	var key []byte
	features.Each(func(f int) {
		key = key[:0]
		roots.Each(func(r int) {
			if rootFeatures[r].Has(f) {
				key = append(key, byte(r), byte(r>>8))
			}
		})
		list, ok := shared[string(key)]
		if !ok {
			roots.Each(func(r int) {
				if rootFeatures[r].Has(f) {
					list = append(list, a.cat.Licenses[r].Key)
				}
			})
			shared[string(key)] = list
		}
		via[f] = list
	})
	return via
}

func subset(a, b catalog.Bits) bool {
	for i := range a {
		if a[i]&^b[i] != 0 {
			return false
		}
	}
	return true
}
