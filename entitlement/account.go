package entitlement

import (
	"slices"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
)

// Account is the compiled, immutable decision context of one account.
type Account struct {
	cat  *catalog.Catalog
	subs map[int]Subscription // by license index

	subscribed      catalog.Bits // licenses with a subscription
	concurrent      catalog.Bits // licenses subscribed under the concurrent model
	accountWide     catalog.Bits // account-scope licenses subscribed and in force: every active user has them (R10)
	inForce         catalog.Bits // licenses whose subscription's term holds at the compilation's time
	at              time.Time    // when it was compiled
	validUntil      time.Time    // the next start or end of a term after it; zero: none
	plans           catalog.Bits // every plan of the catalog
	concurrentPlans catalog.Bits // plans subscribed under the concurrent model
	settingOff      catalog.Bits // features whose gating setting is off (R13)
	requires        []int        // per service: index of its required feature, or -1

	roles     []role
	roleIndex map[RoleRef]int
}

type role struct {
	ref      RoleRef
	service  int
	perms    catalog.Bits
	links    catalog.Bits
	isCustom bool
	name     string // "service:role"
}

// NewAccount compiles an account. It returns an *seatkeeper.Error with
// code invalid_request when a subscription or role names something the
// catalog does not have.
func NewAccount(cat *catalog.Catalog, in AccountInput) (*Account, error) {
	a := &Account{
		cat: cat, subs: map[int]Subscription{},
		subscribed: cat.LicenseBits(), concurrent: cat.LicenseBits(), inForce: cat.LicenseBits(),
		accountWide: cat.LicenseBits(), plans: cat.LicenseBits(),
		settingOff: cat.FeatureBits(), roleIndex: map[RoleRef]int{}, at: in.At,
	}
	for _, p := range cat.Plans() {
		a.plans.Set(p.Index)
	}
	for _, s := range in.Subscriptions {
		lic, ok := cat.License(s.License)
		if !ok {
			return nil, seatkeeper.Errorf(seatkeeper.EInvalid, "catalog %s has no license %q", cat.Name, s.License)
		}
		if s.Quantity <= 0 && s.Model != catalog.ModelConcurrent && !s.Commit {
			// Named seats, none of them: nothing to hold. A pool of no
			// quantity still has its members, unlimited (R2), and may
			// admit its overage allowance (R4); a commitment of none has
			// every seat uncommitted (R14).
			continue
		}
		a.subs[lic.Index] = s
		a.subscribed.Set(lic.Index)
		if s.Model == catalog.ModelConcurrent {
			a.concurrent.Set(lic.Index)
		}
		if s.inForce(in.At) {
			a.inForce.Set(lic.Index)
			if lic.Scope == catalog.ScopeAccount {
				a.accountWide.Set(lic.Index)
			}
		}
		for _, b := range []time.Time{s.StartsAt, s.EndsAt} {
			if b.After(in.At) && (a.validUntil.IsZero() || b.Before(a.validUntil)) {
				a.validUntil = b
			}
		}
	}
	a.concurrentPlans = a.plans.Clone()
	for i := range a.concurrentPlans {
		a.concurrentPlans[i] &= a.concurrent[i]
	}
	for _, f := range cat.Features {
		if f.Setting != "" && !in.Settings[f.Setting] {
			a.settingOff.Set(f.Index)
		}
	}
	for _, svc := range cat.Services {
		a.requires = append(a.requires, cat.FeatureIndex(svc.Requires))
		for _, r := range svc.Roles {
			a.addRole(RoleDef{Service: svc.Key, Name: r.Name, Permissions: r.Permissions, Licenses: r.Licenses}, false)
		}
	}
	for _, d := range in.Roles {
		if err := ValidateRole(cat, d); err != nil {
			return nil, err
		}
		a.addRole(d, true)
	}
	return a, nil
}

// ValidUntil is when a subscription's term next starts or ends after the
// time the account was compiled at: from then on it must be compiled
// again. Zero: never.
func (a *Account) ValidUntil() time.Time { return a.validUntil }

// Current says whether the compilation still holds at t.
func (a *Account) Current(t time.Time) bool {
	return a.validUntil.IsZero() || t.Before(a.validUntil)
}

// InForce says whether the account's subscription to license is within
// its term at t (false without a subscription).
func (a *Account) InForce(license string, t time.Time) bool {
	s, ok := a.subs[a.cat.LicenseIndex(license)]
	return ok && s.inForce(t)
}

// Catalog returns the catalog the account was compiled with.
func (a *Account) Catalog() *catalog.Catalog { return a.cat }

func (a *Account) addRole(d RoleDef, custom bool) {
	svc, _ := a.cat.Service(d.Service)
	r := role{
		ref: RoleRef{Service: d.Service, Role: d.Name}, service: svc.Index,
		perms: a.cat.PermissionBits(), links: a.cat.LicenseBits(),
		isCustom: custom, name: d.Service + ":" + d.Name,
	}
	for _, p := range d.Permissions {
		r.perms.Set(a.cat.PermissionIndex(p))
	}
	for _, l := range d.Licenses {
		r.links.Set(a.cat.LicenseIndex(l))
	}
	if i, ok := a.roleIndex[r.ref]; ok {
		r.isCustom = a.roles[i].isCustom // a redefined default role stays a default role
		a.roles[i] = r
		return
	}
	a.roleIndex[r.ref] = len(a.roles)
	a.roles = append(a.roles, r)
}

// ValidateRole checks a custom role definition against the catalog: the
// service exists, every permission belongs to that service (so no QM role
// can grant account.settings.edit, R13), every linked license is a user
// license, and at most one license of an exclusive group is linked (R16).
func ValidateRole(cat *catalog.Catalog, d RoleDef) error {
	svc, ok := cat.Service(d.Service)
	if !ok {
		return seatkeeper.Errorf(seatkeeper.EInvalid, "catalog %s has no service %q", cat.Name, d.Service)
	}
	var fields []seatkeeper.FieldError
	for _, p := range d.Permissions {
		if !slices.Contains(svc.Permissions, p) {
			fields = append(fields, seatkeeper.FieldError{Field: "permissions", Message: "service " + svc.Key + " has no permission " + p})
		}
	}
	groups := map[string]string{}
	plans := 0
	for _, l := range d.Licenses {
		lic, ok := cat.License(l)
		switch {
		case !ok:
			fields = append(fields, seatkeeper.FieldError{Field: "licenses", Message: "no license " + l})
			continue
		case lic.Scope != catalog.ScopeUser:
			fields = append(fields, seatkeeper.FieldError{Field: "licenses", Message: l + " has scope " + lic.Scope.String() + ": only user licenses can be linked to roles"})
		case lic.Kind == catalog.KindPlan:
			if plans++; plans > 1 {
				fields = append(fields, seatkeeper.FieldError{Field: "licenses", Message: "a role can link only one plan"})
			}
		}
		if g := lic.ExclusiveGroup; g != "" {
			if other, dup := groups[g]; dup {
				fields = append(fields, seatkeeper.FieldError{Field: "licenses", Message: "a role may link only one of " + other + " and " + l + " (group " + g + ")"})
			}
			groups[g] = l
		}
	}
	if len(fields) > 0 {
		return &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "role " + d.Service + ":" + d.Name + " is invalid", Fields: fields}
	}
	return nil
}

// IsDefaultRole reports whether the role is one of the catalog's default
// roles, which cannot be deleted (R11).
func (a *Account) IsDefaultRole(ref RoleRef) bool {
	i, ok := a.roleIndex[ref]
	return ok && !a.roles[i].isCustom
}

// HasRole reports whether the account has the role, default or custom.
func (a *Account) HasRole(ref RoleRef) bool {
	_, ok := a.roleIndex[ref]
	return ok
}

// RoleLicenses returns the licenses linked to a role (R15).
func (a *Account) RoleLicenses(ref RoleRef) []string {
	i, ok := a.roleIndex[ref]
	if !ok {
		return nil
	}
	return a.licenseKeys(a.roles[i].links)
}

func (a *Account) licenseKeys(b catalog.Bits) []string {
	var out []string
	b.Each(func(i int) { out = append(out, a.cat.Licenses[i].Key) })
	return out
}

// Subscription returns the account's subscription to a license.
func (a *Account) Subscription(license string) (Subscription, bool) {
	s, ok := a.subs[a.cat.LicenseIndex(license)]
	return s, ok
}
