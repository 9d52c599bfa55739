// Package catalog holds what a vendor sells: features, licenses, services and
// their roles. A catalog is written in YAML (see docs/catalog.md), checked by
// Load, which reports every problem with its position, and compiled into an
// immutable *Catalog whose keys are interned to small integers so that
// decisions (package entitlement) work on bitsets.
package catalog

import "fmt"

// Kind says what role a license plays for a user.
type Kind uint8

// The license kinds.
const (
	KindPlan  Kind = iota + 1 // a base tier; in a catalog with plans every user needs one (R2)
	KindAddon                 // extra, bought on top of a plan
	KindType                  // a license type linked to roles (R15)
)

// Scope says how a license is held.
type Scope uint8

// The license scopes.
const (
	ScopeUser     Scope = iota + 1 // one seat per user
	ScopeAccount                   // account-wide, never assigned per user (R10)
	ScopeQuantity                  // a countable resource: numbers, storage (R10)
)

// Sale is whether a license can be sold and assigned anew (R16).
type Sale uint8

// The sale states.
const (
	SaleActive     Sale = iota + 1 // sold and assignable
	SaleNotForSale                 // never sold: no subscription, no assignment
	SaleRetired                    // no new subscriptions or assignments; existing ones keep working
)

// Model is how the seats of a subscription are counted.
type Model uint8

// The seat models.
const (
	ModelNamed      Model = iota + 1 // one seat per assigned user, capped (R1)
	ModelConcurrent                  // a shared pool of signed-in users (R4)
)

var (
	kindNames  = map[string]Kind{"plan": KindPlan, "addon": KindAddon, "type": KindType}
	scopeNames = map[string]Scope{"user": ScopeUser, "account": ScopeAccount, "quantity": ScopeQuantity}
	saleNames  = map[string]Sale{"active": SaleActive, "not_for_sale": SaleNotForSale, "retired": SaleRetired}
	modelNames = map[string]Model{"named": ModelNamed, "concurrent": ModelConcurrent}
)

func nameOf[T ~uint8](m map[string]T, v T) string {
	for k, x := range m {
		if x == v {
			return k
		}
	}
	return fmt.Sprintf("unknown(%d)", uint8(v))
}

func (k Kind) String() string  { return nameOf(kindNames, k) }
func (s Scope) String() string { return nameOf(scopeNames, s) }
func (s Sale) String() string  { return nameOf(saleNames, s) }
func (m Model) String() string { return nameOf(modelNames, m) }

// ParseModel returns the model named s ("named" or "concurrent").
func ParseModel(s string) (Model, bool) { m, ok := modelNames[s]; return m, ok }

// Catalog is a compiled, immutable catalog. Features, licenses and
// permissions are numbered in catalog order; those numbers index the Bits
// used by package entitlement.
type Catalog struct {
	Name     string
	Version  string
	Title    string
	Features []Feature
	Licenses []License
	Services []Service
	// Permissions lists every permission of every service, numbered in
	// catalog order; Permission.Service points back to its service.
	Permissions []Permission

	features    map[string]int
	licenses    map[string]int
	services    map[string]int
	permissions map[string]int
	hasPlans    bool
}

// Feature is a capability key applications ask about.
type Feature struct {
	Index       int
	Key         string
	Description string
	// Setting, when not empty, is a boolean account setting that must be on
	// for the feature to be entitled (R13).
	Setting string
}

// License is a catalog entry that grants features.
type License struct {
	Index          int
	Key            string
	Title          string
	Kind           Kind
	Scope          Scope
	Sale           Sale
	Models         []Model
	Grants         []string // feature keys as written; a key also grants the features below it
	Includes       []string // licenses whose grants come with this one
	RequiresOneOf  []string // the license grants nothing unless one of these is held too
	ExclusiveGroup string   // a holder (a role's links, a user's assignments) has at most one license of a group
	MaxPerAccount  int      // 0 means no limit
	// Coverage lists included licenses that, under a concurrent
	// subscription of this plan, need a per-user coverage assignment (R9).
	Coverage []string
	// StorageGB is the cloud storage each seat of this plan adds to the
	// account's quota, per model (R10).
	StorageGB map[Model]int
	// Storage marks the quantity license that plan storage adds to.
	Storage bool
	// Data marks a data license: users whose only licenses are data
	// licenses see only their own data (R16).
	Data bool
	// RoleRequired marks a license that, once purchased, must be linked to
	// at least one role for the account's role configuration to be valid (R16).
	RoleRequired bool
	Unit         string // for quantity licenses: what is counted

	// Compiled sets, all indexed by catalog numbers.
	GrantSet     Bits // features granted directly (with descendants)
	Closure      Bits // licenses reached through includes, itself included
	ClosureCover Bits // Closure under a concurrent subscription: coverage licenses removed
	RequiresSet  Bits // licenses of RequiresOneOf
	CoverageSet  Bits // licenses of Coverage
	FeatureSet   Bits // every feature of Closure
	FeatureCover Bits // every feature of ClosureCover
}

// HasModel reports whether the license may be sold under model m.
func (l *License) HasModel(m Model) bool {
	for _, x := range l.Models {
		if x == m {
			return true
		}
	}
	return false
}

// Service is a product area with its own roles and permissions (R11).
type Service struct {
	Index int
	Key   string
	Title string
	// Requires, when not empty, is a feature a user must be entitled to
	// before any permission of the service applies to them.
	Requires string
	// DefaultRole is the role a user gets in this service when they are
	// entitled to Requires and hold no role of the service (R11).
	DefaultRole string
	Permissions []string
	Roles       []Role
	// BuiltIn marks the account service every catalog has.
	BuiltIn bool
}

// Role is a default role of a service. Default roles cannot be deleted.
type Role struct {
	Name        string
	Description string
	Permissions []string
	Licenses    []string // R15 links: holding the role uses a seat of each
}

// Permission is something a role lets a user do.
type Permission struct {
	Index       int
	Key         string
	Description string
	Service     int
}

// Feature returns the feature with the given key.
func (c *Catalog) Feature(key string) (*Feature, bool) {
	i, ok := c.features[key]
	if !ok {
		return nil, false
	}
	return &c.Features[i], true
}

// FeatureIndex returns the number of the feature key, or -1.
func (c *Catalog) FeatureIndex(key string) int {
	if i, ok := c.features[key]; ok {
		return i
	}
	return -1
}

// License returns the license with the given key.
func (c *Catalog) License(key string) (*License, bool) {
	i, ok := c.licenses[key]
	if !ok {
		return nil, false
	}
	return &c.Licenses[i], true
}

// LicenseIndex returns the number of the license key, or -1.
func (c *Catalog) LicenseIndex(key string) int {
	if i, ok := c.licenses[key]; ok {
		return i
	}
	return -1
}

// Service returns the service with the given key.
func (c *Catalog) Service(key string) (*Service, bool) {
	i, ok := c.services[key]
	if !ok {
		return nil, false
	}
	return &c.Services[i], true
}

// PermissionIndex returns the number of the permission key, or -1.
func (c *Catalog) PermissionIndex(key string) int {
	if i, ok := c.permissions[key]; ok {
		return i
	}
	return -1
}

// HasPlans reports whether the catalog has licenses of kind plan, in which
// case every user needs a plan to use any part of the service (R2).
func (c *Catalog) HasPlans() bool { return c.hasPlans }

// Plans returns the plan licenses in catalog order.
func (c *Catalog) Plans() []*License { return c.licensesOf(KindPlan) }

func (c *Catalog) licensesOf(k Kind) []*License {
	var out []*License
	for i := range c.Licenses {
		if c.Licenses[i].Kind == k {
			out = append(out, &c.Licenses[i])
		}
	}
	return out
}

// FeatureBits returns an empty set sized for the catalog's features.
func (c *Catalog) FeatureBits() Bits { return NewBits(len(c.Features)) }

// LicenseBits returns an empty set sized for the catalog's licenses.
func (c *Catalog) LicenseBits() Bits { return NewBits(len(c.Licenses)) }

// PermissionBits returns an empty set sized for the catalog's permissions.
func (c *Catalog) PermissionBits() Bits { return NewBits(len(c.Permissions)) }
