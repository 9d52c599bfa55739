package seatkeeper

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Assignment sources (SPEC §1).
const (
	SourceManual  = "manual"
	SourceSCIM    = "scim"
	SourceSAML    = "saml"
	SourceRole    = "role"    // derived from a role linked to a license (R15)
	SourceGroup   = "group"   // derived from a group mapping
	SourceDefault = "default" // a service's default role (R11), derived
)

// User is a person in an account.
type User struct {
	Account     string        `json:"-"`
	ID          string        `json:"id"`
	UserName    string        `json:"user_name"`
	Email       string        `json:"email"`
	DisplayName string        `json:"display_name"`
	ExternalID  string        `json:"external_id"`
	Active      bool          `json:"active"`
	Licenses    []HeldLicense `json:"licenses"`
	Roles       []HeldRole    `json:"roles"`
	CreatedAt   time.Time     `json:"created_at"`
	UpdatedAt   time.Time     `json:"updated_at"`
}

// HeldLicense is one license a user holds and where it came from.
type HeldLicense struct {
	License string `json:"license"`
	Source  string `json:"source"`
}

// HeldRole is one role a user holds and where it came from.
type HeldRole struct {
	Service string `json:"service"`
	Role    string `json:"role"`
	Source  string `json:"source"`
}

// CustomRole is an account's own role, or its redefinition of a default
// role (R11, R15).
type CustomRole struct {
	Service     string   `json:"service"`
	Name        string   `json:"role"`
	Permissions []string `json:"permissions"`
	Licenses    []string `json:"licenses"`
	Default     bool     `json:"default"` // a catalog default role: cannot be deleted
}

// LicenseSummary is one line of GET /licenses (SPEC §4.2).
type LicenseSummary struct {
	License            string `json:"license"`
	Model              string `json:"model,omitempty"`
	Purchased          int    `json:"purchased"`
	Assigned           int    `json:"assigned"`
	Available          *int   `json:"available"` // nil: no cap
	Members            *int   `json:"members,omitempty"`
	InUse              *int   `json:"in_use,omitempty"`
	Cap                *int   `json:"cap,omitempty"`
	RequiredAddonSeats *int   `json:"required_addon_seats,omitempty"`
	Quota              *int   `json:"quota,omitempty"` // cloud storage: purchased plus what plan seats bring (R10)
}

// UserService manages users, their licenses and roles. Every method that
// changes something enforces the rules atomically: a refused change
// changes nothing.
type UserService interface {
	// PutUser creates or updates a user. Deactivating frees every seat
	// and drops manual and SAML assignments; reactivating restores the
	// seats of role, group and SCIM assignments, or fails with
	// ESeatLimit if one no longer fits (R3).
	PutUser(ctx context.Context, by Actor, u User) (User, bool, error)
	// User returns ENotFound.
	User(ctx context.Context, account, id string) (User, error)
	DeleteUser(ctx context.Context, by Actor, account, id string) error
	// Users lists users ordered by id after cursor; next is "" at the end.
	Users(ctx context.Context, account, cursor string, limit int) (users []User, next string, err error)

	// AssignLicense returns created=false if the user already held it
	// from that source. Errors: EUserInactive, ESeatLimit,
	// ERequirementMissing, ENotForSale, ERetired, EConflict, ENotFound.
	// It returns the user as they are after the change.
	AssignLicense(ctx context.Context, by Actor, account, user, license, source string) (User, bool, error)
	UnassignLicense(ctx context.Context, by Actor, account, user, license, source string) error
	AssignRole(ctx context.Context, by Actor, account, user, service, role, source string) (User, bool, error)
	UnassignRole(ctx context.Context, by Actor, account, user, service, role, source string) error

	PutRole(ctx context.Context, by Actor, account string, r CustomRole) (bool, error)
	Roles(ctx context.Context, account string) ([]CustomRole, error)
	// DeleteRole refuses default roles (EConflict) and roles still held.
	DeleteRole(ctx context.Context, by Actor, account, service, name string) error

	LicenseSummary(ctx context.Context, account string) ([]LicenseSummary, error)
}

// PlainText reports whether s is valid UTF-8 without control characters:
// what names and other one-line texts may hold.
func PlainText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// ValidID says whether s may be an id (SPEC §4.8): 1 to 128 of
// [A-Za-z0-9._@:-], and not "." or "..", which a URL's path cannot hold
// (clients and servers resolve them as dot segments, RFC 3986 §5.2.4).
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 128 || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '@' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// NameKey is how user names and group display names compare: without
// regard to case, in Unicode, as SCIM's filters compare them (caseExact
// false). It is Unicode's canonical caseless match (full case folding of
// the canonical decomposition, composed again): "José" composed and
// decomposed are one name, as are "ΣΑΣ" and "σας", and "Straße" and
// "STRASSE". The store keeps it beside the name, so that both stores
// agree: SQL's lower() folds only ASCII on SQLite, and on PostgreSQL
// follows the database's locale.
func NameKey(name string) string {
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			return norm.NFC.String(cases.Fold().String(norm.NFD.String(name)))
		}
	}
	return strings.ToLower(name) // ASCII: folding is lower-casing
}
