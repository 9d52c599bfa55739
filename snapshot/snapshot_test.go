package snapshot_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/entitlement"
	"github.com/seatkeeper/seatkeeper/snapshot"
)

// fakeSource serves holdings from a map and counts loads.
type fakeSource struct {
	mu       sync.Mutex
	acct     *entitlement.Account
	holdings map[string]entitlement.Holding
	until    map[string]time.Time
	loads    int
	// during, when set, runs inside Holding: a change racing the load.
	during func()
}

func (f *fakeSource) DecisionAccount(ctx context.Context, account string) (*entitlement.Account, error) {
	if account != "acme" {
		return nil, seatkeeper.Errorf(seatkeeper.ENotFound, "no account")
	}
	return f.acct, nil
}

func (f *fakeSource) Holding(ctx context.Context, account, user string) (entitlement.Holding, time.Time, bool, error) {
	f.mu.Lock()
	f.loads++
	h, ok := f.holdings[user]
	during := f.during
	f.during = nil
	f.mu.Unlock()
	if during != nil {
		during()
	}
	return h, f.until[user], ok, nil
}

func newSource(t *testing.T) *fakeSource {
	cat, _ := catalog.Preset("contact-center")
	acct, err := entitlement.NewAccount(cat, entitlement.AccountInput{Subscriptions: []entitlement.Subscription{{License: "premium", Model: catalog.ModelNamed, Quantity: 5}}})
	if err != nil {
		t.Fatal(err)
	}
	return &fakeSource{acct: acct, holdings: map[string]entitlement.Holding{"ann": {Active: true}}, until: map[string]time.Time{}}
}

func allowed(t *testing.T, c *snapshot.Cache) bool {
	t.Helper()
	e, found, err := c.User(context.Background(), "acme", "ann")
	if err != nil || !found {
		t.Fatalf("User: found=%v err=%v", found, err)
	}
	return e.Ent.Check("channel.email", false).Allowed
}

func TestCacheServesFromMemoryUntilInvalidated(t *testing.T) {
	src := newSource(t)
	c := snapshot.New(src, time.Now)
	if allowed(t, c) {
		t.Fatal("ann has no license yet")
	}
	src.holdings["ann"] = entitlement.Holding{Active: true, Licenses: []string{"premium"}}
	if allowed(t, c) {
		t.Error("the cache must answer from memory until told of a change")
	}
	if src.loads != 1 {
		t.Errorf("loads = %d, want 1", src.loads)
	}
	c.Invalidate("acme", "ann")
	if !allowed(t, c) {
		t.Error("after the invalidation the new holding must count")
	}
	if _, found, _ := c.User(context.Background(), "acme", "nobody"); found {
		t.Error("an unknown user must be reported not found")
	}
	if _, _, err := c.User(context.Background(), "other", "ann"); seatkeeper.ErrorCode(err) != seatkeeper.ENotFound {
		t.Errorf("unknown account: %v", err)
	}
}

// TestCacheDropsALoadThatRacedAChange: a load that began before an
// invalidation must not be stored after it, or the stale holding would
// stay cached for good.
func TestCacheDropsALoadThatRacedAChange(t *testing.T) {
	src := newSource(t)
	c := snapshot.New(src, time.Now)
	src.during = func() {
		// The change commits and is announced while the old holding is in flight.
		src.mu.Lock()
		src.holdings["ann"] = entitlement.Holding{Active: true, Licenses: []string{"premium"}}
		src.mu.Unlock()
		c.Invalidate("acme", "ann")
	}
	if allowed(t, c) {
		t.Fatal("the racing load itself returns the old holding")
	}
	if !allowed(t, c) {
		t.Error("the old holding was cached past the invalidation")
	}
	c.Invalidate("", "")
	if src.loads != 2 {
		t.Errorf("loads = %d, want 2", src.loads)
	}
}

// TestCachePresenceRunsOut: a presence is judged against the clock, and
// one seen to run out is read again, since a heartbeat elsewhere may have
// extended it (R5, R6).
func TestCachePresenceRunsOut(t *testing.T) {
	src := newSource(t)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	c := snapshot.New(src, func() time.Time { return now })
	src.until["ann"] = now.Add(time.Minute)
	signedIn := func() bool {
		e, _, err := c.User(context.Background(), "acme", "ann")
		if err != nil {
			t.Fatal(err)
		}
		return e.SignedIn(now)
	}
	if !signedIn() {
		t.Fatal("signed in for another minute")
	}
	src.until["ann"] = now.Add(3 * time.Minute) // a heartbeat elsewhere, not announced
	now = now.Add(2 * time.Minute)
	if !signedIn() {
		t.Error("the extension must be read once the cached presence runs out")
	}
	loads := src.loads
	now = now.Add(2 * time.Minute)
	if signedIn() || signedIn() {
		t.Error("the presence ran out")
	}
	if src.loads != loads+1 {
		t.Errorf("an ended presence must be read once, not on every check: %d loads", src.loads-loads)
	}
}
