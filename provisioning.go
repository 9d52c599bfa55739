package seatkeeper

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// ProvisionedUser is a user as an identity provider sees them over SCIM:
// the user, the SCIM attributes Seatkeeper has no column for (name,
// emails, the enterprise extension, …) kept verbatim, and what SCIM gave
// them (assignments and roles with source scim).
type ProvisionedUser struct {
	User
	// Attributes is a JSON object of the SCIM attributes stored as sent.
	Attributes json.RawMessage `json:"attributes"`
	// Granted is what the user holds with source scim.
	Granted Grants `json:"granted"`
}

// Grants is a set of licenses and roles ("service:role") given together:
// by SCIM to one user, or by a group mapping to every member of a group.
type Grants struct {
	Licenses []string `json:"licenses"`
	Roles    []string `json:"roles"`
}

// ETag is the entity tag of a provisioned user: it changes whenever
// anything SCIM shows of them does.
// The licenses and roles of User (which the list queries do not read)
// are left out.
func (u ProvisionedUser) ETag() string {
	u.Licenses, u.Roles, u.CreatedAt = nil, nil, time.Time{}
	return etagOf(u)
}

// Provision is one SCIM write of a user.
type Provision struct {
	// User holds the fields to store. User.ID "" creates a user with a new
	// id; otherwise the user must exist.
	User       User
	Attributes json.RawMessage
	// Grants, when not nil, replaces what the user holds with source scim:
	// licenses and roles no longer listed are removed, new ones assigned
	// under the API's rules.
	Grants *Grants
	// IfMatch, when not "", must be the user's current ETag
	// (EPrecondition otherwise), checked in the write's transaction.
	IfMatch string
}

// UserMatch narrows a list of provisioned users to those whose fields
// equal the non-empty values (UserName case-insensitively).
type UserMatch struct {
	ID, UserName, ExternalID string
}

// Group is a SCIM group of an account's users.
type Group struct {
	Account     string    `json:"-"`
	ID          string    `json:"id"`
	DisplayName string    `json:"display_name"`
	ExternalID  string    `json:"external_id"`
	Members     []string  `json:"members"` // user ids, sorted
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ETag is the entity tag of a group.
func (g Group) ETag() string { return etagOf(g) }

// GroupMatch narrows a list of groups to those whose fields equal the
// non-empty values (DisplayName case-insensitively).
type GroupMatch struct {
	ID, DisplayName, ExternalID string
}

// GroupMapping gives every member of a group some licenses and roles,
// with source group (SPEC §6).
type GroupMapping struct {
	Group     string    `json:"group"`
	Licenses  []string  `json:"licenses"`
	Roles     []string  `json:"roles"` // "service:role"
	UpdatedAt time.Time `json:"updated_at"`
}

// ProvisioningService is what SCIM needs of the store. A user's
// group-sourced licenses and roles are always the union of the mappings
// of the groups they are a member of: every change of a membership or a
// mapping adds and removes exactly the difference, under the rules of
// AssignLicense (ESeatLimit and the others), all or nothing.
type ProvisioningService interface {
	// ProvisionUser creates or updates a user. Errors: ENotFound,
	// EPrecondition, EConflict (user_name taken), EInvalid, and those of
	// AssignLicense for the grants.
	ProvisionUser(ctx context.Context, by Actor, p Provision) (ProvisionedUser, bool, error)
	// ProvisionedUser returns ENotFound.
	ProvisionedUser(ctx context.Context, account, id string) (ProvisionedUser, error)
	// ProvisionedUsers lists the matching users ordered by id from offset
	// (limit < 0: all of them), with the number that match.
	ProvisionedUsers(ctx context.Context, account string, m UserMatch, offset, limit int) ([]ProvisionedUser, int, error)

	// PutGroup creates (ID "") or replaces a group with its members, and
	// moves the group-sourced grants of members who join or leave.
	// Errors: ENotFound (group or member), EPrecondition (ifMatch), and
	// those of AssignLicense.
	PutGroup(ctx context.Context, by Actor, g Group, ifMatch string) (Group, bool, error)
	// Group returns ENotFound.
	Group(ctx context.Context, account, id string) (Group, error)
	// Groups lists the matching groups ordered by id, as ProvisionedUsers.
	Groups(ctx context.Context, account string, m GroupMatch, offset, limit int) ([]Group, int, error)
	// DeleteGroup removes a group and what its mapping gave its members.
	DeleteGroup(ctx context.Context, by Actor, account, id, ifMatch string) error

	// PutGroupMapping sets what a group's members get. ENotFound without
	// the group; unknown licenses and roles are EInvalid.
	PutGroupMapping(ctx context.Context, by Actor, account string, m GroupMapping) (GroupMapping, bool, error)
	GroupMapping(ctx context.Context, account, group string) (GroupMapping, error)
	GroupMappings(ctx context.Context, account string) ([]GroupMapping, error)
	// DeleteGroupMapping removes a mapping and what it gave.
	DeleteGroupMapping(ctx context.Context, by Actor, account, group string) error
}

func etagOf(v any) string {
	b, _ := json.Marshal(v)
	h := sha256.Sum256(b)
	return `W/"` + hex.EncodeToString(h[:10]) + `"`
}
