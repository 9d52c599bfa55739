package httpapi

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/seatkeeper/seatkeeper"
)

type userBody struct {
	UserName    string `json:"user_name"`
	Email       string `json:"email"`
	DisplayName string `json:"display_name"`
	ExternalID  string `json:"external_id"`
	Active      *bool  `json:"active"`
}

func (s *Server) putUser(w http.ResponseWriter, r *http.Request) {
	ids, err := pathIDs(r, "account", "user")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b userBody
	if err := decodeBody(w, r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	// Left out, active keeps its value; a new user is active.
	active := true
	if b.Active != nil {
		active = *b.Active
	} else if cur, err := s.Store.User(r.Context(), ids[0], ids[1]); err == nil {
		active = cur.Active
	}
	u, isNew, err := s.Store.PutUser(r.Context(), actorOf(r), seatkeeper.User{Account: ids[0], ID: ids[1],
		UserName: b.UserName, Email: b.Email, DisplayName: b.DisplayName, ExternalID: b.ExternalID, Active: active})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, created(isNew), u)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	ids, err := pathIDs(r, "account", "user")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	u, err := s.Store.User(r.Context(), ids[0], ids[1])
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	ids, err := pathIDs(r, "account", "user")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Store.DeleteUser(r.Context(), actorOf(r), ids[0], ids[1]); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.fail(w, r, &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid limit",
				Fields: []seatkeeper.FieldError{{Field: "limit", Message: "must be a whole number from 1 to 1000"}}})
			return
		}
		limit = n
	}
	users, next, err := s.Store.Users(r.Context(), r.PathValue("account"), q.Get("cursor"), limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body := map[string]any{"items": users}
	if next != "" {
		body["next_cursor"] = next
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) assignLicense(w http.ResponseWriter, r *http.Request) {
	ids, err := pathIDs(r, "account", "user", "license")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	u, isNew, err := s.Store.AssignLicense(r.Context(), actorOf(r), ids[0], ids[1], ids[2], seatkeeper.SourceManual)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, created(isNew), u)
}

func (s *Server) unassignLicense(w http.ResponseWriter, r *http.Request) {
	ids, err := pathIDs(r, "account", "user", "license")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Store.UnassignLicense(r.Context(), actorOf(r), ids[0], ids[1], ids[2], ""); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) assignRole(w http.ResponseWriter, r *http.Request) {
	ids, err := pathIDs(r, "account", "user", "service", "role")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	err = s.mayGrant(r, ids[0], func() ([]string, error) {
		role, err := s.role(r, ids[0], ids[2], ids[3])
		return role.Permissions, err // no such role: none; the store says so
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	u, isNew, err := s.Store.AssignRole(r.Context(), actorOf(r), ids[0], ids[1], ids[2], ids[3], seatkeeper.SourceManual)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, created(isNew), u)
}

// mayGrant refuses an app token's acting user permissions that their own
// roles do not grant them: one whose roles let them manage roles may make
// a role, or give one, with at most their own permissions — an acting user
// may do what their roles permit and nothing more (SPEC §4), and may not
// give themselves more. Admin and operator tokens may grant anything.
// perms is read only for an acting user.
func (s *Server) mayGrant(r *http.Request, account string, perms func() ([]string, error)) error {
	a := actorOf(r)
	if a.TokenKind != seatkeeper.TokenApp || a.ActingUser == "" {
		return nil
	}
	want, err := perms()
	if err != nil || len(want) == 0 {
		return err
	}
	permission, err := s.actingUser(r.Context(), account, a.ActingUser)
	if err != nil {
		return err
	}
	for _, p := range want {
		if !permission(p).Allowed {
			return seatkeeper.Errorf(seatkeeper.EForbidden, "acting user %s may not grant %s: their own roles do not", a.ActingUser, p)
		}
	}
	return nil
}

// assignLicenses is the permission to assign licenses to users.
const assignLicenses = "account.licenses.assign"

// mayLink refuses an app token's acting user a change of a role's
// license links unless their roles let them assign licenses: linking a
// role to licenses, or unlinking it, assigns or unassigns them to its
// holders (R15), so it takes the permission that assigning them directly
// takes.
func (s *Server) mayLink(r *http.Request, account, service, name string, links []string) error {
	a := actorOf(r)
	if a.TokenKind != seatkeeper.TokenApp || a.ActingUser == "" {
		return nil
	}
	was, err := s.role(r, account, service, name)
	if err != nil {
		return err
	}
	if sameSet(was.Licenses, links) {
		return nil
	}
	permission, err := s.actingUser(r.Context(), account, a.ActingUser)
	if err != nil {
		return err
	}
	if !permission(assignLicenses).Allowed {
		return seatkeeper.Errorf(seatkeeper.EForbidden, "acting user %s may not change the licenses a role links: their own roles do not grant %s", a.ActingUser, assignLicenses)
	}
	return nil
}

// role is the account's role service:name as it stands (default roles as
// redefined), or a zero role if there is none.
func (s *Server) role(r *http.Request, account, service, name string) (seatkeeper.CustomRole, error) {
	roles, err := s.Store.Roles(r.Context(), account)
	for _, x := range roles {
		if x.Service == service && x.Name == name {
			return x, err
		}
	}
	return seatkeeper.CustomRole{}, err
}

// sameSet says whether a and b hold the same strings, however ordered or
// repeated.
func sameSet(a, b []string) bool {
	return !slices.ContainsFunc(a, func(x string) bool { return !slices.Contains(b, x) }) &&
		!slices.ContainsFunc(b, func(x string) bool { return !slices.Contains(a, x) })
}

func (s *Server) unassignRole(w http.ResponseWriter, r *http.Request) {
	ids, err := pathIDs(r, "account", "user", "service", "role")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Store.UnassignRole(r.Context(), actorOf(r), ids[0], ids[1], ids[2], ids[3], ""); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type roleBody struct {
	Permissions []string `json:"permissions"`
	Licenses    []string `json:"licenses"`
}

func (s *Server) putRole(w http.ResponseWriter, r *http.Request) {
	ids, err := pathIDs(r, "account", "service", "role")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b roleBody
	if err := decodeBody(w, r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.mayGrant(r, ids[0], func() ([]string, error) { return b.Permissions, nil }); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.mayLink(r, ids[0], ids[1], ids[2], b.Licenses); err != nil {
		s.fail(w, r, err)
		return
	}
	role := seatkeeper.CustomRole{Service: ids[1], Name: ids[2], Permissions: b.Permissions, Licenses: b.Licenses}
	isNew, err := s.Store.PutRole(r.Context(), actorOf(r), ids[0], role)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	stored, err := s.role(r, ids[0], role.Service, role.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if stored.Name == "" {
		stored = role
	}
	writeJSON(w, created(isNew), stored)
}

func (s *Server) listRoles(w http.ResponseWriter, r *http.Request) {
	roles, err := s.Store.Roles(r.Context(), r.PathValue("account"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if roles == nil {
		roles = []seatkeeper.CustomRole{}
	}
	acct, err := s.Decisions.Account(r.Context(), r.PathValue("account"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	problems := acct.RoleProblems() // R16: a purchased license no role links
	if problems == nil {
		problems = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": roles, "valid": len(problems) == 0, "problems": problems})
}

func (s *Server) deleteRole(w http.ResponseWriter, r *http.Request) {
	ids, err := pathIDs(r, "account", "service", "role")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Store.DeleteRole(r.Context(), actorOf(r), ids[0], ids[1], ids[2]); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) licenseSummary(w http.ResponseWriter, r *http.Request) {
	lines, err := s.Store.LicenseSummary(r.Context(), r.PathValue("account"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": lines})
}
