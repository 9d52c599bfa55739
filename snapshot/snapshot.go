// Package snapshot keeps the compiled decision state of accounts and users
// in memory, so that `check` and `access` need no I/O. Entries are loaded
// on first use and dropped when the store reports a change, whether it was
// made by this process or by another one sharing the database.
package snapshot

import (
	"context"
	"sync"
	"time"

	"github.com/seatkeeper/seatkeeper/entitlement"
)

// Source loads what the cache holds. DecisionAccount returns a not_found
// error for a missing account; Holding reports found=false for a missing
// user, and until when the user is signed in (zero: not signed in).
type Source interface {
	DecisionAccount(ctx context.Context, account string) (*entitlement.Account, error)
	Holding(ctx context.Context, account, user string) (h entitlement.Holding, until time.Time, found bool, err error)
}

// Entry is a user's compiled entitlements and presence.
type Entry struct {
	Ent *entitlement.Entitlements
	// Until is when the user's latest live presence runs out; zero when
	// they are not signed in.
	Until time.Time
}

// SignedIn reports whether the user has a live presence at now (R5).
func (e Entry) SignedIn(now time.Time) bool { return now.Before(e.Until) }

// Cache is the in-memory snapshot. The zero value is not usable: use New.
type Cache struct {
	src Source
	now func() time.Time

	mu       sync.RWMutex
	gen      uint64 // bumped by every invalidation: a load that saw an older gen is not stored
	accounts map[string]*accountEntry
}

type accountEntry struct {
	acct  *entitlement.Account
	users map[string]*Entry // nil value: no such user
}

// New returns an empty cache over src; now is the clock presences are
// judged by.
func New(src Source, now func() time.Time) *Cache {
	return &Cache{src: src, now: now, accounts: map[string]*accountEntry{}}
}

// Account returns the account's compiled state. A compilation that a
// subscription's start or end has overtaken (Account.Current) is loaded
// again, with its users.
func (c *Cache) Account(ctx context.Context, account string) (*entitlement.Account, error) {
	now := c.now()
	c.mu.RLock()
	e, gen := c.accounts[account], c.gen
	c.mu.RUnlock()
	if e != nil && e.acct.Current(now) {
		return e.acct, nil
	}
	acct, err := c.src.DecisionAccount(ctx, account)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if cur := c.accounts[account]; c.gen == gen && (cur == nil || cur == e) {
		c.accounts[account] = &accountEntry{acct: acct, users: map[string]*Entry{}}
	}
	c.mu.Unlock()
	return acct, nil
}

// User returns a user's compiled entitlements and presence, or
// found=false if the account has no such user.
//
// Sign-ins and sign-outs are announced as changes; heartbeats are not, so a
// presence seen to run out may have been extended elsewhere: then the
// entry is read again. One that is really over is kept as "not signed in".
func (c *Cache) User(ctx context.Context, account, user string) (entry Entry, found bool, err error) {
	now := c.now()
	c.mu.RLock()
	e, gen := c.accounts[account], c.gen
	if e != nil && e.acct.Current(now) {
		if u, ok := e.users[user]; ok && (u == nil || u.Until.IsZero() || now.Before(u.Until)) {
			c.mu.RUnlock()
			if u == nil {
				return Entry{}, false, nil
			}
			return *u, true, nil
		}
	}
	c.mu.RUnlock()

	acct, err := c.Account(ctx, account)
	if err != nil {
		return Entry{}, false, err
	}
	h, until, found, err := c.src.Holding(ctx, account, user)
	if err != nil {
		return Entry{}, false, err
	}
	var u *Entry
	if found {
		if !now.Before(until) {
			until = time.Time{}
		}
		u = &Entry{Ent: acct.Compile(h), Until: until}
	}
	c.mu.Lock()
	if e := c.accounts[account]; c.gen == gen && e != nil && e.acct == acct {
		e.users[user] = u
	}
	c.mu.Unlock()
	if u == nil {
		return Entry{}, false, nil
	}
	return *u, true, nil
}

// Invalidate drops what a change made stale: one user, a whole account
// (user ""), or everything (account "").
func (c *Cache) Invalidate(account, user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	switch {
	case account == "":
		clear(c.accounts)
	case user == "":
		delete(c.accounts, account)
	default:
		if e := c.accounts[account]; e != nil {
			delete(e.users, user)
		}
	}
}
