package seatkeeper

import (
	"context"
	"time"
)

// Regions an account may live in (R18), fixed at creation.
var Regions = []string{"us", "eu"}

// Account is a customer tenant.
type Account struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Region    string    `json:"region"`
	TimeZone  string    `json:"time_zone"`
	Catalog   string    `json:"catalog"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Subscription is what an account bought of one license.
type Subscription struct {
	Account          string     `json:"-"`
	License          string     `json:"license"`
	Model            string     `json:"model"`       // named | concurrent
	Enforcement      string     `json:"enforcement"` // hard | commit
	Quantity         int        `json:"quantity"`
	OverageAllowance int        `json:"overage_allowance"`
	GracePeriod      *Duration  `json:"grace_period"`   // nil on input: keep, or 30m for a new subscription
	BillingPeriod    string     `json:"billing_period"` // monthly | quarterly | annual
	Currency         string     `json:"currency"`
	UnitPrice        int64      `json:"unit_price"`
	OveragePrice     int64      `json:"overage_price"`
	StartsAt         time.Time  `json:"starts_at"` // zero on input: keep, or now for a new subscription
	EndsAt           *time.Time `json:"ends_at"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// Actor is who makes a change, for the audit trail.
type Actor struct {
	TokenID    string
	TokenKind  string
	ActingUser string
}

// AuditRecord is one change, as the audit trail keeps it.
type AuditRecord struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	TokenID    string    `json:"token_id"`
	TokenKind  string    `json:"token_kind"`
	ActingUser string    `json:"acting_user"`
	Action     string    `json:"action"`
	Target     string    `json:"target"`
	Detail     string    `json:"detail"`
}

// AccountService manages accounts, their subscriptions and settings.
type AccountService interface {
	// PutAccount creates or updates an account. Region and catalog cannot
	// change once set (EConflict). Returns EInvalid for bad fields.
	PutAccount(ctx context.Context, by Actor, a Account) (Account, bool, error)
	// Account returns ENotFound if there is no such (undeleted) account.
	Account(ctx context.Context, id string) (Account, error)
	// DeleteAccount soft-deletes; returns ENotFound.
	DeleteAccount(ctx context.Context, by Actor, id string) error

	// PutSubscription creates or updates a subscription (R16 sale rules,
	// max_per_account) and recomputes the account's seat caps.
	PutSubscription(ctx context.Context, by Actor, s Subscription) (Subscription, bool, error)
	Subscriptions(ctx context.Context, account string) ([]Subscription, error)
	// DeleteSubscription returns ENotFound.
	DeleteSubscription(ctx context.Context, by Actor, account, license string) error

	Settings(ctx context.Context, account string) (Settings, error)
	// PatchSettings applies a JSON merge patch (RFC 7396) and validates
	// the result; EInvalid leaves the settings unchanged.
	PatchSettings(ctx context.Context, by Actor, account string, patch []byte) (Settings, error)

	// Audit lists the account's audit records in [from, to).
	Audit(ctx context.Context, account string, from, to time.Time) ([]AuditRecord, error)
}
