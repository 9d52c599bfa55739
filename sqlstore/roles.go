package sqlstore

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/entitlement"
)

var roleNameRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

func (t *tx) customRoles(account string) ([]seatkeeper.CustomRole, error) {
	rows, err := t.query("SELECT service, name, permissions, licenses FROM custom_roles WHERE account = ? ORDER BY service, name", account)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []seatkeeper.CustomRole
	for rows.Next() {
		var r seatkeeper.CustomRole
		var perms, lics string
		if err := rows.Scan(&r.Service, &r.Name, &perms, &lics); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(perms), &r.Permissions); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(lics), &r.Licenses); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// PutRole implements seatkeeper.UserService: it creates a custom role or
// redefines a role's permissions and license links (R11, R15). Users who
// hold the role take or free seats at once; if a seat is missing the whole
// change is refused.
func (s *Store) PutRole(ctx context.Context, by seatkeeper.Actor, account string, r seatkeeper.CustomRole) (bool, error) {
	if !roleNameRe.MatchString(r.Name) {
		return false, &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid role",
			Fields: []seatkeeper.FieldError{{Field: "role", Message: "must be lower-case letters, digits and underscores, starting with a letter"}}}
	}
	if r.Service == "account" && r.Name == "owner" {
		// R13: the owner edits the settings whatever the roles say.
		return false, seatkeeper.Errorf(seatkeeper.EConflict, "the account owner's role is built in and cannot be redefined: create another role")
	}
	r.Permissions, r.Licenses = orEmpty(r.Permissions), orEmpty(r.Licenses)
	created := false
	err := s.write(ctx, func(t *tx) error {
		before, err := t.state(account)
		if err != nil {
			return err
		}
		def := entitlement.RoleDef{Service: r.Service, Name: r.Name, Permissions: r.Permissions, Licenses: r.Licenses}
		if err := entitlement.ValidateRole(before.cat, def); err != nil {
			return err
		}
		ref := entitlement.RoleRef{Service: r.Service, Role: r.Name}
		created = !before.ent.HasRole(ref)
		perms, _ := json.Marshal(r.Permissions)
		lics, _ := json.Marshal(r.Licenses)
		if _, err := t.exec(`INSERT INTO custom_roles (account, service, name, permissions, licenses, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (account, service, name) DO UPDATE SET permissions = excluded.permissions, licenses = excluded.licenses, updated_at = excluded.updated_at`,
			account, r.Service, r.Name, string(perms), string(lics), micros(s.Now())); err != nil {
			return err
		}
		if err := t.bump(account); err != nil {
			return err
		}
		after, err := t.state(account)
		if err != nil {
			return err
		}
		if err := t.reseatHolders(before, after, ref); err != nil {
			return err
		}
		return t.audit(account, by, "role.put", r.Service+":"+r.Name, r)
	})
	return created, err
}

// reseatHolders moves the seats of every user holding a role whose links
// changed from what before says to what after says.
func (t *tx) reseatHolders(before, after *acctState, ref entitlement.RoleRef) error {
	if slices.Equal(before.ent.RoleLicenses(ref), after.ent.RoleLicenses(ref)) {
		return nil
	}
	account := after.account.ID
	rows, err := t.query("SELECT DISTINCT user_id FROM user_roles WHERE account = ? AND service = ? AND role = ? ORDER BY user_id", account, ref.Service, ref.Role)
	if err != nil {
		return err
	}
	var users []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		users = append(users, id)
	}
	rows.Close()
	for _, id := range users {
		u, err := t.loadUser(account, id)
		if err != nil {
			return err
		}
		h := u.holding()
		if err := roleSeatsAssignable(before.ent, after.ent, h, h); err != nil {
			return &seatkeeper.Error{Code: seatkeeper.ErrorCode(err), Message: "user " + id + ", who holds the role: " + seatkeeper.ErrorMessage(err)}
		}
		// Nor may it take away what the user's other licenses require
		// (R2, R16), as unassigning the role would not.
		was := before.ent.Unmet(h)
		if bad := slices.DeleteFunc(after.ent.Unmet(h), func(l string) bool { return slices.Contains(was, l) }); len(bad) > 0 {
			return seatkeeper.Errorf(seatkeeper.EConflict, "user %s, who holds the role, would be left with %s without what it requires (a plan or one of its requires_one_of); change that first", id, strings.Join(bad, ", "))
		}
		if err := t.moveSeats(before, after, id, h, h, seatkeeper.SourceRole); err != nil {
			return err
		}
		if before.poolOf(u) != after.poolOf(u) {
			// The role gave or took the user's concurrent plan: as with
			// an assignment, presences in the old pool end (R4, R5).
			if _, err := t.endUserSessions(account, id, "plan_changed"); err != nil {
				return err
			}
		}
		t.changed(account, id)
	}
	return nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Roles implements seatkeeper.UserService.
func (s *Store) Roles(ctx context.Context, account string) ([]seatkeeper.CustomRole, error) {
	var out []seatkeeper.CustomRole
	err := s.read(ctx, func(t *tx) error {
		st, err := t.state(account)
		if err != nil {
			return err
		}
		for _, d := range st.ent.Roles() {
			out = append(out, seatkeeper.CustomRole{Service: d.Service, Name: d.Name, Permissions: orEmpty(d.Permissions), Licenses: orEmpty(d.Licenses),
				Default: st.ent.IsDefaultRole(entitlement.RoleRef{Service: d.Service, Role: d.Name})})
		}
		return nil
	})
	return out, err
}

// DeleteRole implements seatkeeper.UserService.
func (s *Store) DeleteRole(ctx context.Context, by seatkeeper.Actor, account, service, name string) error {
	return s.write(ctx, func(t *tx) error {
		st, err := t.state(account)
		if err != nil {
			return err
		}
		ref := entitlement.RoleRef{Service: service, Role: name}
		switch {
		case !st.ent.HasRole(ref):
			return seatkeeper.Errorf(seatkeeper.ENotFound, "account %s has no role %s:%s", account, service, name)
		case st.ent.IsDefaultRole(ref):
			return seatkeeper.Errorf(seatkeeper.EConflict, "%s:%s is a default role and cannot be deleted (R11)", service, name)
		}
		var n int
		if err := t.queryRow("SELECT count(DISTINCT user_id) FROM user_roles WHERE account = ? AND service = ? AND role = ?", account, service, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return seatkeeper.Errorf(seatkeeper.EConflict, "%d users hold %s:%s; unassign it first", n, service, name)
		}
		if _, err := t.exec("DELETE FROM custom_roles WHERE account = ? AND service = ? AND name = ?", account, service, name); err != nil {
			return err
		}
		if err := t.bump(account); err != nil {
			return err
		}
		return t.audit(account, by, "role.delete", service+":"+name, nil)
	})
}

// LicenseSummary implements seatkeeper.UserService (SPEC §4.2).
func (s *Store) LicenseSummary(ctx context.Context, account string) ([]seatkeeper.LicenseSummary, error) {
	var out []seatkeeper.LicenseSummary
	err := s.read(ctx, func(t *tx) error {
		st, err := t.state(account)
		if err != nil {
			return err
		}
		used := map[string]int{}
		rows, err := t.query("SELECT license, used FROM seat_counters WHERE account = ?", account)
		if err != nil {
			return err
		}
		for rows.Next() {
			var l string
			var n int
			if err := rows.Scan(&l, &n); err != nil {
				rows.Close()
				return err
			}
			used[l] = n
		}
		rows.Close()
		subs := map[string]seatkeeper.Subscription{}
		for _, sub := range st.subs {
			subs[sub.License] = sub
		}
		covered := func(lic *catalog.License) (plan string, ok bool) {
			for _, p := range st.cat.Plans() {
				if p.CoverageSet.Has(lic.Index) && subs[p.Key].Model == "concurrent" {
					return p.Key, true
				}
			}
			return "", false
		}
		for i := range st.cat.Licenses {
			lic := &st.cat.Licenses[i]
			sub, bought := subs[lic.Key]
			plan, isCoverage := covered(lic)
			if !bought && !isCoverage && used[lic.Key] == 0 {
				continue
			}
			line := seatkeeper.LicenseSummary{License: lic.Key, Model: sub.Model, Purchased: sub.Quantity, Assigned: used[lic.Key]}
			if limit, capped := st.ent.Capacity(lic.Key); capped && lic.Scope == catalog.ScopeUser {
				line.Available = ptr(max(0, limit-used[lic.Key]))
			}
			if sub.Model == "concurrent" {
				line.Members = ptr(used[lic.Key])
				var inUse int
				if err := t.queryRow("SELECT count(DISTINCT user_id) FROM sessions WHERE account = ? AND pool = ? AND ended_at IS NULL AND expires_at > ?",
					account, lic.Key, micros(s.Now())).Scan(&inUse); err != nil {
					return err
				}
				line.InUse = ptr(inUse)
				line.Cap = ptr(sub.Quantity + sub.OverageAllowance)
			}
			if lic.Storage {
				line.Quota = ptr(st.ent.StorageQuotaGB())
			}
			if isCoverage {
				if n, ok := st.ent.RequiredAddonSeats(lic.Key, used[plan]); ok {
					line.RequiredAddonSeats = ptr(n) // R9
				}
			}
			if line.Model == "" && lic.Scope == catalog.ScopeUser {
				line.Model = "named"
			}
			out = append(out, line)
		}
		return nil
	})
	if out == nil {
		out = []seatkeeper.LicenseSummary{}
	}
	return out, err
}

func ptr(n int) *int { return &n }
