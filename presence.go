package seatkeeper

import (
	"context"
	"time"
)

// Presence kinds (R5).
const (
	KindWorkSession = "work_session" // desktop client: explicit start and end, heartbeats
	KindPortal      = "portal"       // web portal activity: presence for the idle window
	KindAPI         = "api"          // API activity: presence for the idle window
)

// Session is one presence of a user.
type Session struct {
	ID        string     `json:"id"`
	User      string     `json:"user"`
	Kind      string     `json:"kind"`
	Pool      string     `json:"pool,omitempty"` // the concurrent plan it counts in
	StartedAt time.Time  `json:"started_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	// At creation: the pool's distinct signed-in users and cap (R4), and
	// how many of those users are above the quantity (the allowance in use).
	InUse   *int `json:"in_use,omitempty"`
	Cap     *int `json:"cap,omitempty"`
	Overage *int `json:"overage,omitempty"`
}

// Pool is the state of one concurrent pool (SPEC §4.4).
type Pool struct {
	License   string `json:"license"`
	Quantity  int    `json:"quantity"`
	Allowance int    `json:"allowance"`
	InUse     int    `json:"in_use"`
	Cap       int    `json:"cap"`
	Members   int    `json:"members"`
}

// PresenceService tracks who is signed in (R4–R6).
type PresenceService interface {
	// StartSession records a presence. A user not yet signed in to their
	// pool takes a place only while fewer than Q + A users are signed in,
	// else EPoolExhausted (with in_use and cap); a user already signed in
	// adds presences freely. With an idempotency key, a repeat of the same
	// request returns the first session (replayed true); the same key with
	// another request is EConflict.
	StartSession(ctx context.Context, by Actor, account, user, kind, key, request string) (s Session, replayed bool, err error)
	// Heartbeat extends a live session by its timeout; ESessionEnded once
	// it has ended (by request, by an admin, or at last heartbeat + timeout).
	Heartbeat(ctx context.Context, account, id string) (Session, error)
	// EndSession ends a live session now; ESessionEnded if it already ended.
	EndSession(ctx context.Context, by Actor, account, id string) error
	// EndUserSessions ends every live session of a user (R6: admins and
	// supervisors may); it returns how many it ended.
	EndUserSessions(ctx context.Context, by Actor, account, user string) (int, error)
	// Sessions lists live sessions, of one user or ("") of all.
	Sessions(ctx context.Context, account, user string) ([]Session, error)
	// Pools lists the account's concurrent pools.
	Pools(ctx context.Context, account string) ([]Pool, error)
	// Reap ends the sessions whose time ran out, at their expiry, and
	// returns how many; every server process runs it now and then.
	Reap(ctx context.Context) (int, error)
}
