package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/seatkeeper/seatkeeper"
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
		{" AND u.user_name_key = ?", seatkeeper.NameKey(m.UserName)},
		{" AND u.external_id = ?", m.ExternalID},
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
