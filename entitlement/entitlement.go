// Package entitlement is the decision engine: from a compiled catalog, an
// account's subscriptions, settings and roles, and a user's holdings, it
// answers "may this user use this feature / do this?" (SPEC §4.3) and lists
// a user's whole access. It does no I/O. An Account is compiled once per
// change of the account; a user's Entitlements once per change of the user;
// a decision on compiled Entitlements is a map lookup and two bit tests.
package entitlement

import (
	"time"

	"github.com/seatkeeper/seatkeeper/catalog"
)

// Code is the reason given with a decision. A decision is a value, never an
// error: a refusal is Allowed false with one of these codes.
type Code string

// The decision codes (SPEC §4.3).
const (
	OK               Code = "ok"
	NoLicense        Code = "no_license"
	UserInactive     Code = "user_inactive"
	UserNotFound     Code = "user_not_found"
	NotSignedIn      Code = "not_signed_in"
	SettingDisabled  Code = "setting_disabled"
	PermissionDenied Code = "permission_denied"
)

// Permission scopes (R16): "own" when a user's only licenses are data
// licenses, who may then see only their own data.
const (
	ScopeAll = "all"
	ScopeOwn = "own"
)

// Decision answers one feature or permission question.
type Decision struct {
	Allowed    bool   `json:"allowed"`
	Code       Code   `json:"code"`
	Feature    string `json:"feature,omitempty"`
	Permission string `json:"permission,omitempty"`
	// Via lists the licenses the user holds that grant the feature (for a
	// permission: that grant the service it belongs to), in catalog order.
	Via []string `json:"via"`
	// Roles lists the roles ("service:role") that grant a permission.
	Roles []string `json:"roles,omitempty"`
	// Scope is set on permission decisions: ScopeAll or ScopeOwn.
	Scope string `json:"scope,omitempty"`
}

// Subscription is what an account bought of one license, as far as
// decisions care: the model and the quantity.
type Subscription struct {
	License  string
	Model    catalog.Model
	Quantity int
	// Commit marks enforcement commit: a minimum commitment with no cap (R14).
	Commit bool
	// The term: the subscription grants features from StartsAt until
	// EndsAt (zero: no end). Seats and caps do not depend on it.
	StartsAt, EndsAt time.Time
}

// inForce says whether the subscription's term holds at t.
func (s Subscription) inForce(t time.Time) bool {
	return !t.Before(s.StartsAt) && (s.EndsAt.IsZero() || t.Before(s.EndsAt))
}

// RoleRef names a role held by a user. Service "account" is for account roles.
type RoleRef struct {
	Service string `json:"service"`
	Role    string `json:"role"`
}

// RoleDef defines a custom role of an account, or replaces the permissions
// and license links of a default role of the same name (R11, R15).
type RoleDef struct {
	Service     string
	Name        string
	Permissions []string
	Licenses    []string
}

// AccountInput is everything about an account that decisions depend on.
type AccountInput struct {
	Subscriptions []Subscription
	// Settings holds the boolean account settings by key (catalog.BoolSettings);
	// a missing key is off.
	Settings map[string]bool
	Roles    []RoleDef
	// At is when the account is compiled: subscriptions grant features
	// only within their term (Account.ValidUntil says until when this
	// compilation holds).
	At time.Time
}

// Holding is what one user holds.
type Holding struct {
	Active bool `json:"active"`
	// Licenses are the user's direct assignments, whatever their source
	// (manual, SCIM, SAML, group). For a concurrent plan, holding it means
	// membership of the pool (R2); under a concurrent plan with coverage
	// (R9), holding qm or wfm is the coverage assignment.
	Licenses []string `json:"licenses"`
	// Roles are the roles assigned to the user. Licenses linked to them
	// are held too (R15).
	Roles []RoleRef `json:"roles"`
}
