package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/entitlement"
)

// userState is a user with their direct licenses and roles, by source, as
// loaded in a write transaction and then changed in memory.
type userState struct {
	exists bool
	u      seatkeeper.User
	lic    map[string]map[string]bool              // license -> sources
	roles  map[entitlement.RoleRef]map[string]bool // role -> sources
}

func (u *userState) holding() entitlement.Holding {
	h := entitlement.Holding{Active: u.exists && u.u.Active}
	for l := range u.lic {
		h.Licenses = append(h.Licenses, l)
	}
	for r := range u.roles {
		h.Roles = append(h.Roles, r)
	}
	sort.Strings(h.Licenses)
	sort.Slice(h.Roles, func(i, j int) bool {
		return h.Roles[i].Service+":"+h.Roles[i].Role < h.Roles[j].Service+":"+h.Roles[j].Role
	})
	return h
}

func (u *userState) clone() *userState {
	c := &userState{exists: u.exists, u: u.u, lic: map[string]map[string]bool{}, roles: map[entitlement.RoleRef]map[string]bool{}}
	for k, v := range u.lic {
		c.lic[k] = maps.Clone(v)
	}
	for k, v := range u.roles {
		c.roles[k] = maps.Clone(v)
	}
	return c
}

func addSource[K comparable](m map[K]map[string]bool, k K, source string) bool {
	if m[k] == nil {
		m[k] = map[string]bool{}
	}
	if m[k][source] {
		return false
	}
	m[k][source] = true
	return true
}

// removeSource removes one source, or every source when source is "".
func removeSource[K comparable](m map[K]map[string]bool, k K, source string) bool {
	if m[k] == nil || (source != "" && !m[k][source]) {
		return false
	}
	if source == "" {
		delete(m, k)
		return true
	}
	delete(m[k], source)
	if len(m[k]) == 0 {
		delete(m, k)
	}
	return true
}

// userColumns are the columns of a user row read by loadUser, with their
// assignments and roles folded in.
const userColumns = `user_name, email, display_name, external_id, active, created_at, updated_at,
	(SELECT string_agg(a.license || '/' || a.source, ',') FROM assignments a WHERE a.account = u.account AND a.user_id = u.id),
	(SELECT string_agg(r.service || '/' || r.role || '/' || r.source, ',') FROM user_roles r WHERE r.account = u.account AND r.user_id = u.id)`

// loadUser reads a user in a write transaction, locking their row so that
// concurrent changes to one user are serialized.
func (t *tx) loadUser(account, id string) (*userState, error) {
	if err := t.lockUsers(`u.account = ? AND u.id = ?`, account, id); err != nil {
		return nil, err
	}
	// The user row with its assignments and roles folded in.
	u, err := scanUser(t.queryRow(`SELECT `+userColumns+` FROM users u WHERE u.account = ? AND u.id = ?`+t.lockFound(), account, id), account, id)
	if errors.Is(err, sql.ErrNoRows) {
		return u, nil
	}
	return u, err
}

// lockUsers locks, in a write on PostgreSQL, the rows of the users where
// cond holds, in one order. It is a statement of its own: a statement that
// waited for a row lock still reads every other table (the assignments,
// the roles) as they were when it began, and would miss what the holder
// of the lock committed. The read after it starts afresh. (SQLite needs
// no lock: its writes are serialized.)
func (t *tx) lockUsers(cond string, args ...any) error {
	if t.forUpdate() == "" {
		return nil
	}
	// Its answer is not needed: on PostgreSQL it goes out with the read
	// that follows, which runs after it, so sees what the lock waited for.
	return t.queue(`SELECT 1 FROM users u WHERE `+cond+` ORDER BY u.account, u.id`+t.forUpdate(), args...)
}

// lockFound is the suffix of the read after lockUsers: a user that did
// not exist when lockUsers ran (another process was creating it, or had
// deleted the row it waited for and created it anew) is read all the
// same, and must be locked too. NOWAIT: a user another write holds now is
// a lock_not_available, and the write runs again (retryable) rather than
// read that user's holdings as they were before the wait.
func (t *tx) lockFound() string {
	if t.forUpdate() == "" {
		return ""
	}
	return " FOR UPDATE OF u NOWAIT"
}

// loadUsers is loadUser for many users (account and id pairs), locked in
// one order. Users that do not exist are missing from the answer.
func (t *tx) loadUsers(keys [][]any) (map[[2]string]*userState, error) {
	out := map[[2]string]*userState{}
	if len(keys) == 0 {
		return out, nil
	}
	var args []any
	in := `(u.account, u.id) IN (VALUES ` + rowsOf(keys, &args) + `)`
	if err := t.lockUsers(in, args...); err != nil {
		return nil, err
	}
	rows, err := t.query(`SELECT u.account, u.id, `+userColumns+` FROM users u WHERE `+in+` ORDER BY u.account, u.id`+t.lockFound(), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var account, id string
		u, err := scanUser(rows, "", "", &account, &id)
		if err != nil {
			return nil, err
		}
		u.u.Account, u.u.ID = account, id
		out[[2]string{account, id}] = u
	}
	return out, rows.Err()
}

// scanUser scans userColumns, after the destinations in first.
func scanUser(row interface{ Scan(...any) error }, account, id string, first ...any) (*userState, error) {
	u := &userState{lic: map[string]map[string]bool{}, roles: map[entitlement.RoleRef]map[string]bool{}}
	u.u.Account, u.u.ID = account, id
	var created, updated int64
	var lics, roles sql.NullString
	if err := row.Scan(append(first, &u.u.UserName, &u.u.Email, &u.u.DisplayName, &u.u.ExternalID, &u.u.Active, &created, &updated, &lics, &roles)...); err != nil {
		return u, err
	}
	u.exists = true
	u.u.CreatedAt, u.u.UpdatedAt = fromMicros(created), fromMicros(updated)
	// Keys and sources are catalog words and fixed names: no '/' or ','.
	for _, item := range splitList(lics.String) {
		l, src, _ := strings.Cut(item, "/")
		addSource(u.lic, l, src)
	}
	for _, item := range splitList(roles.String) {
		parts := strings.SplitN(item, "/", 3)
		if len(parts) == 3 {
			addSource(u.roles, entitlement.RoleRef{Service: parts[0], Role: parts[1]}, parts[2])
		}
	}
	return u, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// saveUser writes (at flush) the differences between old and cur, and
// sets cur's timestamps as they will be stored.
func (t *tx) saveUser(old, cur *userState) {
	at := t.s.Now().UTC().Truncate(time.Microsecond)
	now := micros(at)
	acct, id := cur.u.Account, cur.u.ID
	if cur.exists && !old.exists {
		cur.u.CreatedAt, cur.u.UpdatedAt = at, at
	} else if cur.exists && !sameFields(old.u, cur.u) {
		cur.u.UpdatedAt = at
	}
	switch {
	case !cur.exists && old.exists:
		t.later("DELETE FROM users WHERE account = ? AND id = ?", acct, id) // cascades to assignments and roles
		return
	case !cur.exists:
		return
	case !old.exists:
		t.later("INSERT INTO users (account, id, user_name, user_name_key, email, display_name, external_id, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			acct, id, cur.u.UserName, seatkeeper.NameKey(cur.u.UserName), cur.u.Email, cur.u.DisplayName, cur.u.ExternalID, cur.u.Active, now, now)
	case !sameFields(old.u, cur.u):
		// The key follows a new name; a name kept keeps its key, which
		// for names stored before the keys may be another (fillNameKeys).
		t.later("UPDATE users SET user_name_key = CASE WHEN user_name = ? THEN user_name_key ELSE ? END, user_name = ?, email = ?, display_name = ?, external_id = ?, active = ?, updated_at = ? WHERE account = ? AND id = ?",
			cur.u.UserName, seatkeeper.NameKey(cur.u.UserName), cur.u.UserName, cur.u.Email, cur.u.DisplayName, cur.u.ExternalID, cur.u.Active, now, acct, id)
	}
	for l, srcs := range old.lic {
		for src := range srcs {
			if !cur.lic[l][src] {
				t.later("DELETE FROM assignments WHERE account = ? AND user_id = ? AND license = ? AND source = ?", acct, id, l, src)
			}
		}
	}
	for l, srcs := range cur.lic {
		for src := range srcs {
			if !old.lic[l][src] {
				t.later("INSERT INTO assignments (account, user_id, license, source, created_at) VALUES (?, ?, ?, ?, ?)", acct, id, l, src, now)
			}
		}
	}
	for r, srcs := range old.roles {
		for src := range srcs {
			if !cur.roles[r][src] {
				t.later("DELETE FROM user_roles WHERE account = ? AND user_id = ? AND service = ? AND role = ? AND source = ?", acct, id, r.Service, r.Role, src)
			}
		}
	}
	for r, srcs := range cur.roles {
		for src := range srcs {
			if !old.roles[r][src] {
				t.later("INSERT INTO user_roles (account, user_id, service, role, source, created_at) VALUES (?, ?, ?, ?, ?, ?)", acct, id, r.Service, r.Role, src, now)
			}
		}
	}
}

// uniqueUserName turns a unique violation (user_name is unique per account,
// case-insensitively) into a conflict.
func uniqueUserName(err error) error {
	if err == nil {
		return nil
	}
	msg := strings.ToLower(err.Error())
	if strings.Contains(msg, "users_user_name") || strings.Contains(msg, "users.account, lower") || (strings.Contains(msg, "unique") && strings.Contains(msg, "user_name")) {
		return seatkeeper.Errorf(seatkeeper.EConflict, "another user of the account has this user_name")
	}
	return err
}

// moveSeats records the seat changes of a user between a holding under
// one version of the account and a holding under another: ledger events
// now, counter changes at flush.
func (t *tx) moveSeats(before, after *acctState, user string, hb, ha entitlement.Holding, source string) error {
	account := after.account.ID
	was, now := before.ent.Seats(hb), after.ent.Seats(ha)
	if hb.Active != ha.Active {
		typ := "user.deactivate"
		if ha.Active {
			typ = "user.activate"
		}
		t.event(account, typ, user, "", "", 0)
	}
	differ(was, now, func(l string, delta int) {
		typ := "assignment.add"
		if delta < 0 {
			typ = "assignment.remove"
		}
		t.event(account, typ, user, l, source, 0)
		t.seat(after, l, delta)
	})
	// Of those, the coverage licenses held as add-ons (R9).
	differ(before.ent.AddonSeats(hb), after.ent.AddonSeats(ha), func(l string, delta int) { t.addonSeat(after, l, delta) })
	return nil
}

// differ calls fn with -1 for each of was not in now, then with +1 for
// each of now not in was.
func differ(was, now []string, fn func(l string, delta int)) {
	for _, l := range was {
		if !slices.Contains(now, l) {
			fn(l, -1)
		}
	}
	for _, l := range now {
		if !slices.Contains(was, l) {
			fn(l, +1)
		}
	}
}

// changeUser is the one way users change: load the user (locked), let fn
// change them in memory under the account's rules, then write the
// difference, the seats, the ledger, the audit record and the
// notification, all in one transaction.
func (s *Store) changeUser(ctx context.Context, by seatkeeper.Actor, account, id, action, source string, fn func(st *acctState, u *userState) error) (seatkeeper.User, error) {
	var out seatkeeper.User
	err := s.write(ctx, func(t *tx) error {
		st, err := t.state(account)
		if err != nil {
			return err
		}
		out, err = t.changeUser(st, by, id, action, source, fn)
		return err
	})
	return out, err
}

// changeUser is Store.changeUser inside a write that already holds the
// account's state: a write that changes several users (a group's members)
// calls it once for each. A user who neither existed nor was created is
// left alone.
func (t *tx) changeUser(st *acctState, by seatkeeper.Actor, id, action, source string, fn func(st *acctState, u *userState) error) (seatkeeper.User, error) {
	account := st.account.ID
	old, err := t.loadUser(account, id)
	if err != nil {
		return seatkeeper.User{}, err
	}
	cur := old.clone()
	if err := fn(st, cur); err != nil {
		return seatkeeper.User{}, err
	}
	if !old.exists && !cur.exists {
		return cur.u, nil
	}
	if err := roleSeatsAssignable(st.ent, st.ent, old.holding(), cur.holding()); err != nil {
		return seatkeeper.User{}, err
	}
	// A change by hand of an active user's licenses may not leave one
	// without what it requires. What an identity provider takes away
	// (SCIM, a group, SAML) is taken even so: refused, the provider would
	// send it again for ever. Nor is deactivation refused (R3: it frees
	// everything), nor reactivation, which restores what roles, groups and
	// SCIM gave and not the manual rest (R3). A license left so grants
	// nothing until its requirement is back (R2, R16).
	stays := old.exists && cur.exists && old.u.Active && cur.u.Active
	if bad := st.ent.Unmet(cur.holding()); len(bad) > 0 && (stays || !old.exists) && !provisioned(source) {
		return seatkeeper.User{}, seatkeeper.Errorf(seatkeeper.EConflict, "the change would leave %s without what it requires (a plan or one of its requires_one_of); change those first", strings.Join(bad, ", "))
	}
	t.saveUser(old, cur)
	if old.exists && old.u.Active && !(cur.exists && cur.u.Active) {
		// R3: deactivation ends the user's presences.
		if _, err := t.endUserSessions(account, id, "deactivated"); err != nil {
			return seatkeeper.User{}, err
		}
	} else if old.exists && st.poolOf(old) != st.poolOf(cur) {
		// The user's pool changed (a concurrent plan given or taken):
		// presences started under the old one end; the user signs in
		// again, and counts in the new pool under its cap (R4).
		if _, err := t.endUserSessions(account, id, "plan_changed"); err != nil {
			return seatkeeper.User{}, err
		}
	}
	if err := t.audit(account, by, action, id, cur.holding()); err != nil {
		return seatkeeper.User{}, err
	}
	t.changed(account, id)
	return view(st, cur), t.moveSeats(st, st, id, old.holding(), cur.holding(), source)
}

// provisioned says whether a change comes from an identity provider.
func provisioned(source string) bool {
	return source == seatkeeper.SourceSCIM || source == seatkeeper.SourceGroup || source == seatkeeper.SourceSAML
}

// roleSeatsAssignable checks the seats that roles newly give an active
// user (holding cur under after, where it was old under before) as a
// direct assignment of each would be checked (R15 seats are assignments):
// a license retired or not for sale (R16), one whose plan or
// requires_one_of the user lacks (R2, R16), one of an exclusive group
// beside another, each refused with the code a direct assignment gets. The
// seats the user's roles gave before, active or not, are not new: a
// reactivation restores them.
func roleSeatsAssignable(before, after *entitlement.Account, old, cur entitlement.Holding) error {
	if !cur.Active {
		return nil
	}
	old.Active = true
	had := before.Seats(old)
	for _, l := range after.Seats(cur) {
		if !slices.Contains(cur.Licenses, l) && !slices.Contains(had, l) {
			if err := after.CanAssign(cur, l); err != nil {
				return err
			}
		}
	}
	return nil
}

// set stores the fields of in. Deactivating drops manual and SAML
// assignments (R3); those from roles, groups and SCIM come back on
// reactivation.
func (u *userState) set(in seatkeeper.User) {
	wasActive := u.exists && u.u.Active
	u.exists = true
	u.u.UserName, u.u.Email, u.u.DisplayName, u.u.ExternalID, u.u.Active = in.UserName, in.Email, in.DisplayName, in.ExternalID, in.Active
	if wasActive && !in.Active {
		for l := range u.lic {
			removeSource(u.lic, l, seatkeeper.SourceManual)
			removeSource(u.lic, l, seatkeeper.SourceSAML)
		}
	}
}

func validateUser(u *seatkeeper.User) error {
	var fields []seatkeeper.FieldError
	bad := func(f, m string) { fields = append(fields, seatkeeper.FieldError{Field: f, Message: m}) }
	if !seatkeeper.ValidID(u.ID) {
		bad("id", "must match [A-Za-z0-9._@:-]{1,128}")
	}
	if u.UserName == "" {
		u.UserName = u.ID
	}
	for f, v := range map[string]string{"user_name": u.UserName, "email": u.Email, "display_name": u.DisplayName, "external_id": u.ExternalID} {
		if len(v) > 256 || !seatkeeper.PlainText(v) {
			bad(f, "must be at most 256 characters, without control characters")
		}
	}
	if u.Email != "" && !strings.Contains(u.Email, "@") {
		bad("email", "must be an email address")
	}
	if len(fields) > 0 {
		sort.Slice(fields, func(i, j int) bool { return fields[i].Field < fields[j].Field })
		return &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid user", Fields: fields}
	}
	return nil
}

// PutUser implements seatkeeper.UserService.
func (s *Store) PutUser(ctx context.Context, by seatkeeper.Actor, in seatkeeper.User) (seatkeeper.User, bool, error) {
	if err := validateUser(&in); err != nil {
		return in, false, err
	}
	created := false
	out, err := s.changeUser(ctx, by, in.Account, in.ID, "user.put", seatkeeper.SourceManual, func(st *acctState, u *userState) error {
		created = !u.exists
		u.set(in)
		return nil
	})
	if err != nil {
		return in, false, err
	}
	return out, created, nil
}

// DeleteUser implements seatkeeper.UserService.
func (s *Store) DeleteUser(ctx context.Context, by seatkeeper.Actor, account, id string) error {
	_, err := s.changeUser(ctx, by, account, id, "user.delete", seatkeeper.SourceManual, func(_ *acctState, u *userState) error {
		if !u.exists {
			return seatkeeper.Errorf(seatkeeper.ENotFound, "no user %q", id)
		}
		u.exists, u.u.Active = false, false
		clear(u.lic)
		clear(u.roles)
		return nil
	})
	return err
}

// AssignLicense implements seatkeeper.UserService.
func (s *Store) AssignLicense(ctx context.Context, by seatkeeper.Actor, account, user, license, source string) (seatkeeper.User, bool, error) {
	created := false
	u, err := s.changeUser(ctx, by, account, user, "license.assign", source, func(st *acctState, u *userState) error {
		if !u.exists {
			return seatkeeper.Errorf(seatkeeper.ENotFound, "no user %q", user)
		}
		if len(u.lic[license]) == 0 {
			// A license already held from another source needs no new seat.
			if err := st.ent.CanAssign(u.holding(), license); err != nil {
				return err
			}
		}
		created = addSource(u.lic, license, source)
		return nil
	})
	return u, created, err
}

// UnassignLicense implements seatkeeper.UserService. Source "" removes
// every direct assignment of the license.
func (s *Store) UnassignLicense(ctx context.Context, by seatkeeper.Actor, account, user, license, source string) error {
	_, err := s.changeUser(ctx, by, account, user, "license.unassign", source, func(_ *acctState, u *userState) error {
		if !u.exists {
			return seatkeeper.Errorf(seatkeeper.ENotFound, "no user %q", user)
		}
		if !removeSource(u.lic, license, source) {
			return seatkeeper.Errorf(seatkeeper.ENotFound, "user %s holds no %s assignment of %s", user, sourceWord(source), license)
		}
		return nil
	})
	return err
}

func sourceWord(source string) string {
	if source == "" {
		return "direct"
	}
	return source
}

// AssignRole implements seatkeeper.UserService.
func (s *Store) AssignRole(ctx context.Context, by seatkeeper.Actor, account, user, service, role, source string) (seatkeeper.User, bool, error) {
	created := false
	u, err := s.changeUser(ctx, by, account, user, "role.assign", seatkeeper.SourceRole, func(st *acctState, u *userState) error {
		if !u.exists {
			return seatkeeper.Errorf(seatkeeper.ENotFound, "no user %q", user)
		}
		ref := entitlement.RoleRef{Service: service, Role: role}
		if !st.ent.HasRole(ref) {
			return seatkeeper.Errorf(seatkeeper.ENotFound, "account %s has no role %s:%s", account, service, role)
		}
		created = addSource(u.roles, ref, source)
		return nil
	})
	return u, created, err
}

// UnassignRole implements seatkeeper.UserService. Source "" removes the
// role whatever gave it.
func (s *Store) UnassignRole(ctx context.Context, by seatkeeper.Actor, account, user, service, role, source string) error {
	_, err := s.changeUser(ctx, by, account, user, "role.unassign", seatkeeper.SourceRole, func(_ *acctState, u *userState) error {
		if !u.exists {
			return seatkeeper.Errorf(seatkeeper.ENotFound, "no user %q", user)
		}
		if !removeSource(u.roles, entitlement.RoleRef{Service: service, Role: role}, source) {
			return seatkeeper.Errorf(seatkeeper.ENotFound, "user %s does not hold role %s:%s", user, service, role)
		}
		return nil
	})
	return err
}

// User implements seatkeeper.UserService.
func (s *Store) User(ctx context.Context, account, id string) (seatkeeper.User, error) {
	var out seatkeeper.User
	err := s.read(ctx, func(t *tx) error {
		st, err := t.state(account)
		if err != nil {
			return err
		}
		u, err := t.loadUser(account, id)
		if err != nil {
			return err
		}
		if !u.exists {
			return seatkeeper.Errorf(seatkeeper.ENotFound, "no user %q", id)
		}
		out = view(st, u)
		return nil
	})
	return out, err
}

// view is the API's user: direct licenses by source, licenses from roles,
// explicit roles by source and the default roles the user gets (R11).
func view(st *acctState, u *userState) seatkeeper.User {
	out := u.u
	out.Licenses, out.Roles = []seatkeeper.HeldLicense{}, []seatkeeper.HeldRole{}
	h := u.holding()
	for _, l := range h.Licenses {
		for _, src := range sortedKeys(u.lic[l]) {
			out.Licenses = append(out.Licenses, seatkeeper.HeldLicense{License: l, Source: src})
		}
	}
	for _, r := range h.Roles {
		for _, src := range sortedKeys(u.roles[r]) {
			out.Roles = append(out.Roles, seatkeeper.HeldRole{Service: r.Service, Role: r.Role, Source: src})
		}
		for _, l := range st.ent.RoleLicenses(r) {
			out.Licenses = append(out.Licenses, seatkeeper.HeldLicense{License: l, Source: seatkeeper.SourceRole})
		}
	}
	for _, r := range st.ent.Compile(h).DefaultRoles() {
		out.Roles = append(out.Roles, seatkeeper.HeldRole{Service: r.Service, Role: r.Role, Source: seatkeeper.SourceDefault})
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := slices.Collect(maps.Keys(m))
	sort.Strings(out)
	return out
}

// Users implements seatkeeper.UserService with keyset pagination on id.
func (s *Store) Users(ctx context.Context, account, cursor string, limit int) ([]seatkeeper.User, string, error) {
	after := ""
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !seatkeeper.ValidID(string(b)) {
			return nil, "", seatkeeper.Errorf(seatkeeper.EInvalid, "invalid cursor")
		}
		after = string(b)
	}
	if limit <= 0 {
		limit = 100
	}
	var out []seatkeeper.User
	next := ""
	err := s.read(ctx, func(t *tx) error {
		st, err := t.state(account)
		if err != nil {
			return err
		}
		ids, err := t.strings("SELECT id FROM users WHERE account = ? AND id > ? ORDER BY id LIMIT ?", account, after, limit+1)
		if err != nil {
			return err
		}
		if len(ids) > limit {
			ids = ids[:limit]
			next = base64.RawURLEncoding.EncodeToString([]byte(ids[limit-1]))
		}
		for _, id := range ids {
			u, err := t.loadUser(account, id)
			if err != nil {
				return err
			}
			out = append(out, view(st, u))
		}
		return nil
	})
	if out == nil {
		out = []seatkeeper.User{}
	}
	return out, next, err
}

func sameFields(a, b seatkeeper.User) bool {
	return a.UserName == b.UserName && a.Email == b.Email && a.DisplayName == b.DisplayName &&
		a.ExternalID == b.ExternalID && a.Active == b.Active
}
