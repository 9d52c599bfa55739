package entitlement

import (
	"strings"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
)

// CanSubscribe checks a new or changed subscription against the catalog:
// the license exists and is for sale (R16), the model is one it is sold
// under, and max_per_account holds (R16). existing says the account already
// subscribes to it: a retired license keeps working for those who have it.
func CanSubscribe(cat *catalog.Catalog, s Subscription, existing bool) error {
	lic, ok := cat.License(s.License)
	if !ok {
		return seatkeeper.Errorf(seatkeeper.ENotFound, "catalog %s has no license %q", cat.Name, s.License)
	}
	switch {
	case lic.Sale == catalog.SaleNotForSale:
		return seatkeeper.Errorf(seatkeeper.ENotForSale, "%s is not for sale", lic.Key)
	case lic.Sale == catalog.SaleRetired && !existing:
		return seatkeeper.Errorf(seatkeeper.ERetired, "%s is retired: no new subscriptions", lic.Key)
	case !lic.HasModel(s.Model):
		return &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: lic.Key + " is not sold as " + s.Model.String(),
			Fields: []seatkeeper.FieldError{{Field: "model", Message: "must be one of " + modelList(lic.Models)}}}
	case lic.MaxPerAccount > 0 && s.Quantity > lic.MaxPerAccount:
		return seatkeeper.Errorf(seatkeeper.EMaxPerAccount, "an account may have at most %d %s seats", lic.MaxPerAccount, lic.Key)
	}
	return nil
}

func modelList(ms []catalog.Model) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.String()
	}
	return strings.Join(names, ", ")
}

// CanAssign checks whether license may be assigned to a user with holding
// h, apart from the seat count, which the store checks atomically against
// Capacity. It returns the *seatkeeper.Error the API answers with:
// user_inactive (R3), license_not_for_sale or license_retired (R16),
// requirement_missing (R2, R16), conflict for a second plan or a second
// license of an exclusive group, seat_limit_reached when the account has no
// subscription to it, invalid_request for account-wide licenses (R10).
func (a *Account) CanAssign(h Holding, license string) error {
	cat := a.cat
	lic, ok := cat.License(license)
	switch {
	case !ok:
		return seatkeeper.Errorf(seatkeeper.ENotFound, "catalog %s has no license %q", cat.Name, license)
	case !h.Active:
		return seatkeeper.Errorf(seatkeeper.EUserInactive, "the user is inactive and cannot be assigned licenses")
	case lic.Scope != catalog.ScopeUser:
		return seatkeeper.Errorf(seatkeeper.EInvalid, "%s is an account-wide license (scope %s) and is never assigned per user", lic.Key, lic.Scope)
	case lic.Sale == catalog.SaleNotForSale:
		return seatkeeper.Errorf(seatkeeper.ENotForSale, "%s is not for sale", lic.Key)
	case lic.Sale == catalog.SaleRetired:
		return seatkeeper.Errorf(seatkeeper.ERetired, "%s is retired: no new assignments", lic.Key)
	}
	held := a.heldClosure(h)
	for _, l := range h.Licenses {
		other, ok := cat.License(l)
		if !ok || other.Key == lic.Key {
			continue
		}
		if lic.Kind == catalog.KindPlan && other.Kind == catalog.KindPlan {
			return seatkeeper.Errorf(seatkeeper.EConflict, "the user already holds plan %s; unassign it before assigning %s", other.Key, lic.Key)
		}
	}
	// An exclusive group's licenses exclude each other however they are
	// held: directly or through roles (R15, R16).
	for _, l := range a.Seats(h) {
		other, ok := cat.License(l)
		if !ok || other.Key == lic.Key {
			continue
		}
		if lic.ExclusiveGroup != "" && other.ExclusiveGroup == lic.ExclusiveGroup {
			return seatkeeper.Errorf(seatkeeper.EConflict, "the user already holds %s; %s and %s exclude each other", other.Key, other.Key, lic.Key)
		}
	}
	if cat.HasPlans() && lic.Kind != catalog.KindPlan && !held.Intersects(a.plans) {
		return seatkeeper.Errorf(seatkeeper.ERequirementMissing, "%s needs a plan: assign one of %s first", lic.Key, strings.Join(a.licenseKeys(a.plans), ", "))
	}
	if !lic.RequiresSet.Empty() && !held.Intersects(lic.RequiresSet) {
		return seatkeeper.Errorf(seatkeeper.ERequirementMissing, "%s requires one of %s", lic.Key, strings.Join(lic.RequiresOneOf, ", "))
	}
	// Without a subscription of its own, a license can only be coverage
	// of a concurrent plan the user holds (R9).
	if p := a.coveringPlan(lic.Index); !a.subscribed.Has(lic.Index) && (p < 0 || !held.Has(p)) {
		return seatkeeper.Errorf(seatkeeper.ESeatLimit, "the account has no subscription to %s", lic.Key)
	}
	// A term that has ended takes no new seats: the license's own, or, for
	// coverage, its plan's. One still to come does (users are made ready
	// before it starts).
	by := lic.Index
	if !a.subscribed.Has(by) {
		by = a.coveringPlan(by)
	}
	if s, ok := a.subs[by]; ok && !s.EndsAt.IsZero() && !a.at.Before(s.EndsAt) {
		return seatkeeper.Errorf(seatkeeper.EConflict, "the subscription to %s ended at %s", a.cat.Licenses[by].Key, s.EndsAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// heldClosure is every license the user holds through assignments and
// roles that the account subscribes to, with everything they include.
func (a *Account) heldClosure(h Holding) catalog.Bits {
	out := a.cat.LicenseBits()
	add := func(i int) {
		if i >= 0 && a.subscribed.Has(i) {
			out.Or(a.cat.Licenses[i].Closure)
		}
	}
	for _, l := range h.Licenses {
		add(a.cat.LicenseIndex(l))
	}
	for _, r := range h.Roles {
		if ri, ok := a.roleIndex[r]; ok {
			a.roles[ri].links.Each(add)
		}
	}
	return out
}

// coveringPlan returns the index of a concurrent plan subscription whose
// coverage includes license i (R9), or -1.
func (a *Account) coveringPlan(i int) int {
	found := -1
	a.concurrentPlans.Each(func(p int) {
		if a.cat.Licenses[p].CoverageSet.Has(i) {
			found = p
		}
	})
	return found
}

// Capacity is the most users that may hold a license at once, and whether
// there is such a cap. Named hard subscriptions cap at their quantity (R1);
// concurrent plans have unlimited members (R2); commit subscriptions have
// no cap (R14). A coverage license of a concurrent plan caps at the plan's
// quantity plus the add-on's (R9). max_per_account caps too (R16).
func (a *Account) Capacity(license string) (limit int, capped bool) {
	limit, capped, _ = a.capacity(license)
	return limit, capped
}

// capacity is Capacity, and whether the catalog's max_per_account is what
// caps it, below what was bought.
func (a *Account) capacity(license string) (limit int, capped, byMax bool) {
	i := a.cat.LicenseIndex(license)
	if i < 0 {
		return 0, true, false
	}
	lic := &a.cat.Licenses[i]
	s, ok := a.subs[i]
	switch {
	case ok && s.Model == catalog.ModelConcurrent:
		return 0, false, false
	case ok && s.Commit:
		capped = false
	case ok:
		limit, capped = s.Quantity, true
	default:
		capped = true
	}
	if p := a.coveringPlan(i); p >= 0 && capped {
		limit += a.subs[p].Quantity
	}
	if lic.MaxPerAccount > 0 && (!capped || limit > lic.MaxPerAccount) {
		return lic.MaxPerAccount, true, true
	}
	return limit, capped, false
}

// Full is the refusal of a seat of a license whose seats are all taken:
// max_per_account_reached where the catalog's max_per_account caps what
// was bought (R16), seat_limit_reached otherwise (R1, R9), saying why.
func (a *Account) Full(license string) *seatkeeper.Error {
	limit, _, byMax := a.capacity(license)
	i := a.cat.LicenseIndex(license)
	switch {
	case byMax:
		return seatkeeper.Errorf(seatkeeper.EMaxPerAccount, "an account may have at most %d %s seats, and all are taken", limit, license)
	case i >= 0 && !a.subscribed.Has(i) && a.coveringPlan(i) < 0:
		return seatkeeper.Errorf(seatkeeper.ESeatLimit, "the account has no subscription to %s", license)
	}
	return seatkeeper.Errorf(seatkeeper.ESeatLimit, "every seat of %s is taken (%d)", license, limit)
}

// RequiredAddonSeats is R9's figure for a coverage license (qm, wfm) of a
// concurrent plan: max(0, pool members − plan quantity − add-on quantity).
// ok is false where R9 does not apply.
func (a *Account) RequiredAddonSeats(license string, members int) (n int, ok bool) {
	i := a.cat.LicenseIndex(license)
	if i < 0 {
		return 0, false
	}
	p := a.coveringPlan(i)
	if p < 0 {
		return 0, false
	}
	addon := 0
	if s, ok := a.subs[i]; ok {
		addon = s.Quantity
	}
	return max(0, members-a.subs[p].Quantity-addon), true
}

// StorageQuotaGB is the account's cloud storage: what it bought of the
// storage quantity license plus what each plan seat brings (R10).
func (a *Account) StorageQuotaGB() int {
	total := 0
	for i, s := range a.subs {
		lic := &a.cat.Licenses[i]
		if lic.Storage {
			total += s.Quantity
		}
		total += s.Quantity * lic.StorageGB[s.Model]
	}
	return total
}

// RoleProblems reports why the account's role configuration is invalid:
// a purchased license that must be linked to a role is linked to none (R16).
func (a *Account) RoleProblems() []string {
	var out []string
	a.subscribed.Each(func(i int) {
		lic := &a.cat.Licenses[i]
		if !lic.RoleRequired {
			return
		}
		for _, r := range a.roles {
			if r.links.Has(i) {
				return
			}
		}
		out = append(out, lic.Key+" is purchased but linked to no role")
	})
	return out
}

// Unmet lists the licenses a holding has directly whose requirements are
// not met: an add-on without a plan (R2) or a license without one of its
// requires_one_of (R16). A change that would leave any is refused.
func (a *Account) Unmet(h Holding) []string {
	held := a.heldClosure(h)
	var out []string
	for _, l := range h.Licenses {
		lic, ok := a.cat.License(l)
		if !ok || lic.Scope != catalog.ScopeUser {
			continue
		}
		if a.cat.HasPlans() && lic.Kind != catalog.KindPlan && !held.Intersects(a.plans) {
			out = append(out, l)
		} else if !lic.RequiresSet.Empty() && !held.Intersects(lic.RequiresSet) {
			out = append(out, l)
		}
	}
	return out
}

// Seats lists the user licenses whose seats a holding uses: those held
// directly and those linked to its roles (R15), none while inactive (R3).
// Included licenses use no seat of their own.
func (a *Account) Seats(h Holding) []string {
	return a.licenseKeys(a.seatBits(h))
}

// seatBits is Seats as a set.
func (a *Account) seatBits(h Holding) catalog.Bits {
	b := a.cat.LicenseBits()
	if !h.Active {
		return b
	}
	for _, l := range h.Licenses {
		if i := a.cat.LicenseIndex(l); i >= 0 && a.cat.Licenses[i].Scope == catalog.ScopeUser {
			b.Set(i)
		}
	}
	for _, r := range h.Roles {
		if ri, ok := a.roleIndex[r]; ok {
			b.Or(a.roles[ri].links)
		}
	}
	return b
}

// AddonSeats lists the coverage licenses among a holding's seats (QM and
// WFM under Elite, R9) that it holds with a plan that does not cover them:
// the seats only a purchased add-on can give. It depends on the catalog alone,
// like Seats, so that counting them never drifts when subscriptions change.
func (a *Account) AddonSeats(h Holding) []string {
	seats := a.seatBits(h)
	if !seats.Intersects(a.plans) {
		// Without a plan an add-on grants nothing (R2) and takes no add-on
		// seat: an identity provider that takes a user's plan away is
		// never refused for want of one.
		return nil
	}
	var out []string
	seats.Each(func(i int) {
		covered, coverable := false, false
		a.plans.Each(func(p int) {
			if a.cat.Licenses[p].CoverageSet.Has(i) {
				coverable = true
				covered = covered || seats.Has(p)
			}
		})
		if coverable && !covered {
			out = append(out, a.cat.Licenses[i].Key)
		}
	})
	return out
}

// Covers says whether plan is a plan of the catalog that covers license
// (R9).
func (a *Account) Covers(plan, license string) bool {
	p, l := a.cat.LicenseIndex(plan), a.cat.LicenseIndex(license)
	return p >= 0 && l >= 0 && a.plans.Has(p) && a.cat.Licenses[p].CoverageSet.Has(l)
}

// CoverageLicenses lists the catalog's licenses some plan covers (R9).
func (a *Account) CoverageLicenses() []string {
	b := a.cat.LicenseBits()
	a.plans.Each(func(p int) { b.Or(a.cat.Licenses[p].CoverageSet) })
	return a.licenseKeys(b)
}

// AddonCapacity caps the users who hold a coverage license without a plan
// that covers it (AddonSeats): while a concurrent plan's quantity covers
// the license (R9), those users draw on the add-on's own seats only — its
// quantity, no cap under a commitment, none without a subscription. Where
// no concurrent plan covers it, Capacity alone applies (capped is false).
func (a *Account) AddonCapacity(license string) (limit int, capped bool) {
	i := a.cat.LicenseIndex(license)
	if i < 0 || a.coveringPlan(i) < 0 {
		return 0, false
	}
	s, ok := a.subs[i]
	switch {
	case ok && s.Commit:
		return 0, false
	case ok:
		return s.Quantity, true
	}
	return 0, true
}

// AddonFull is the refusal of a coverage license to a user without a plan
// that covers it, once the add-on's own seats are taken (R9).
func (a *Account) AddonFull(license string) *seatkeeper.Error {
	limit, _ := a.AddonCapacity(license)
	i := a.cat.LicenseIndex(license)
	plan := ""
	if p := a.coveringPlan(i); p >= 0 {
		plan = a.cat.Licenses[p].Key
	}
	return seatkeeper.Errorf(seatkeeper.ESeatLimit, "every %s add-on seat is taken (%d): users without %s hold them; %s's concurrent quantity covers only its own users (R9)", license, limit, plan, plan)
}

// Roles lists the account's roles: the catalog's default roles (as the
// account may have redefined them) and its custom roles.
func (a *Account) Roles() []RoleDef {
	out := make([]RoleDef, 0, len(a.roles))
	for _, r := range a.roles {
		d := RoleDef{Service: r.ref.Service, Name: r.ref.Role, Licenses: a.licenseKeys(r.links)}
		r.perms.Each(func(p int) { d.Permissions = append(d.Permissions, a.cat.Permissions[p].Key) })
		out = append(out, d)
	}
	return out
}

// DefaultRoles returns, for a holding, the default roles it gets (R11):
// one per service the user is entitled to and holds no role of.
func (e *Entitlements) DefaultRoles() []RoleRef {
	var out []RoleRef
	for _, ri := range e.roles {
		r := e.acct.roles[ri].ref
		if !e.explicit(r) {
			out = append(out, r)
		}
	}
	return out
}

func (e *Entitlements) explicit(r RoleRef) bool {
	for _, x := range e.explicitRoles {
		if x == r {
			return true
		}
	}
	return false
}
