package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/entitlement"
)

var currencyRe = regexp.MustCompile(`^[A-Z]{3}$`)

// acctState is an account as decisions and rules see it, compiled once per
// version of the account row.
type acctState struct {
	account  seatkeeper.Account
	version  int64
	settings seatkeeper.Settings
	cat      *catalog.Catalog
	ent      *entitlement.Account
	subs     []seatkeeper.Subscription
	roles    []seatkeeper.CustomRole // the account's custom and redefined roles
}

type accountCache struct {
	mu sync.Mutex
	m  map[string]*acctState
}

func (c *accountCache) get(id string, version int64, now time.Time) *acctState {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.m[id]; st != nil && st.version == version && st.ent.Current(now) {
		return st
	}
	return nil
}

func (c *accountCache) put(st *acctState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*acctState{}
	}
	if cur := c.m[st.account.ID]; cur == nil || cur.version <= st.version {
		c.m[st.account.ID] = st
	}
}

// state loads the account (ENotFound if missing or deleted) and returns it
// compiled, from the cache when its version has not moved.
func (t *tx) state(id string) (*acctState, error) {
	if t.batch != nil {
		if st := t.batch.states[id]; st != nil {
			return st, nil
		}
	}
	r := t.prefetched[id]
	if r == nil {
		r = t.readAccount(id)
	}
	delete(t.prefetched, id)
	st, err := t.loadState(id, r)
	if err == nil && t.batch != nil {
		t.batch.states[id] = st
	}
	return st, err
}

// accountRow is an account's row, read with the next statement (see
// conn.queueRow).
type accountRow struct {
	*queuedRow
	a                seatkeeper.Account
	settings         string
	version          int64
	created, updated int64
	deleted          sql.NullInt64
}

func (t *tx) readAccount(id string) *accountRow {
	r := &accountRow{}
	r.queuedRow = t.queueRow("SELECT id, name, region, time_zone, catalog, settings, version, created_at, updated_at, deleted_at FROM accounts WHERE id = ?", []any{id},
		&r.a.ID, &r.a.Name, &r.a.Region, &r.a.TimeZone, &r.a.Catalog, &r.settings, &r.version, &r.created, &r.updated, &r.deleted)
	return r
}

// prefetch reads the accounts with the next statement, for state to use:
// a write that reads its accounts and then its users makes one round trip
// of both.
func (t *tx) prefetch(ids ...string) {
	for _, id := range ids {
		if t.prefetched[id] != nil || (t.batch != nil && t.batch.states[id] != nil) {
			continue
		}
		if t.prefetched == nil {
			t.prefetched = map[string]*accountRow{}
		}
		t.prefetched[id] = t.readAccount(id)
	}
}

func (t *tx) loadState(id string, r *accountRow) (*acctState, error) {
	err := r.scan(t.ctx)
	a, settings, version, created, updated, deleted := r.a, r.settings, r.version, r.created, r.updated, r.deleted
	if errors.Is(err, sql.ErrNoRows) || (err == nil && deleted.Valid) {
		return nil, seatkeeper.Errorf(seatkeeper.ENotFound, "no account %q", id)
	}
	if err != nil {
		return nil, err
	}
	now := t.s.Now()
	if st := t.s.accounts.get(id, version, now); st != nil {
		return st, nil
	}
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	st := &acctState{account: a, version: version, settings: seatkeeper.DefaultSettings()}
	if err := json.Unmarshal([]byte(settings), &st.settings); err != nil {
		return nil, err
	}
	var ok bool
	if st.cat, ok = t.s.catalogs[a.Catalog]; !ok {
		return nil, seatkeeper.Errorf(seatkeeper.EConflict, "account %s uses catalog %q, which this server does not have", id, a.Catalog)
	}
	if st.subs, err = t.subscriptions(id); err != nil {
		return nil, err
	}
	if st.roles, err = t.customRoles(id); err != nil {
		return nil, err
	}
	in := entitlement.AccountInput{Settings: st.settings.Bools(), At: now}
	for _, s := range st.subs {
		m, _ := catalog.ParseModel(s.Model)
		sub := entitlement.Subscription{License: s.License, Model: m, Quantity: s.Quantity, Commit: s.Enforcement == "commit", StartsAt: s.StartsAt}
		if s.EndsAt != nil {
			sub.EndsAt = *s.EndsAt
		}
		in.Subscriptions = append(in.Subscriptions, sub)
	}
	for _, r := range st.roles {
		in.Roles = append(in.Roles, entitlement.RoleDef{Service: r.Service, Name: r.Name, Permissions: r.Permissions, Licenses: r.Licenses})
	}
	if st.ent, err = entitlement.NewAccount(st.cat, in); err != nil {
		return nil, err
	}
	// A state read inside a write may belong to a version that is rolled
	// back; only committed states go into the cache.
	if t.writing {
		t.after = append(t.after, func() { t.s.accounts.put(st) })
	} else {
		t.s.accounts.put(st)
	}
	return st, nil
}

// bump marks the account changed for decisions: its compiled state is
// rebuilt, here and in every other process.
func (t *tx) bump(account string) error {
	if t.batch != nil {
		delete(t.batch.states, account)
	}
	if _, err := t.exec("UPDATE accounts SET version = version + 1, updated_at = ? WHERE id = ?", micros(t.s.Now()), account); err != nil {
		return err
	}
	t.changed(account, "")
	return nil
}

// audit records a change for the audit trail (written at flush).
func (t *tx) audit(account string, by seatkeeper.Actor, action, target string, detail any) error {
	d, _ := json.Marshal(detail)
	t.audits = append(t.audits, []any{account, micros(t.s.Now()), by.TokenID, by.TokenKind, by.ActingUser, action, target, string(d)})
	return nil
}

// event appends to the usage ledger (written at flush), timed now.
func (t *tx) event(account, typ, user, license, source string, quantity int) error {
	t.eventAt(t.s.Now(), account, typ, user, license, "", "", source, quantity)
	return nil
}

// eventAt appends to the usage ledger an event at a given time: a presence
// that ended at its expiry is recorded then, not when it was noticed (R6).
func (t *tx) eventAt(at time.Time, account, typ, user, license, kind, session, source string, quantity int) {
	t.events = append(t.events, []any{account, micros(at), typ, user, license, kind, session, source, quantity})
}

// stampedEvent appends to the ledger an event timed when its counters are
// settled, under their lock: a sign-in admitted because a place was freed
// is then never recorded before that place was freed, so the ledger never
// shows the pool over its cap (R4).
func (t *tx) stampedEvent(account, typ, user, license, kind, session string) {
	t.stamped = append(t.stamped, []any{account, int64(0), typ, user, license, kind, session, "", 0})
}

// PutAccount implements seatkeeper.AccountService.
func (s *Store) PutAccount(ctx context.Context, by seatkeeper.Actor, a seatkeeper.Account) (seatkeeper.Account, bool, error) {
	var fields []seatkeeper.FieldError
	bad := func(f, m string) { fields = append(fields, seatkeeper.FieldError{Field: f, Message: m}) }
	if !seatkeeper.ValidID(a.ID) {
		bad("id", "must match [A-Za-z0-9._@:-]{1,128}")
	}
	if a.Name = strings.TrimSpace(a.Name); a.Name == "" || len(a.Name) > 200 || !seatkeeper.PlainText(a.Name) {
		bad("name", "must be 1 to 200 characters, without control characters")
	}
	if a.TimeZone != "" {
		if !seatkeeper.ValidTimeZone(a.TimeZone) {
			bad("time_zone", "must be an IANA time zone such as Europe/Berlin")
		}
	}
	created := false
	err := s.write(ctx, func(t *tx) error {
		cur, err := t.state(a.ID)
		exists := err == nil
		if err != nil && seatkeeper.ErrorCode(err) != seatkeeper.ENotFound {
			return err
		}
		if a.Region == "" && exists {
			a.Region = cur.account.Region
		}
		if a.TimeZone == "" {
			a.TimeZone = "UTC"
			if exists {
				a.TimeZone = cur.account.TimeZone
			}
		}
		if a.Catalog == "" {
			a.Catalog = "contact-center"
			if exists {
				a.Catalog = cur.account.Catalog
			}
		}
		if a.Region != "us" && a.Region != "eu" {
			bad("region", "must be us or eu")
		}
		if _, ok := s.catalogs[a.Catalog]; !ok {
			bad("catalog", "no catalog "+a.Catalog+"; have "+strings.Join(s.catalogs.Names(), ", "))
		}
		if len(fields) > 0 {
			return &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid account", Fields: fields}
		}
		now := micros(s.Now())
		if exists {
			switch {
			case cur.account.Region != a.Region:
				return seatkeeper.Errorf(seatkeeper.EConflict, "an account's region is fixed at creation (R18): it is %s", cur.account.Region)
			case cur.account.Catalog != a.Catalog:
				return seatkeeper.Errorf(seatkeeper.EConflict, "an account's catalog is fixed at creation: it is %s", cur.account.Catalog)
			}
			if _, err := t.exec("UPDATE accounts SET name = ?, time_zone = ? WHERE id = ?", a.Name, a.TimeZone, a.ID); err != nil {
				return err
			}
			if cur.account.TimeZone != a.TimeZone {
				// Months, billing periods and statements are cut in the
				// account's zone: a closed month and its statements keep
				// the zone they were closed in. Looked at with the
				// account's row locked, as CloseMonth does.
				if closed, _, err := t.latestClosed(a.ID, time.UTC); err != nil {
					return err
				} else if closed != "" {
					return seatkeeper.Errorf(seatkeeper.EPeriodClosed, "the time zone cannot change once a month is closed: months and statements are cut in %s", cur.account.TimeZone)
				}
			}
			if err := t.bump(a.ID); err != nil {
				return err
			}
		} else {
			// A soft-deleted account keeps its id until its data is purged.
			var n int
			if err := t.queryRow("SELECT count(*) FROM accounts WHERE id = ?", a.ID).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return seatkeeper.Errorf(seatkeeper.EConflict, "account %s was deleted; its id cannot be reused", a.ID)
			}
			settings, _ := json.Marshal(seatkeeper.DefaultSettings())
			if _, err := t.exec("INSERT INTO accounts (id, name, region, time_zone, catalog, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
				a.ID, a.Name, a.Region, a.TimeZone, a.Catalog, string(settings), now, now); err != nil {
				return err
			}
			created = true
		}
		st, err := t.state(a.ID)
		if err != nil {
			return err
		}
		if created {
			if err := t.recomputeCaps(st); err != nil {
				return err
			}
		}
		a = st.account
		t.changed(a.ID, "")
		return t.audit(a.ID, by, "account.put", a.ID, a)
	})
	return a, created, err
}

// Account implements seatkeeper.AccountService.
func (s *Store) Account(ctx context.Context, id string) (seatkeeper.Account, error) {
	var a seatkeeper.Account
	err := s.read(ctx, func(t *tx) error {
		st, err := t.state(id)
		if err == nil {
			a = st.account
		}
		return err
	})
	return a, err
}

// DeleteAccount implements seatkeeper.AccountService: a soft delete; the
// data stays for the retention period.
func (s *Store) DeleteAccount(ctx context.Context, by seatkeeper.Actor, id string) error {
	return s.write(ctx, func(t *tx) error {
		if _, err := t.state(id); err != nil {
			return err
		}
		if err := t.signInsStored(accountKey(id)); err != nil {
			return err
		}
		// The account row first (bump): a sign-in of another process
		// settling meanwhile waits, or is run again (accountsUnmoved).
		if err := t.bump(id); err != nil {
			return err
		}
		if _, err := t.exec("UPDATE accounts SET deleted_at = ? WHERE id = ?", micros(s.Now()), id); err != nil {
			return err
		}
		if _, err := t.endExpired("account = ?", s.Now(), id); err != nil {
			return err
		}
		now := micros(s.Now())
		if _, err := t.endSessions("ended_at = ?, end_reason = 'account_deleted'", "account = ? AND ended_at IS NULL", now, id); err != nil {
			return err
		}
		if _, err := t.exec("UPDATE tokens SET revoked_at = ? WHERE account = ? AND revoked_at IS NULL", micros(s.Now()), id); err != nil {
			return err
		}
		return t.audit(id, by, "account.delete", id, nil)
	})
}

// recomputeCaps writes the seat cap of every user license of the account
// from its compiled state (R1, R9, R16). It runs in the transaction that
// changed the subscriptions, so caps and counts never disagree.
func (t *tx) recomputeCaps(st *acctState) error {
	for _, p := range st.cat.Plans() {
		// A concurrent plan's pool admits Q + A signed-in users (R4).
		limit := 0
		if sub, ok := st.ent.Subscription(p.Key); ok && sub.Model == catalog.ModelConcurrent {
			for _, x := range st.subs {
				if x.License == p.Key {
					limit = x.Quantity + x.OverageAllowance
				}
			}
		}
		if _, err := t.exec(`INSERT INTO pools (account, license, in_use, cap) VALUES (?, ?, 0, ?)
			ON CONFLICT (account, license) DO UPDATE SET cap = excluded.cap`, st.account.ID, p.Key, limit); err != nil {
			return err
		}
	}
	for _, lic := range st.cat.Licenses {
		if lic.Scope != catalog.ScopeUser {
			continue
		}
		limit, capped := st.ent.Capacity(lic.Key)
		if _, err := t.exec(`INSERT INTO seat_counters (account, license, used, cap, capped) VALUES (?, ?, 0, ?, ?)
			ON CONFLICT (account, license) DO UPDATE SET cap = excluded.cap, capped = excluded.capped`,
			st.account.ID, lic.Key, limit, capped); err != nil {
			return err
		}
	}
	for _, l := range st.ent.CoverageLicenses() {
		if err := t.recomputeAddonCap(st, l); err != nil {
			return err
		}
	}
	return nil
}

// recomputeAddonCap writes the cap of a coverage license's seats held
// with a plan that does not cover it (R9), and counts them from the users
// where the row has not been counted (cap -1: new, or made by migration
// 0012 or by a take). The row is made, or locked, first: a write settling
// a change of it waits, and one that settled before is among the users
// counted.
func (t *tx) recomputeAddonCap(st *acctState, license string) error {
	account := st.account.ID
	if _, err := t.exec(`INSERT INTO addon_counters (account, license, used, cap, capped) VALUES (?, ?, 0, -1, FALSE)
		ON CONFLICT (account, license) DO UPDATE SET capped = addon_counters.capped`, account, license); err != nil {
		return err
	}
	var current int
	if err := t.queryRow("SELECT cap FROM addon_counters WHERE account = ? AND license = ?", account, license).Scan(&current); err != nil {
		return err
	}
	limit, capped := st.ent.AddonCapacity(license)
	if current != -1 {
		_, err := t.exec("UPDATE addon_counters SET cap = ?, capped = ? WHERE account = ? AND license = ?", limit, capped, account, license)
		return err
	}
	used, err := t.countAddonSeats(st, license)
	if err != nil {
		return err
	}
	// Less what this batch's earlier writes changed and will settle: the
	// count already sees their users.
	used -= t.unsettled(counter{"addon_counters", account, license})
	_, err = t.exec("UPDATE addon_counters SET used = ?, cap = ?, capped = ? WHERE account = ? AND license = ?", used, limit, capped, account, license)
	return err
}

// countAddonSeats counts the active users whose seat of license is an
// add-on seat (Account.AddonSeats): of those who hold it, directly or
// through a role.
func (t *tx) countAddonSeats(st *acctState, license string) (int, error) {
	account := st.account.ID
	var roles [][]any
	for _, r := range st.ent.Roles() {
		if slices.Contains(r.Licenses, license) {
			roles = append(roles, []any{r.Service, r.Name})
		}
	}
	q := `SELECT u.id, ` + userColumns + ` FROM users u WHERE u.account = ? AND u.active AND (u.id IN (SELECT user_id FROM assignments WHERE account = ? AND license = ?)`
	args := []any{account, account, license}
	if len(roles) > 0 {
		args = append(args, account)
		q += ` OR u.id IN (SELECT user_id FROM user_roles WHERE account = ? AND (service, role) IN (VALUES ` + rowsOf(roles, &args) + `))`
	}
	rows, err := t.query(q+`)`, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id string
		u, err := scanUser(rows, account, "", &id)
		if err != nil {
			return 0, err
		}
		if slices.Contains(st.ent.AddonSeats(u.holding()), license) {
			n++
		}
	}
	return n, rows.Err()
}

func (t *tx) subscriptions(account string) ([]seatkeeper.Subscription, error) {
	rows, err := t.query(`SELECT license, model, enforcement, quantity, overage_allowance, grace_seconds, billing_period,
		currency, unit_price, overage_price, starts_at, ends_at, created_at, updated_at
		FROM subscriptions WHERE account = ? ORDER BY license`, account)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []seatkeeper.Subscription{}
	for rows.Next() {
		s := seatkeeper.Subscription{Account: account}
		var grace, starts, created, updated int64
		var ends sql.NullInt64
		if err := rows.Scan(&s.License, &s.Model, &s.Enforcement, &s.Quantity, &s.OverageAllowance, &grace, &s.BillingPeriod,
			&s.Currency, &s.UnitPrice, &s.OveragePrice, &starts, &ends, &created, &updated); err != nil {
			return nil, err
		}
		g := seatkeeper.Duration(time.Duration(grace) * time.Second)
		s.GracePeriod = &g
		s.StartsAt, s.CreatedAt, s.UpdatedAt = fromMicros(starts), fromMicros(created), fromMicros(updated)
		if ends.Valid {
			e := fromMicros(ends.Int64)
			s.EndsAt = &e
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Subscriptions implements seatkeeper.AccountService.
func (s *Store) Subscriptions(ctx context.Context, account string) ([]seatkeeper.Subscription, error) {
	var out []seatkeeper.Subscription
	err := s.read(ctx, func(t *tx) error {
		st, err := t.state(account)
		if err == nil {
			out = st.subs
		}
		return err
	})
	return out, err
}

// MaxPrice is the highest unit or overage price, in minor units: 10
// million of a currency's units per seat and month.
const MaxPrice = 1_000_000_000

func validateSubscription(sub *seatkeeper.Subscription, now time.Time) error {
	var fields []seatkeeper.FieldError
	bad := func(f, m string) { fields = append(fields, seatkeeper.FieldError{Field: f, Message: m}) }
	if sub.Enforcement == "" {
		sub.Enforcement = "hard"
	}
	if sub.BillingPeriod == "" {
		sub.BillingPeriod = "monthly"
	}
	if sub.Currency == "" {
		sub.Currency = "USD"
	}
	if sub.GracePeriod == nil {
		g := seatkeeper.Duration(30 * time.Minute)
		sub.GracePeriod = &g
	}
	if sub.StartsAt.IsZero() {
		sub.StartsAt = now
	}
	sub.StartsAt = sub.StartsAt.UTC().Truncate(time.Microsecond) // as stored
	if sub.EndsAt != nil {
		e := sub.EndsAt.UTC().Truncate(time.Microsecond)
		sub.EndsAt = &e
	}
	switch {
	case sub.Model != "named" && sub.Model != "concurrent":
		bad("model", "must be named or concurrent")
	case sub.Enforcement != "hard" && sub.Enforcement != "commit":
		bad("enforcement", "must be hard or commit")
	case sub.Enforcement == "commit" && sub.Model != "named":
		bad("enforcement", "a commitment (R14) counts named users: use model named")
	}
	if sub.Quantity < 0 || sub.Quantity > 10_000_000 {
		bad("quantity", "must be from 0 to 10000000")
	}
	if sub.OverageAllowance < 0 || sub.OverageAllowance > 10_000_000 {
		bad("overage_allowance", "must be from 0 to 10000000")
	} else if sub.OverageAllowance > 0 && sub.Model != "concurrent" {
		bad("overage_allowance", "only concurrent pools have an overage allowance (R4)")
	}
	if g := time.Duration(*sub.GracePeriod); g < 0 || g > 24*time.Hour || g%time.Second != 0 {
		bad("grace_period", "must be whole seconds from 0s to 24h")
	}
	switch sub.BillingPeriod {
	case "monthly", "quarterly", "annual":
	default:
		bad("billing_period", "must be monthly, quarterly or annual")
	}
	if !currencyRe.MatchString(sub.Currency) {
		bad("currency", "must be an ISO 4217 code such as USD")
	}
	// Bounded so that no statement's amounts can overflow: 10,000,000
	// seats for a year at the highest price is 1.2e17 minor units.
	if sub.UnitPrice < 0 || sub.UnitPrice > MaxPrice {
		bad("unit_price", "must be whole minor units from 0 to 1000000000")
	}
	if sub.OveragePrice < 0 || sub.OveragePrice > MaxPrice {
		bad("overage_price", "must be whole minor units from 0 to 1000000000")
	}
	if sub.EndsAt != nil && !sub.EndsAt.After(sub.StartsAt) {
		bad("ends_at", "must be after starts_at")
	}
	if len(fields) > 0 {
		return &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid subscription", Fields: fields}
	}
	return nil
}

// recordPrices keeps the subscription's price history. Prices apply from
// the subscription's start, except that closed months keep theirs: a
// change applies from the end of the latest closed month on.
func (t *tx) recordPrices(sub seatkeeper.Subscription, existing, repriced bool) error {
	if !repriced {
		return nil
	}
	at := sub.StartsAt
	if existing {
		if through, ok, err := t.closedThrough(sub.Account); err != nil {
			return err
		} else if ok && through.After(at) {
			at = through
		}
	}
	// What was recorded from then on is superseded; a new subscription
	// starts a history of its own.
	from := micros(at)
	if !existing {
		from = math.MinInt64
	}
	if _, err := t.exec("DELETE FROM subscription_prices WHERE account = ? AND license = ? AND at >= ?", sub.Account, sub.License, from); err != nil {
		return err
	}
	_, err := t.exec("INSERT INTO subscription_prices (account, license, at, unit_price, overage_price) VALUES (?, ?, ?, ?, ?)",
		sub.Account, sub.License, micros(at), sub.UnitPrice, sub.OveragePrice)
	return err
}

// recordAllowance keeps the history of a subscription's overage allowance
// for the license usage report: a change applies from now on; a new
// subscription starts a history of its own, from the start.
func (t *tx) recordAllowance(sub seatkeeper.Subscription, existing, changed bool, now time.Time) error {
	if !changed {
		return nil
	}
	from := micros(now)
	if !existing {
		from = math.MinInt64
	}
	if _, err := t.exec("DELETE FROM subscription_allowances WHERE account = ? AND license = ? AND at >= ?", sub.Account, sub.License, from); err != nil {
		return err
	}
	_, err := t.exec("INSERT INTO subscription_allowances (account, license, at, allowance) VALUES (?, ?, ?, ?)", sub.Account, sub.License, from, sub.OverageAllowance)
	return err
}

// equalTimes says whether two optional times are the same.
func equalTimes(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

// boundSessions gives the live sessions of a pool whose term changed the
// expiry the new term allows: their last heartbeat plus their timeout (or
// the expiry they had, if later), but not past the term's end, nor now if
// the term has ended or not begun, nor before they began. A term brought
// forward ends them there (the reaper ends them; heartbeats extend them to
// it at most, see runBeats); a term put back gives them back their time.
// A subscription no longer concurrent has no pool: its sessions end now.
func (t *tx) boundSessions(sub seatkeeper.Subscription, now time.Time) error {
	if err := t.signInsStored(poolKey(sub.Account, sub.License)); err != nil {
		return err
	}
	until := int64(math.MaxInt64)
	if sub.EndsAt != nil {
		until = micros(*sub.EndsAt)
	}
	if (sub.EndsAt != nil && !sub.EndsAt.After(now)) || sub.StartsAt.After(now) || sub.Model != "concurrent" {
		until = micros(now)
	}
	greatest, least := t.s.greatestLeast()
	lock := ""
	if t.s.postgres {
		lock = " ORDER BY id FOR UPDATE" // in the order heartbeats and sign-outs lock them
	}
	expiry := greatest + `(started_at, ` + least + `(` + greatest + `(expires_at, last_seen + timeout), ?))`
	_, err := t.exec(`UPDATE sessions SET expires_at = `+expiry+`, reap_at = `+least+`(reap_at, `+expiry+`)
		WHERE id IN (SELECT id FROM sessions WHERE account = ? AND pool = ? AND ended_at IS NULL AND expires_at > ? AND expires_at <> `+expiry+lock+`)`,
		until, until, sub.Account, sub.License, micros(now), until)
	return err
}

// PutSubscription implements seatkeeper.AccountService.
func (s *Store) PutSubscription(ctx context.Context, by seatkeeper.Actor, sub seatkeeper.Subscription) (seatkeeper.Subscription, bool, error) {
	created := false
	err := s.write(ctx, func(t *tx) error {
		st, err := t.state(sub.Account)
		if err != nil {
			return err
		}
		existing, repriced, reallowed := false, true, true
		var prev seatkeeper.Subscription
		for _, cur := range st.subs {
			if cur.License == sub.License {
				existing, prev = true, cur
				repriced = cur.UnitPrice != sub.UnitPrice || cur.OveragePrice != sub.OveragePrice
				reallowed = cur.OverageAllowance != sub.OverageAllowance
				sub.CreatedAt = cur.CreatedAt
				if sub.StartsAt.IsZero() {
					sub.StartsAt = cur.StartsAt
				}
				if sub.GracePeriod == nil {
					sub.GracePeriod = cur.GracePeriod
				}
			}
		}
		if err := validateSubscription(&sub, s.Now()); err != nil {
			return err
		}
		model, _ := catalog.ParseModel(sub.Model)
		if err := entitlement.CanSubscribe(st.cat, entitlement.Subscription{License: sub.License, Model: model, Quantity: sub.Quantity}, existing); err != nil {
			return err
		}
		now := s.Now().UTC().Truncate(time.Microsecond)
		if !existing {
			sub.CreatedAt = now
		}
		sub.UpdatedAt = now
		var ends any
		if sub.EndsAt != nil {
			ends = micros(*sub.EndsAt)
		}
		if _, err := t.exec(`INSERT INTO subscriptions (account, license, model, enforcement, quantity, overage_allowance, grace_seconds,
			billing_period, currency, unit_price, overage_price, starts_at, ends_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account, license) DO UPDATE SET model = excluded.model, enforcement = excluded.enforcement,
			quantity = excluded.quantity, overage_allowance = excluded.overage_allowance, grace_seconds = excluded.grace_seconds,
			billing_period = excluded.billing_period, currency = excluded.currency, unit_price = excluded.unit_price,
			overage_price = excluded.overage_price, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
			updated_at = excluded.updated_at`,
			sub.Account, sub.License, sub.Model, sub.Enforcement, sub.Quantity, sub.OverageAllowance,
			int64(time.Duration(*sub.GracePeriod)/time.Second), sub.BillingPeriod, sub.Currency, sub.UnitPrice, sub.OveragePrice,
			micros(sub.StartsAt), ends, micros(sub.CreatedAt), micros(now)); err != nil {
			return err
		}
		created = !existing
		if err := t.recordPrices(sub, existing, repriced); err != nil {
			return err
		}
		if err := t.recordAllowance(sub, existing, reallowed, now); err != nil {
			return err
		}
		if existing && (!prev.StartsAt.Equal(sub.StartsAt) || !equalTimes(prev.EndsAt, sub.EndsAt) || prev.Model != sub.Model) {
			// The account row first (bump), then the sessions, then the
			// pools (afterSubscriptionChange): a sign-in of another
			// process settling meanwhile waits, or is run again
			// (accountsUnmoved); sign-outs lock sessions before pools.
			if err := t.bump(sub.Account); err != nil {
				return err
			}
			if err := t.boundSessions(sub, now); err != nil {
				return err
			}
		}
		return t.afterSubscriptionChange(sub.Account, by, "subscription.put", sub.License, sub, sub.Quantity)
	})
	return sub, created, err
}

// DeleteSubscription implements seatkeeper.AccountService.
func (s *Store) DeleteSubscription(ctx context.Context, by seatkeeper.Actor, account, license string) error {
	return s.write(ctx, func(t *tx) error {
		st, err := t.state(account)
		if err != nil {
			return err
		}
		// Statements are computed from the subscriptions there are: one
		// billed in a closed month stays, to be ended by its ends_at.
		closed, found, err := t.closedThrough(account)
		if err != nil {
			return err
		}
		for _, sub := range st.subs {
			if sub.License == license && found && sub.StartsAt.Before(closed) {
				return seatkeeper.Errorf(seatkeeper.EConflict, "%s was billed in months now closed (up to %s): its statements must stay; end it with ends_at instead of deleting it",
					license, closed.UTC().Format(time.RFC3339))
			}
		}
		res, err := t.exec("DELETE FROM subscriptions WHERE account = ? AND license = ?", account, license)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return seatkeeper.Errorf(seatkeeper.ENotFound, "account %s has no subscription to %s", account, license)
		}
		return t.afterSubscriptionChange(account, by, "subscription.delete", license, nil, 0)
	})
}

// afterSubscriptionChange recompiles the account, rewrites its caps and
// records the change in the ledger and the audit trail.
func (t *tx) afterSubscriptionChange(account string, by seatkeeper.Actor, action, license string, detail any, quantity int) error {
	if err := t.bump(account); err != nil {
		return err
	}
	st, err := t.state(account)
	if err != nil {
		return err
	}
	if err := t.recomputeCaps(st); err != nil {
		return err
	}
	if err := t.capsHold(st, license); err != nil {
		return err
	}
	if err := t.event(account, "subscription.change", "", license, "", quantity); err != nil {
		return err
	}
	return t.audit(account, by, action, license, detail)
}

// Settings implements seatkeeper.AccountService.
func (s *Store) Settings(ctx context.Context, account string) (seatkeeper.Settings, error) {
	var out seatkeeper.Settings
	err := s.read(ctx, func(t *tx) error {
		st, err := t.state(account)
		if err == nil {
			out = st.settings
		}
		return err
	})
	return out, err
}

// PatchSettings implements seatkeeper.AccountService.
func (s *Store) PatchSettings(ctx context.Context, by seatkeeper.Actor, account string, patch []byte) (seatkeeper.Settings, error) {
	var out seatkeeper.Settings
	err := s.write(ctx, func(t *tx) error {
		st, err := t.state(account)
		if err != nil {
			return err
		}
		if out, err = st.settings.ApplyPatch(patch); err != nil {
			return err
		}
		doc, _ := json.Marshal(out)
		if _, err := t.exec("UPDATE accounts SET settings = ? WHERE id = ?", string(doc), account); err != nil {
			return err
		}
		// Live presences take a new timeout or idle window from their next
		// heartbeat on: the expiry a heartbeat already gave stands.
		before, after := st.settings.Concurrent, out.Concurrent
		if before.SessionTimeout != after.SessionTimeout || before.PortalIdleWindow != after.PortalIdleWindow {
			// A sign-in earlier in the batch has no row yet to change.
			if err := t.signInsStored(accountKey(account)); err != nil {
				return err
			}
			if _, err := t.exec("UPDATE sessions SET timeout = CASE WHEN kind = ? THEN CAST(? AS BIGINT) ELSE CAST(? AS BIGINT) END WHERE account = ? AND ended_at IS NULL",
				seatkeeper.KindWorkSession, time.Duration(after.SessionTimeout).Microseconds(), time.Duration(after.PortalIdleWindow).Microseconds(), account); err != nil {
				return err
			}
		}
		if err := t.bump(account); err != nil {
			return err
		}
		return t.audit(account, by, "settings.patch", account, out)
	})
	return out, err
}

// Audit implements seatkeeper.AccountService.
func (s *Store) Audit(ctx context.Context, account string, from, to time.Time) ([]seatkeeper.AuditRecord, error) {
	out := []seatkeeper.AuditRecord{}
	err := s.read(ctx, func(t *tx) error {
		if _, err := t.state(account); err != nil {
			return err
		}
		rows, err := t.query("SELECT id, at, token_id, token_kind, acting_user, action, target, detail FROM audit WHERE account = ? AND at >= ? AND at < ? ORDER BY id LIMIT 100000",
			account, micros(from), micros(to))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r seatkeeper.AuditRecord
			var at int64
			if err := rows.Scan(&r.ID, &at, &r.TokenID, &r.TokenKind, &r.ActingUser, &r.Action, &r.Target, &r.Detail); err != nil {
				return err
			}
			r.At = fromMicros(at)
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}

// capsHold refuses a subscription change that would leave more seats in
// use than a cap allows: R1's "never more assigned than the quantity"
// holds across changes of the quantity too. Unassign first, then reduce.
func (t *tx) capsHold(st *acctState, license string) error {
	account := st.account.ID
	// Of the add-on seats (R9), those of the license changed or of the
	// licenses a changed plan covers: a change elsewhere is not refused
	// for them (seats held beyond them before they were counted stay).
	addons := []string{license}
	for _, l := range st.ent.CoverageLicenses() {
		if st.ent.Covers(license, l) {
			addons = append(addons, l)
		}
	}
	in, list := t.inList(addons)
	rows, err := t.query(`SELECT license, used, cap FROM seat_counters WHERE account = ? AND capped AND used > cap
		UNION ALL SELECT license || ' (held without a plan that covers it)', used, cap FROM addon_counters WHERE account = ? AND capped AND used > cap AND license `+in+`
		ORDER BY 1`, account, account, list)
	if err != nil {
		return err
	}
	defer rows.Close()
	var over []string
	for rows.Next() {
		var l string
		var used, limit int
		if err := rows.Scan(&l, &used, &limit); err != nil {
			return err
		}
		over = append(over, fmt.Sprintf("%s has %d seats in use and would allow %d", l, used, limit))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(over) > 0 {
		return seatkeeper.Errorf(seatkeeper.EConflict, "%s: unassign first", strings.Join(over, "; "))
	}
	return nil
}
