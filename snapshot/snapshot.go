// Package snapshot keeps the compiled decision state of accounts and users
// in memory, so that `check` and `access` need no I/O. Entries are loaded
// on first use and dropped when the store reports a change, whether it was
// made by this process or by another one sharing the database.
package snapshot

import (
	"context"
	"sync"

	"github.com/seatkeeper/seatkeeper/entitlement"
)

// Source loads what the cache holds. DecisionAccount returns a not_found
// error for a missing account; Holding reports found=false for a missing user.
type Source interface {
	DecisionAccount(ctx context.Context, account string) (*entitlement.Account, error)
	Holding(ctx context.Context, account, user string) (h entitlement.Holding, found bool, err error)
}

// Cache is the in-memory snapshot. The zero value is not usable: use New.
type Cache struct {
	src Source

	mu       sync.RWMutex
	gen      uint64 // bumped by every invalidation: a load that saw an older gen is not stored
	accounts map[string]*accountEntry
}

type accountEntry struct {
	acct  *entitlement.Account
	users map[string]*entitlement.Entitlements // nil value: no such user
}

// New returns an empty cache over src.
func New(src Source) *Cache {
	return &Cache{src: src, accounts: map[string]*accountEntry{}}
}

// Account returns the account's compiled state.
func (c *Cache) Account(ctx context.Context, account string) (*entitlement.Account, error) {
	c.mu.RLock()
	e, gen := c.accounts[account], c.gen
	c.mu.RUnlock()
	if e != nil {
		return e.acct, nil
	}
	acct, err := c.src.DecisionAccount(ctx, account)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen && c.accounts[account] == nil {
		c.accounts[account] = &accountEntry{acct: acct, users: map[string]*entitlement.Entitlements{}}
	}
	c.mu.Unlock()
	return acct, nil
}

// User returns a user's compiled entitlements, or found=false if the
// account has no such user.
func (c *Cache) User(ctx context.Context, account, user string) (ent *entitlement.Entitlements, found bool, err error) {
	c.mu.RLock()
	e, gen := c.accounts[account], c.gen
	if e != nil {
		if ent, ok := e.users[user]; ok {
			c.mu.RUnlock()
			return ent, ent != nil, nil
		}
	}
	c.mu.RUnlock()

	acct, err := c.Account(ctx, account)
	if err != nil {
		return nil, false, err
	}
	h, found, err := c.src.Holding(ctx, account, user)
	if err != nil {
		return nil, false, err
	}
	if found {
		ent = acct.Compile(h)
	}
	c.mu.Lock()
	if e := c.accounts[account]; c.gen == gen && e != nil && e.acct == acct {
		e.users[user] = ent
	}
	c.mu.Unlock()
	return ent, found, nil
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
