package sqlstore

// SCIM groups, their members, and the group mappings that give members
// licenses and roles (source group). See ARCHITECTURE.md: a user's
// group-sourced grants are always the union of their groups' mappings.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
)

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
			_, err = t.exec("INSERT INTO scim_groups (account, id, display_name, display_name_key, external_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)", g.Account, g.ID, g.DisplayName, seatkeeper.NameKey(g.DisplayName), g.ExternalID, now, now)
		case old.DisplayName != g.DisplayName || old.ExternalID != g.ExternalID || len(joined)+len(left) > 0:
			_, err = t.exec("UPDATE scim_groups SET display_name_key = CASE WHEN display_name = ? THEN display_name_key ELSE ? END, display_name = ?, external_id = ?, updated_at = ? WHERE account = ? AND id = ?",
				g.DisplayName, seatkeeper.NameKey(g.DisplayName), g.DisplayName, g.ExternalID, now, g.Account, g.ID)
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
		if !seatkeeper.ValidID(m) {
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
		{" AND display_name_key = ?", seatkeeper.NameKey(m.DisplayName)},
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
