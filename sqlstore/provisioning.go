package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/entitlement"
)

// maxAttributes bounds the SCIM attributes kept verbatim for one user.
const maxAttributes = 64 << 10

// ProvisionUser implements seatkeeper.ProvisioningService.
func (s *Store) ProvisionUser(ctx context.Context, by seatkeeper.Actor, p seatkeeper.Provision) (seatkeeper.ProvisionedUser, bool, error) {
	in := p.User
	create := in.ID == ""
	if create {
		in.ID = seatkeeper.NewID("u")
	}
	attrs, err := attributesOf(p.Attributes)
	if err != nil {
		return seatkeeper.ProvisionedUser{}, false, err
	}
	if err := validateUser(&in); err != nil {
		return seatkeeper.ProvisionedUser{}, false, err
	}
	var out seatkeeper.ProvisionedUser
	err = s.write(ctx, func(t *tx) error {
		st, err := t.state(in.Account)
		if err != nil {
			return err
		}
		before, found, err := t.provisioned(in.Account, in.ID)
		if err != nil {
			return err
		}
		switch {
		case create && found:
			return seatkeeper.Errorf(seatkeeper.EConflict, "user id %s is taken", in.ID)
		case !create && !found:
			return seatkeeper.Errorf(seatkeeper.ENotFound, "no user %q", in.ID)
		case p.IfMatch != "" && before.ETag() != p.IfMatch:
			return seatkeeper.Errorf(seatkeeper.EPrecondition, "the user has changed: If-Match %s, current %s", p.IfMatch, before.ETag())
		}
		u, err := t.changeUser(st, by, in.ID, "user.provision", seatkeeper.SourceSCIM, func(st *acctState, u *userState) error {
			u.set(in)
			if p.Grants != nil {
				return grant(st, u, seatkeeper.SourceSCIM, *p.Grants, true)
			}
			return nil
		})
		if err != nil {
			return err
		}
		t.later("INSERT INTO scim_users (account, user_id, attributes) VALUES (?, ?, ?) ON CONFLICT (account, user_id) DO UPDATE SET attributes = excluded.attributes",
			in.Account, in.ID, attrs)
		out = seatkeeper.ProvisionedUser{User: u, Attributes: json.RawMessage(attrs), Granted: grantsFrom(u, seatkeeper.SourceSCIM)}
		if found && u.UpdatedAt.Equal(before.UpdatedAt) && out.ETag() != before.ETag() {
			// Only SCIM attributes or grants changed: the user changed all the same.
			out.UpdatedAt = t.s.Now().UTC().Truncate(time.Microsecond)
			t.later("UPDATE users SET updated_at = ? WHERE account = ? AND id = ?", micros(out.UpdatedAt), in.Account, in.ID)
		}
		return nil
	})
	if err != nil {
		return seatkeeper.ProvisionedUser{}, false, err
	}
	return out, create, nil
}

// grantsFrom lists what the user holds directly from source.
func grantsFrom(u seatkeeper.User, source string) seatkeeper.Grants {
	g := seatkeeper.Grants{Licenses: []string{}, Roles: []string{}}
	for _, l := range u.Licenses {
		if l.Source == source {
			g.Licenses = append(g.Licenses, l.License)
		}
	}
	for _, r := range u.Roles {
		if r.Source == source {
			g.Roles = append(g.Roles, r.Service+":"+r.Role)
		}
	}
	slices.Sort(g.Licenses)
	slices.Sort(g.Roles)
	return g
}

// attributesOf checks that raw is one JSON object of reasonable size.
func attributesOf(raw json.RawMessage) (string, error) {
	if len(raw) == 0 {
		return "{}", nil
	}
	var m map[string]any
	if len(raw) > maxAttributes || json.Unmarshal(raw, &m) != nil || m == nil {
		return "", seatkeeper.Errorf(seatkeeper.EInvalid, "the SCIM attributes must be one JSON object of at most %d bytes", maxAttributes)
	}
	return string(raw), nil
}

// grant makes what u holds from source exactly g: what is no longer listed
// is removed, what is new is assigned under the API's rules (a plan before
// the add-ons that need it, whatever the order given). checkInactive
// refuses new licenses for an inactive user (user_inactive), as the API
// does; a group's members get their grants even while inactive, to hold
// their seats again on reactivation (R3).
func grant(st *acctState, u *userState, source string, g seatkeeper.Grants, checkInactive bool) error {
	roles, err := roleRefs(st, g.Roles)
	if err != nil {
		return err
	}
	for l := range u.lic {
		if !slices.Contains(g.Licenses, l) {
			removeSource(u.lic, l, source)
		}
	}
	for r := range u.roles {
		if !slices.Contains(roles, r) {
			removeSource(u.roles, r, source)
		}
	}
	var pending []string
	for _, l := range g.Licenses {
		if _, ok := st.cat.License(l); !ok {
			return seatkeeper.Errorf(seatkeeper.EInvalid, "catalog %s has no license %q", st.cat.Name, l)
		}
		if !u.lic[l][source] && !slices.Contains(pending, l) {
			pending = append(pending, l)
		}
	}
	for len(pending) > 0 {
		var refused error
		var left []string
		for _, l := range pending {
			var err error
			switch {
			case len(u.lic[l]) > 0:
				// Already held from another source: no new seat.
			case !u.u.Active && !checkInactive:
				// Held again, with its seat, on reactivation (R3).
			default:
				err = st.ent.CanAssign(u.holding(), l)
			}
			if err != nil {
				refused = cmpErr(refused, err)
				left = append(left, l)
				continue
			}
			addSource(u.lic, l, source)
		}
		if len(left) == len(pending) {
			return refused
		}
		pending = left
	}
	for _, r := range roles {
		addSource(u.roles, r, source)
	}
	return nil
}

// cmpErr keeps the first error.
func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// roleRefs parses "service:role" names and checks the account has them.
func roleRefs(st *acctState, names []string) ([]entitlement.RoleRef, error) {
	var out []entitlement.RoleRef
	for _, n := range names {
		svc, role, ok := strings.Cut(n, ":")
		ref := entitlement.RoleRef{Service: svc, Role: role}
		if !ok || !st.ent.HasRole(ref) {
			return nil, seatkeeper.Errorf(seatkeeper.EInvalid, "account %s has no role %q (roles are service:role)", st.account.ID, n)
		}
		out = append(out, ref)
	}
	return out, nil
}

// ProvisionedUser implements seatkeeper.ProvisioningService.
func (s *Store) ProvisionedUser(ctx context.Context, account, id string) (seatkeeper.ProvisionedUser, error) {
	var out seatkeeper.ProvisionedUser
	err := s.read(ctx, func(t *tx) error {
		if _, err := t.state(account); err != nil {
			return err
		}
		u, found, err := t.provisioned(account, id)
		if err == nil && !found {
			err = seatkeeper.Errorf(seatkeeper.ENotFound, "no user %q", id)
		}
		out = u
		return err
	})
	return out, err
}

// ProvisionedUsers implements seatkeeper.ProvisioningService.
func (s *Store) ProvisionedUsers(ctx context.Context, account string, m seatkeeper.UserMatch, offset, limit int) ([]seatkeeper.ProvisionedUser, int, error) {
	var out []seatkeeper.ProvisionedUser
	total := 0
	err := s.read(ctx, func(t *tx) error {
		if _, err := t.state(account); err != nil {
			return err
		}
		var err error
		out, total, err = t.provisionedUsers(account, m, offset, limit)
		return err
	})
	return out, total, err
}

// provisioned reads one user as SCIM sees them.
func (t *tx) provisioned(account, id string) (seatkeeper.ProvisionedUser, bool, error) {
	us, _, err := t.provisionedUsers(account, seatkeeper.UserMatch{ID: id}, 0, 1)
	if err != nil || len(us) == 0 {
		return seatkeeper.ProvisionedUser{}, false, err
	}
	return us[0], true, nil
}

// provisionedUsers is one query for the page and one for the count; the
// equality conditions use the indexes on users.
func (t *tx) provisionedUsers(account string, m seatkeeper.UserMatch, offset, limit int) ([]seatkeeper.ProvisionedUser, int, error) {
	where := " WHERE u.account = ?"
	args := []any{account}
	for _, c := range []struct{ cond, v string }{
		{" AND u.id = ?", m.ID},
		{" AND lower(u.user_name) = lower(?)", m.UserName},
		{" AND u.external_id = ?", m.ExternalID},
		{" AND lower(u.email) = lower(?)", m.Email},
	} {
		if c.v != "" {
			where += c.cond
			args = append(args, c.v)
		}
	}
	total := 0
	if m.ID == "" {
		if err := t.queryRow("SELECT count(*) FROM users u"+where, args...).Scan(&total); err != nil {
			return nil, 0, err
		}
	}
	q := `SELECT u.id, u.user_name, u.email, u.display_name, u.external_id, u.active, u.created_at, u.updated_at,
		coalesce(s.attributes, '{}'),
		(SELECT string_agg(a.license, ',') FROM assignments a WHERE a.account = u.account AND a.user_id = u.id AND a.source = 'scim'),
		(SELECT string_agg(r.service || ':' || r.role, ',') FROM user_roles r WHERE r.account = u.account AND r.user_id = u.id AND r.source = 'scim')
		FROM users u LEFT JOIN scim_users s ON s.account = u.account AND s.user_id = u.id` + where + orderByID(len(args) > 1, "u.id") + t.page(offset, limit, &args)
	rows, err := t.query(q, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []seatkeeper.ProvisionedUser{}
	for rows.Next() {
		var p seatkeeper.ProvisionedUser
		var created, updated int64
		var attrs string
		var lics, roles sql.NullString
		if err := rows.Scan(&p.ID, &p.UserName, &p.Email, &p.DisplayName, &p.ExternalID, &p.Active, &created, &updated, &attrs, &lics, &roles); err != nil {
			return nil, 0, err
		}
		p.Account = account
		p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
		p.Attributes = json.RawMessage(attrs)
		p.Granted = seatkeeper.Grants{Licenses: sortedList(lics.String), Roles: sortedList(roles.String)}
		out = append(out, p)
	}
	if m.ID != "" {
		total = len(out)
	}
	return out, total, rows.Err()
}

// orderByID orders a list by id. With an equality on an indexed column,
// the few rows it selects are sorted after the fact: ordering by the
// expression keeps SQLite's planner, which has no statistics, from
// walking the whole primary key in id order instead of using that index.
func orderByID(narrowed bool, col string) string {
	if narrowed {
		return " ORDER BY " + col + " || ''"
	}
	return " ORDER BY " + col
}

// page is the LIMIT and OFFSET of a list; limit < 0 means no limit.
func (t *tx) page(offset, limit int, args *[]any) string {
	switch {
	case limit >= 0:
		*args = append(*args, limit, offset)
		return " LIMIT ? OFFSET ?"
	case t.s.postgres:
		*args = append(*args, offset)
		return " OFFSET ?"
	default:
		*args = append(*args, offset)
		return " LIMIT -1 OFFSET ?"
	}
}

func sortedList(s string) []string {
	out := splitList(s)
	sort.Strings(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// PutGroup implements seatkeeper.ProvisioningService.
func (s *Store) PutGroup(ctx context.Context, by seatkeeper.Actor, g seatkeeper.Group, ifMatch string) (seatkeeper.Group, bool, error) {
	create := g.ID == ""
	if create {
		g.ID = seatkeeper.NewID("g")
	}
	if err := validateGroup(&g); err != nil {
		return g, false, err
	}
	var out seatkeeper.Group
	err := s.write(ctx, func(t *tx) error {
		st, err := t.state(g.Account)
		if err != nil {
			return err
		}
		old, found, err := t.loadGroup(g.Account, g.ID)
		switch {
		case err != nil:
			return err
		case create && found:
			return seatkeeper.Errorf(seatkeeper.EConflict, "group id %s is taken", g.ID)
		case !create && !found:
			return seatkeeper.Errorf(seatkeeper.ENotFound, "no group %q", g.ID)
		case ifMatch != "" && old.ETag() != ifMatch:
			return seatkeeper.Errorf(seatkeeper.EPrecondition, "the group has changed: If-Match %s, current %s", ifMatch, old.ETag())
		}
		var joined, left []string
		for _, m := range g.Members {
			if !slices.Contains(old.Members, m) {
				joined = append(joined, m)
			}
		}
		for _, m := range old.Members {
			if !slices.Contains(g.Members, m) {
				left = append(left, m)
			}
		}
		for _, m := range joined {
			var n int
			if err := t.queryRow("SELECT count(*) FROM users WHERE account = ? AND id = ?", g.Account, m).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return seatkeeper.Errorf(seatkeeper.EInvalid, "member %q is not a user of the account", m)
			}
		}
		now := micros(t.s.Now())
		switch {
		case create:
			_, err = t.exec("INSERT INTO scim_groups (account, id, display_name, external_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)", g.Account, g.ID, g.DisplayName, g.ExternalID, now, now)
		case old.DisplayName != g.DisplayName || old.ExternalID != g.ExternalID || len(joined)+len(left) > 0:
			_, err = t.exec("UPDATE scim_groups SET display_name = ?, external_id = ?, updated_at = ? WHERE account = ? AND id = ?", g.DisplayName, g.ExternalID, now, g.Account, g.ID)
		}
		if err != nil {
			return err
		}
		for _, m := range left {
			if _, err := t.exec("DELETE FROM scim_group_members WHERE account = ? AND group_id = ? AND user_id = ?", g.Account, g.ID, m); err != nil {
				return err
			}
		}
		for _, m := range joined {
			if _, err := t.exec("INSERT INTO scim_group_members (account, group_id, user_id) VALUES (?, ?, ?)", g.Account, g.ID, m); err != nil {
				return err
			}
		}
		if err := t.audit(g.Account, by, "group.put", g.ID, map[string]any{"display_name": g.DisplayName, "joined": joined, "left": left}); err != nil {
			return err
		}
		if err := t.regrantIfMapped(st, by, g.ID, append(joined, left...)); err != nil {
			return err
		}
		out, _, err = t.loadGroup(g.Account, g.ID)
		return err
	})
	return out, create, err
}

func validateGroup(g *seatkeeper.Group) error {
	var fields []seatkeeper.FieldError
	bad := func(f, m string) { fields = append(fields, seatkeeper.FieldError{Field: f, Message: m}) }
	if g.DisplayName == "" || len(g.DisplayName) > 256 || !seatkeeper.PlainText(g.DisplayName) {
		bad("displayName", "required, at most 256 characters, without control characters")
	}
	if len(g.ExternalID) > 256 || !seatkeeper.PlainText(g.ExternalID) {
		bad("externalId", "at most 256 characters, without control characters")
	}
	for _, m := range g.Members {
		if !IDPattern.MatchString(m) {
			bad("members", "member values must be user ids")
			break
		}
	}
	if len(fields) > 0 {
		return &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid group", Fields: fields}
	}
	slices.Sort(g.Members)
	g.Members = slices.Compact(g.Members)
	if g.Members == nil {
		g.Members = []string{}
	}
	return nil
}

// regrant recomputes the group-sourced grants of users whose groups or
// whose groups' mappings changed.
func (t *tx) regrant(st *acctState, by seatkeeper.Actor, users []string) error {
	for _, id := range users {
		want, err := t.groupGrants(st.account.ID, id)
		if err != nil {
			return err
		}
		_, err = t.changeUser(st, by, id, "group.grants", seatkeeper.SourceGroup, func(st *acctState, u *userState) error {
			if !u.exists {
				return nil
			}
			return grant(st, u, seatkeeper.SourceGroup, want, false)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// regrantIfMapped is regrant for a change of a group's members: a group
// without a mapping gives nothing, and its members need no change.
func (t *tx) regrantIfMapped(st *acctState, by seatkeeper.Actor, group string, users []string) error {
	if len(users) == 0 {
		return nil
	}
	if _, err := t.mapping(st.account.ID, group); seatkeeper.ErrorCode(err) == seatkeeper.ENotFound {
		return nil
	} else if err != nil {
		return err
	}
	return t.regrant(st, by, users)
}

// groupGrants is the union of the mappings of the user's groups: what
// the user should hold with source group.
func (t *tx) groupGrants(account, user string) (seatkeeper.Grants, error) {
	rows, err := t.query(`SELECT m.licenses, m.roles FROM scim_group_members gm
		JOIN group_mappings m ON m.account = gm.account AND m.group_id = gm.group_id
		WHERE gm.account = ? AND gm.user_id = ?`, account, user)
	if err != nil {
		return seatkeeper.Grants{}, err
	}
	defer rows.Close()
	var g seatkeeper.Grants
	for rows.Next() {
		var lics, roles string
		var l, r []string
		if err := rows.Scan(&lics, &roles); err != nil {
			return g, err
		}
		if err := errors.Join(json.Unmarshal([]byte(lics), &l), json.Unmarshal([]byte(roles), &r)); err != nil {
			return g, err
		}
		g.Licenses, g.Roles = append(g.Licenses, l...), append(g.Roles, r...)
	}
	slices.Sort(g.Licenses)
	slices.Sort(g.Roles)
	g.Licenses, g.Roles = slices.Compact(g.Licenses), slices.Compact(g.Roles)
	return g, rows.Err()
}

// loadGroup reads a group with its members, locking its row in a write.
func (t *tx) loadGroup(account, id string) (seatkeeper.Group, bool, error) {
	gs, _, err := t.groups(account, seatkeeper.GroupMatch{ID: id}, 0, 1)
	if err != nil || len(gs) == 0 {
		return seatkeeper.Group{}, false, err
	}
	return gs[0], true, nil
}

func (t *tx) groups(account string, m seatkeeper.GroupMatch, offset, limit int) ([]seatkeeper.Group, int, error) {
	where := " WHERE account = ?"
	args := []any{account}
	for _, c := range []struct{ cond, v string }{
		{" AND id = ?", m.ID},
		{" AND lower(display_name) = lower(?)", m.DisplayName},
		{" AND external_id = ?", m.ExternalID},
	} {
		if c.v != "" {
			where += c.cond
			args = append(args, c.v)
		}
	}
	total := 0
	if err := t.queryRow("SELECT count(*) FROM scim_groups"+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	lock := ""
	if m.ID != "" {
		lock = t.forUpdate()
	}
	rows, err := t.query("SELECT id, display_name, external_id, created_at, updated_at FROM scim_groups"+where+orderByID(len(args) > 1, "id")+t.page(offset, limit, &args)+lock, args...)
	if err != nil {
		return nil, 0, err
	}
	out := []seatkeeper.Group{}
	for rows.Next() {
		g := seatkeeper.Group{Account: account}
		var created, updated int64
		if err := rows.Scan(&g.ID, &g.DisplayName, &g.ExternalID, &created, &updated); err != nil {
			rows.Close()
			return nil, 0, err
		}
		g.CreatedAt, g.UpdatedAt = fromMicros(created), fromMicros(updated)
		out = append(out, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	for i := range out {
		if out[i].Members, err = t.members(account, out[i].ID); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

func (t *tx) members(account, group string) ([]string, error) {
	return t.strings("SELECT user_id FROM scim_group_members WHERE account = ? AND group_id = ? ORDER BY user_id", account, group)
}

// strings runs a query of one text column and returns its values.
func (t *tx) strings(q string, args ...any) ([]string, error) {
	rows, err := t.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Group implements seatkeeper.ProvisioningService.
func (s *Store) Group(ctx context.Context, account, id string) (seatkeeper.Group, error) {
	var out seatkeeper.Group
	err := s.read(ctx, func(t *tx) error {
		if _, err := t.state(account); err != nil {
			return err
		}
		g, found, err := t.loadGroup(account, id)
		if err == nil && !found {
			err = seatkeeper.Errorf(seatkeeper.ENotFound, "no group %q", id)
		}
		out = g
		return err
	})
	return out, err
}

// Groups implements seatkeeper.ProvisioningService.
func (s *Store) Groups(ctx context.Context, account string, m seatkeeper.GroupMatch, offset, limit int) ([]seatkeeper.Group, int, error) {
	var out []seatkeeper.Group
	total := 0
	err := s.read(ctx, func(t *tx) error {
		if _, err := t.state(account); err != nil {
			return err
		}
		var err error
		out, total, err = t.groups(account, m, offset, limit)
		return err
	})
	return out, total, err
}

// DeleteGroup implements seatkeeper.ProvisioningService.
func (s *Store) DeleteGroup(ctx context.Context, by seatkeeper.Actor, account, id, ifMatch string) error {
	return s.write(ctx, func(t *tx) error {
		st, err := t.state(account)
		if err != nil {
			return err
		}
		g, found, err := t.loadGroup(account, id)
		switch {
		case err != nil:
			return err
		case !found:
			return seatkeeper.Errorf(seatkeeper.ENotFound, "no group %q", id)
		case ifMatch != "" && g.ETag() != ifMatch:
			return seatkeeper.Errorf(seatkeeper.EPrecondition, "the group has changed: If-Match %s, current %s", ifMatch, g.ETag())
		}
		_, err = t.mapping(account, id)
		mapped := err == nil
		for _, q := range []string{
			"DELETE FROM group_mappings WHERE account = ? AND group_id = ?",
			"DELETE FROM scim_group_members WHERE account = ? AND group_id = ?",
			"DELETE FROM scim_groups WHERE account = ? AND id = ?",
		} {
			if _, err := t.exec(q, account, id); err != nil {
				return err
			}
		}
		if err := t.audit(account, by, "group.delete", id, nil); err != nil {
			return err
		}
		if !mapped {
			return nil
		}
		return t.regrant(st, by, g.Members)
	})
}

// PutGroupMapping implements seatkeeper.ProvisioningService.
func (s *Store) PutGroupMapping(ctx context.Context, by seatkeeper.Actor, account string, m seatkeeper.GroupMapping) (seatkeeper.GroupMapping, bool, error) {
	created := false
	m.Licenses, m.Roles = sortedSet(m.Licenses), sortedSet(m.Roles)
	err := s.write(ctx, func(t *tx) error {
		st, err := t.state(account)
		if err != nil {
			return err
		}
		g, found, err := t.loadGroup(account, m.Group)
		if err != nil {
			return err
		}
		if !found {
			return seatkeeper.Errorf(seatkeeper.ENotFound, "no group %q", m.Group)
		}
		var fields []seatkeeper.FieldError
		for _, l := range m.Licenses {
			if lic, ok := st.cat.License(l); !ok || lic.Scope != catalog.ScopeUser {
				fields = append(fields, seatkeeper.FieldError{Field: "licenses", Message: "no per-user license " + l + " in catalog " + st.cat.Name})
			}
		}
		if _, err := roleRefs(st, m.Roles); err != nil {
			fields = append(fields, seatkeeper.FieldError{Field: "roles", Message: seatkeeper.ErrorMessage(err)})
		}
		if len(fields) > 0 {
			return &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid group mapping", Fields: fields}
		}
		if _, err := t.mapping(account, m.Group); err != nil {
			if seatkeeper.ErrorCode(err) != seatkeeper.ENotFound {
				return err
			}
			created = true
		}
		lics, _ := json.Marshal(m.Licenses)
		roles, _ := json.Marshal(m.Roles)
		at := t.s.Now().UTC().Truncate(time.Microsecond)
		m.UpdatedAt = at
		if _, err := t.exec(`INSERT INTO group_mappings (account, group_id, licenses, roles, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (account, group_id) DO UPDATE SET licenses = excluded.licenses, roles = excluded.roles, updated_at = excluded.updated_at`,
			account, m.Group, string(lics), string(roles), micros(at)); err != nil {
			return err
		}
		if err := t.audit(account, by, "group_mapping.put", m.Group, m); err != nil {
			return err
		}
		return t.regrant(st, by, g.Members)
	})
	return m, created, err
}

func sortedSet(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	out = slices.Compact(out)
	if out == nil {
		out = []string{}
	}
	return out
}

func (t *tx) mapping(account, group string) (seatkeeper.GroupMapping, error) {
	m := seatkeeper.GroupMapping{Group: group}
	var lics, roles string
	var at int64
	err := t.queryRow("SELECT licenses, roles, updated_at FROM group_mappings WHERE account = ? AND group_id = ?", account, group).Scan(&lics, &roles, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return m, seatkeeper.Errorf(seatkeeper.ENotFound, "group %q has no mapping", group)
	}
	if err != nil {
		return m, err
	}
	m.UpdatedAt = fromMicros(at)
	return m, errors.Join(json.Unmarshal([]byte(lics), &m.Licenses), json.Unmarshal([]byte(roles), &m.Roles))
}

// GroupMapping implements seatkeeper.ProvisioningService.
func (s *Store) GroupMapping(ctx context.Context, account, group string) (seatkeeper.GroupMapping, error) {
	var out seatkeeper.GroupMapping
	err := s.read(ctx, func(t *tx) error {
		if _, err := t.state(account); err != nil {
			return err
		}
		var err error
		out, err = t.mapping(account, group)
		return err
	})
	return out, err
}

// GroupMappings implements seatkeeper.ProvisioningService.
func (s *Store) GroupMappings(ctx context.Context, account string) ([]seatkeeper.GroupMapping, error) {
	out := []seatkeeper.GroupMapping{}
	err := s.read(ctx, func(t *tx) error {
		if _, err := t.state(account); err != nil {
			return err
		}
		ids, err := t.strings("SELECT group_id FROM group_mappings WHERE account = ? ORDER BY group_id", account)
		if err != nil {
			return err
		}
		for _, id := range ids {
			m, err := t.mapping(account, id)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// DeleteGroupMapping implements seatkeeper.ProvisioningService.
func (s *Store) DeleteGroupMapping(ctx context.Context, by seatkeeper.Actor, account, group string) error {
	return s.write(ctx, func(t *tx) error {
		st, err := t.state(account)
		if err != nil {
			return err
		}
		if _, err := t.mapping(account, group); err != nil {
			return err
		}
		if _, err := t.exec("DELETE FROM group_mappings WHERE account = ? AND group_id = ?", account, group); err != nil {
			return err
		}
		members, err := t.members(account, group)
		if err != nil {
			return err
		}
		if err := t.audit(account, by, "group_mapping.delete", group, nil); err != nil {
			return err
		}
		return t.regrant(st, by, members)
	})
}
