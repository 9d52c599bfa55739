package httpapi_test

// Tenant isolation and access rules (SPEC §4): a token of account B that
// names account A gets 404, on every route, and changes nothing.

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/seatkeeper/seatkeeper/scim"
)

// tenants is two accounts, a and b, each with a user who is an account
// admin ("boss"), a QM user ("u1") holding a custom role and signed in to
// the portal, a member of a concurrent pool ("agent") in a work session,
// and a spare custom role; and the admin, app and reader tokens of each.
type tenants struct {
	tokens     map[string]map[string]string // account -> kind -> secret
	tokenIDs   map[string]map[string]string // account -> kind -> id
	sessionIDs map[string]map[string]string // account -> user -> id of a live session
	groupIDs   map[string]string            // account -> a SCIM group with u1, mapped to qm
}

func setupTenants(e *env) tenants {
	e.t.Helper()
	ts := tenants{tokens: map[string]map[string]string{}, tokenIDs: map[string]map[string]string{}, sessionIDs: map[string]map[string]string{}, groupIDs: map[string]string{}}
	for _, acct := range []string{"a", "b"} {
		e.newAccount(acct, "contact-center")
		e.subscribe(acct, "essentials", "named", 5)
		e.subscribe(acct, "qm", "named", 5)
		e.newUser(acct, "boss")
		e.grantRole(acct, "boss", "account", "admin")
		e.newUser(acct, "u1")
		e.must(201, "PUT", "/v1/accounts/"+acct+"/users/u1/licenses/essentials", nil)
		e.must(201, "PUT", "/v1/accounts/"+acct+"/users/u1/licenses/qm", nil)
		e.must(201, "PUT", "/v1/accounts/"+acct+"/roles/qm/reviewer", map[string]any{"permissions": []string{"qm.reports.view"}})
		e.must(201, "PUT", "/v1/accounts/"+acct+"/roles/qm/spare", map[string]any{"permissions": []string{"qm.reports.view"}})
		e.grantRole(acct, "u1", "qm", "reviewer")
		e.subscribe(acct, "premium", "concurrent", 2)
		e.newUser(acct, "agent")
		e.must(201, "PUT", "/v1/accounts/"+acct+"/users/agent/licenses/premium", nil)
		ts.sessionIDs[acct] = map[string]string{}
		for user, kind := range map[string]string{"agent": "work_session", "u1": "portal"} {
			var s struct {
				ID string `json:"id"`
			}
			e.must(201, "POST", "/v1/accounts/"+acct+"/sessions", map[string]string{"user": user, "kind": kind}).JSON(e.t, &s)
			if s.ID == "" {
				e.t.Fatalf("session of %s in %s without an id", user, acct)
			}
			ts.sessionIDs[acct][user] = s.ID
		}
		var g struct {
			ID string `json:"id"`
		}
		e.must(201, "POST", "/scim/v2/"+acct+"/Groups", map[string]any{"schemas": []string{scim.GroupSchema}, "displayName": "QM", "members": []any{map[string]any{"value": "u1"}}}).JSON(e.t, &g)
		ts.groupIDs[acct] = g.ID
		e.must(201, "PUT", "/v1/accounts/"+acct+"/group-mappings/"+g.ID, map[string]any{"licenses": []string{"qm"}})
		ts.tokens[acct], ts.tokenIDs[acct] = map[string]string{}, map[string]string{}
		for _, kind := range []string{"admin", "app", "reader"} {
			ts.tokenIDs[acct][kind], ts.tokens[acct][kind] = e.newToken(acct, kind)
		}
	}
	return ts
}

// accountRoute is one route that names an account, made concrete.
type accountRoute struct {
	pattern string
	method  string
	path    string
	body    any
}

// accountRoutes fills every registered route that names {account} with
// plausible values for account acct: ids that exist, so that a route that
// leaked across tenants would really read or change something.
func accountRoutes(e *env, acct string, ts tenants) []accountRoute {
	e.t.Helper()
	var out []accountRoute
	for _, pattern := range e.API.Routes() {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok || !strings.Contains(path, "{account}") || !strings.HasPrefix(path, "/v1/") {
			continue // public routes outside /v1 (SAML's) take no token: samlsp tests them
		}
		role := "spare"
		if strings.Contains(path, "/users/{user}/roles/") {
			role = "reviewer"
		}
		// {id} is a token id on the tokens routes, a session id (of a live
		// work session in a pool) on the sessions routes, and a user, a
		// group, a schema or a resource type under /scim/.
		id := ts.tokenIDs[acct]["reader"]
		switch {
		case strings.Contains(path, "/sessions/{id}"):
			id = ts.sessionIDs[acct]["agent"]
		case strings.Contains(path, "/Users/{id}"):
			id = "u1"
		case strings.Contains(path, "/Groups/{id}"):
			id = ts.groupIDs[acct]
		case strings.Contains(path, "/Schemas/{id}"):
			id = scim.UserSchema
		case strings.Contains(path, "/ResourceTypes/{id}"):
			id = "User"
		case !strings.Contains(path, "/tokens/{id}") && strings.Contains(path, "{id}"):
			e.t.Fatalf("route %s has an {id} this test does not know: add it", pattern)
		}
		path = strings.NewReplacer("{account}", acct, "{user}", "u1", "{group}", ts.groupIDs[acct], "{license}", "qm", "{service}", "qm",
			"{role}", role, "{id}", id, "{statement}", "st_0000000000000000").Replace(path)
		if strings.Contains(path, "{") {
			e.t.Fatalf("route %s has a path value this test does not know: add it", pattern)
		}
		if strings.HasSuffix(path, "/check") {
			path += "?feature=qm.evaluations"
		}
		if strings.HasSuffix(path, "/reports/license-usage") {
			path += "?from=2026-11-01&to=2026-11-01&interval=1h"
		}
		if strings.HasSuffix(path, "/billing/usage") {
			path += "?from=2026-10&to=2026-11"
		}
		if strings.HasSuffix(path, "/billing/statements") {
			path += "?from=2026-01&to=2026-12"
		}
		if strings.HasSuffix(path, "/billing/advice") {
			path += "?license=essentials"
		}
		if strings.HasSuffix(path, "/billing/close") {
			path += "?month=2026-09"
		}
		var body any
		switch {
		case method == "PUT" && strings.HasSuffix(pattern, "/accounts/{account}"):
			body = map[string]any{"name": "hijacked", "region": "us"}
		case strings.Contains(pattern, "/subscriptions/"):
			body = map[string]any{"model": "named", "quantity": 99}
		case strings.HasSuffix(pattern, "/tokens"):
			body = map[string]any{"kind": "admin", "name": "intruder"}
		case method == "PUT" && strings.HasSuffix(pattern, "/users/{user}"):
			body = map[string]any{"display_name": "hijacked", "active": false}
		case method == "PATCH" && strings.HasSuffix(pattern, "/settings"):
			body = map[string]any{"qm": map[string]any{"analyze_recordings": true}}
		case method == "PUT" && strings.Contains(pattern, "/roles/{service}/{role}") && !strings.Contains(pattern, "/users/"):
			body = map[string]any{"permissions": []string{"qm.scorecards.manage"}}
		case method == "POST" && strings.HasSuffix(pattern, "/sessions"):
			body = map[string]any{"user": "agent", "kind": "api"}
		case strings.Contains(pattern, "/group-mappings/"):
			body = map[string]any{"licenses": []string{"qm", "essentials"}}
		case method == "POST" && strings.HasSuffix(pattern, "/Users"), method == "PUT" && strings.HasSuffix(pattern, "/Users/{id}"):
			body = map[string]any{"schemas": []string{scim.UserSchema}, "userName": "hijacked", "active": false}
		case method == "POST" && strings.HasSuffix(pattern, "/Groups"), method == "PUT" && strings.HasSuffix(pattern, "/Groups/{id}"):
			body = map[string]any{"schemas": []string{scim.GroupSchema}, "displayName": "hijacked"}
		case method == "PATCH" && strings.Contains(pattern, "/Users/"):
			body = map[string]any{"schemas": []string{scim.PatchOpSchema}, "Operations": []any{map[string]any{"op": "replace", "path": "active", "value": "False"}}}
		case method == "PATCH" && strings.Contains(pattern, "/Groups/"):
			body = map[string]any{"schemas": []string{scim.PatchOpSchema}, "Operations": []any{map[string]any{"op": "remove", "path": `members[value eq "u1"]`}}}
		case method == "POST" && strings.HasSuffix(pattern, "/usage/events"):
			body = map[string]any{"events": []map[string]any{{"type": "presence.start", "user": "agent", "license": "premium",
				"kind": "work_session", "session": "imported-1", "at": "2026-11-01T09:00:00Z"}}}
		}
		out = append(out, accountRoute{pattern: pattern, method: method, path: path, body: body})
	}
	return out
}

// adminReads reports the reads only admin tokens may make: SCIM and the
// group mappings, which are provisioning.
func adminReads(pattern string) bool {
	return strings.Contains(pattern, "/scim/") || strings.Contains(pattern, "/group-mappings")
}

func isWrite(method string) bool { return method != http.MethodGet && method != http.MethodHead }

func TestIsolation_OtherTenantGets404(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ts := setupTenants(e)
		routes := accountRoutes(e, "a", ts)
		// Every endpoint class of §4.1–§4.5, §4.7 and §5 so far.
		if got, min := len(routes), 33; got < min {
			t.Fatalf("only %d account routes registered, want at least %d: %v", got, min, e.API.Routes())
		}
		beforeA, beforeB := e.state("a"), e.state("b")
		callers := []struct {
			name    string
			token   string
			headers []string
		}{
			{"b_admin", ts.tokens["b"]["admin"], nil},
			{"b_app", ts.tokens["b"]["app"], nil},
			{"b_app_acting_b_admin", ts.tokens["b"]["app"], []string{"Seatkeeper-Acting-User: boss"}},
			{"b_reader", ts.tokens["b"]["reader"], nil},
		}
		for _, rt := range routes {
			t.Run(strings.NewReplacer(" ", "_", "/v1/accounts/", "", "/scim/v2/", "scim_", "/", "_", "{", "", "}", "").Replace(rt.pattern), func(t *testing.T) {
				e := e.withT(t)
				for _, c := range callers {
					r := e.do(c.token, rt.method, rt.path, rt.body, c.headers...)
					if r.Status != 404 {
						t.Errorf("%s: %s %s: status %d, want 404: %s", c.name, rt.method, rt.path, r.Status, r.Body)
						continue
					}
					if p := r.Problem(t); p.Code != "not_found" || p.Status != 404 {
						t.Errorf("%s: problem %+v, want not_found", c.name, p)
					}
					if strings.Contains(string(r.Body), "hijacked") || strings.Contains(string(r.Body), "u1@example.com") {
						t.Errorf("%s: the 404 leaks data of a: %s", c.name, r.Body)
					}
				}
			})
		}
		t.Run("a_unchanged", func(t *testing.T) {
			e := e.withT(t)
			e.sameState("a", beforeA)
			e.sameState("b", beforeB)
			if got := e.imported("a"); len(got) != 0 {
				t.Errorf("b's tokens imported %d events into a's ledger", len(got))
			}
			// a's tokens still work: b could not revoke them.
			for kind, tok := range ts.tokens["a"] {
				if got := e.do(tok, "GET", "/v1/accounts/a", nil).Status; got != 200 {
					t.Errorf("a's %s token: status %d, want 200", kind, got)
				}
			}
		})
		t.Run("token_id_of_other_tenant", func(t *testing.T) {
			e := e.withT(t)
			// a's admin names b's token under a's own path: no such token in a.
			wantProblem(t, e.do(ts.tokens["a"]["admin"], "DELETE", "/v1/accounts/a/tokens/"+ts.tokenIDs["b"]["reader"], nil), 404, "not_found")
			if got := e.do(ts.tokens["b"]["reader"], "GET", "/v1/accounts/b", nil).Status; got != 200 {
				t.Errorf("b's reader token after a's attempt: status %d, want 200", got)
			}
		})
		t.Run("user_of_other_tenant", func(t *testing.T) {
			e := e.withT(t)
			e.newUser("b", "only_in_b")
			wantProblem(t, e.do(ts.tokens["a"]["admin"], "GET", "/v1/accounts/a/users/only_in_b", nil), 404, "not_found")
			wantProblem(t, e.do(ts.tokens["a"]["admin"], "PUT", "/v1/accounts/a/users/only_in_b/licenses/essentials", nil), 404, "not_found")
			d := e.check(ts.tokens["a"]["app"], "a", "only_in_b", "feature=channel.voice")
			if d.Allowed || d.Code != "user_not_found" {
				t.Errorf("decision on b's user through a: %+v", d)
			}
			before := e.state("b")
			wantProblem(t, e.do(ts.tokens["a"]["app"], "POST", "/v1/accounts/a/sessions", map[string]string{"user": "only_in_b", "kind": "portal"}), 404, "not_found")
			e.sameState("b", before)
		})
		t.Run("session_id_of_other_tenant", func(t *testing.T) {
			e := e.withT(t)
			// a's tokens name b's live session under a's own path: there is
			// no such session in a (not_found, not session_ended), and b's
			// session is neither extended nor ended.
			before := e.state("b")
			bSession := ts.sessionIDs["b"]["agent"]
			for _, tok := range []string{ts.tokens["a"]["app"], ts.tokens["a"]["admin"]} {
				wantProblem(t, e.do(tok, "POST", "/v1/accounts/a/sessions/"+bSession+"/heartbeat", nil), 404, "not_found")
				wantProblem(t, e.do(tok, "DELETE", "/v1/accounts/a/sessions/"+bSession, nil), 404, "not_found")
			}
			e.sameState("b", before)
			var list struct {
				Items []struct {
					ID string `json:"id"`
				} `json:"items"`
			}
			e.mustAs(ts.tokens["a"]["reader"], 200, "GET", "/v1/accounts/a/sessions?user=agent", nil).JSON(t, &list)
			if len(list.Items) != 1 || list.Items[0].ID != ts.sessionIDs["a"]["agent"] {
				t.Errorf("a's sessions of agent: %+v, want only %s", list.Items, ts.sessionIDs["a"]["agent"])
			}
			e.mustAs(ts.tokens["b"]["app"], 200, "POST", "/v1/accounts/b/sessions/"+bSession+"/heartbeat", nil)
		})
	})
}

func TestIsolation_AccessRules(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ts := setupTenants(e)
		routes := accountRoutes(e, "a", ts)
		before := e.state("a")
		operatorOnly := map[string]bool{
			"PUT /v1/accounts/{account}":                            true,
			"DELETE /v1/accounts/{account}":                         true,
			"PUT /v1/accounts/{account}/subscriptions/{license}":    true,
			"DELETE /v1/accounts/{account}/subscriptions/{license}": true,
			"POST /v1/accounts/{account}/usage/events":              true,
			"POST /v1/accounts/{account}/billing/close":             true,
		}
		// Presence routes: operator, admin and app tokens, an app token
		// without an acting user too; never readers.
		presenceOnly := map[string]bool{
			"POST /v1/accounts/{account}/sessions":                true,
			"POST /v1/accounts/{account}/sessions/{id}/heartbeat": true,
			"DELETE /v1/accounts/{account}/sessions/{id}":         true,
		}
		writes := 0
		for _, rt := range routes {
			if !isWrite(rt.method) {
				continue
			}
			writes++
			t.Run(strings.NewReplacer(" ", "_", "/v1/accounts/", "", "/scim/v2/", "scim_", "/", "_", "{", "", "}", "").Replace(rt.pattern), func(t *testing.T) {
				e := e.withT(t)
				t.Run("reader_cannot_write", func(t *testing.T) {
					wantProblem(t, e.withT(t).do(ts.tokens["a"]["reader"], rt.method, rt.path, rt.body), 403, "forbidden")
				})
				t.Run("reader_acting_admin_cannot_write", func(t *testing.T) {
					r := e.withT(t).do(ts.tokens["a"]["reader"], rt.method, rt.path, rt.body, "Seatkeeper-Acting-User: boss")
					wantProblem(t, r, 403, "forbidden")
				})
				if presenceOnly[rt.pattern] {
					return // app tokens may: see presence_app_and_admin below
				}
				t.Run("app_without_acting_user", func(t *testing.T) {
					wantProblem(t, e.withT(t).do(ts.tokens["a"]["app"], rt.method, rt.path, rt.body), 403, "forbidden")
				})
				t.Run("app_acting_member_without_permission", func(t *testing.T) {
					r := e.withT(t).do(ts.tokens["a"]["app"], rt.method, rt.path, rt.body, "Seatkeeper-Acting-User: u1")
					wantProblem(t, r, 403, "forbidden")
				})
				if operatorOnly[rt.pattern] {
					t.Run("admin_refused_operator_only", func(t *testing.T) {
						wantProblem(t, e.withT(t).do(ts.tokens["a"]["admin"], rt.method, rt.path, rt.body), 403, "forbidden")
					})
					t.Run("app_acting_admin_refused_operator_only", func(t *testing.T) {
						r := e.withT(t).do(ts.tokens["a"]["app"], rt.method, rt.path, rt.body, "Seatkeeper-Acting-User: boss")
						wantProblem(t, r, 403, "forbidden")
					})
				}
			})
		}
		if writes < 20 {
			t.Errorf("only %d write routes checked", writes)
		}
		for _, known := range []map[string]bool{operatorOnly, presenceOnly} {
			for p := range known {
				found := false
				for _, rt := range routes {
					found = found || rt.pattern == p
				}
				if !found {
					t.Errorf("route %s is not registered", p)
				}
			}
		}
		t.Run("a_unchanged", func(t *testing.T) {
			e := e.withT(t)
			e.sameState("a", before)
			if got := e.imported("a"); len(got) != 0 {
				t.Errorf("refused requests imported %d events into a's ledger", len(got))
			}
		})
		t.Run("reader_reads", func(t *testing.T) {
			e := e.withT(t)
			for _, rt := range routes {
				if isWrite(rt.method) || strings.HasSuffix(rt.pattern, "/audit") {
					continue
				}
				want := 200
				if adminReads(rt.pattern) {
					want = 403 // SCIM and group mappings: admin tokens only
				}
				if strings.HasSuffix(rt.pattern, "/statements/{statement}") || strings.HasSuffix(rt.pattern, "/billing/close") || strings.HasSuffix(rt.pattern, "/saml") {
					want = 404 // the made-up id, the month never closed, no SAML here: read, and not found
				}
				if strings.HasSuffix(rt.pattern, "/billing/advice") {
					want = 400 // read, and refused: no advice for a named hard subscription
				}
				if got := e.do(ts.tokens["a"]["reader"], rt.method, rt.path, nil).Status; got != want {
					t.Errorf("reader %s %s: status %d, want %d", rt.method, rt.path, got, want)
				}
			}
		})
		t.Run("app_acting_reads_what_the_user_may", func(t *testing.T) {
			// An app token acting for a user does what the user's roles
			// permit, and nothing more (SPEC §4): billing, reports and the
			// audit trail need the user's account.*.view. On its own, or
			// acting for the account admin, it reads what a reader reads.
			e := e.withT(t)
			views := 0
			for _, rt := range routes {
				if isWrite(rt.method) || adminReads(rt.pattern) {
					continue
				}
				want := e.do(ts.tokens["a"]["reader"], rt.method, rt.path, nil).Status
				if got := e.do(ts.tokens["a"]["app"], rt.method, rt.path, nil).Status; got != want {
					t.Errorf("app %s %s: status %d, want %d as a reader's", rt.method, rt.path, got, want)
				}
				if got := e.do(ts.tokens["a"]["app"], rt.method, rt.path, nil, "Seatkeeper-Acting-User: boss").Status; got != want {
					t.Errorf("app acting for boss %s %s: status %d, want %d as a reader's", rt.method, rt.path, got, want)
				}
				member := e.do(ts.tokens["a"]["app"], rt.method, rt.path, nil, "Seatkeeper-Acting-User: u1")
				if strings.HasSuffix(rt.pattern, "/subscriptions") || strings.Contains(rt.pattern, "/billing/") ||
					strings.HasSuffix(rt.pattern, "/reports/license-usage") || strings.HasSuffix(rt.pattern, "/audit") {
					views++
					wantProblem(t, member, 403, "forbidden")
				} else if member.Status != want {
					t.Errorf("app acting for u1 %s %s: status %d, want %d as a reader's", rt.method, rt.path, member.Status, want)
				}
			}
			if views < 8 {
				t.Errorf("only %d billing, report and audit reads checked", views)
			}
			e.sameState("a", before)
		})
		t.Run("unauthenticated", func(t *testing.T) {
			e := e.withT(t)
			for _, c := range []struct{ name, header string }{
				{"none", ""},
				{"garbage", "Authorization: Bearer sk_not_a_token"},
				{"basic", "Authorization: Basic dXNlcjpwYXNz"},
				{"empty_bearer", "Authorization: Bearer "},
			} {
				var hs []string
				if c.header != "" {
					hs = append(hs, c.header)
				}
				r := e.do("", "GET", "/v1/accounts/a", nil, hs...)
				wantProblem(t, r, 401, "unauthenticated")
				if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="seatkeeper"` {
					t.Errorf("%s: WWW-Authenticate %q, want the Bearer scheme (RFC 6750)", c.name, got)
				}
				wantProblem(t, e.do("", "PUT", "/v1/accounts/a/users/u9", map[string]any{}, hs...), 401, "unauthenticated")
			}
			e.sameState("a", before)
		})
		// Last, as it changes a: what the presence routes allow, they do.
		t.Run("presence_app_and_admin", func(t *testing.T) {
			e := e.withT(t)
			liveIDs := func() []string {
				var list struct {
					Items []struct {
						ID string `json:"id"`
					} `json:"items"`
				}
				e.must(200, "GET", "/v1/accounts/a/sessions?user=agent", nil).JSON(t, &list)
				var ids []string
				for _, s := range list.Items {
					ids = append(ids, s.ID)
				}
				return ids
			}
			for _, c := range []struct {
				name, token string
				headers     []string
			}{
				{"app_without_acting_user", ts.tokens["a"]["app"], nil},
				{"app_acting_member_without_permission", ts.tokens["a"]["app"], []string{"Seatkeeper-Acting-User: u1"}},
				{"app_acting_unknown_user", ts.tokens["a"]["app"], []string{"Seatkeeper-Acting-User: nobody"}},
				{"admin", ts.tokens["a"]["admin"], nil},
			} {
				var s struct {
					ID   string `json:"id"`
					User string `json:"user"`
				}
				e.mustAs(c.token, 201, "POST", "/v1/accounts/a/sessions", map[string]string{"user": "agent", "kind": "api"}, c.headers...).JSON(t, &s)
				if s.ID == "" || s.User != "agent" || !slices.Contains(liveIDs(), s.ID) {
					t.Errorf("%s: session %+v is not live", c.name, s)
					continue
				}
				e.mustAs(c.token, 200, "POST", "/v1/accounts/a/sessions/"+s.ID+"/heartbeat", nil, c.headers...)
				e.mustAs(c.token, 204, "DELETE", "/v1/accounts/a/sessions/"+s.ID, nil, c.headers...)
				if slices.Contains(liveIDs(), s.ID) {
					t.Errorf("%s: session %s still live after DELETE", c.name, s.ID)
				}
			}
			if got, want := liveIDs(), []string{ts.sessionIDs["a"]["agent"]}; !slices.Equal(got, want) {
				t.Errorf("agent's live sessions %v, want %v", got, want)
			}
			// Ending a user's sessions is user management: an app token acting
			// for the account admin may.
			var out struct {
				Ended int `json:"ended"`
			}
			e.mustAs(ts.tokens["a"]["app"], 200, "DELETE", "/v1/accounts/a/users/u1/sessions", nil, "Seatkeeper-Acting-User: boss").JSON(t, &out)
			if out.Ended != 1 {
				t.Errorf("ended %d sessions of u1, want 1", out.Ended)
			}
		})
		t.Run("app_acting_for_no_one_reads_nothing", func(t *testing.T) {
			// A user who does not exist, or is inactive, may read nothing;
			// the header twice is refused. Before, such a header was
			// ignored on reads that name no permission. (After the state
			// checks above: it adds a user.)
			e := e.withT(t)
			e.must(201, "PUT", "/v1/accounts/a/users/idle", map[string]any{"active": false})
			before := e.state("a")
			for _, rt := range routes {
				if isWrite(rt.method) || adminReads(rt.pattern) {
					continue
				}
				for _, who := range []string{"nobody", "idle"} {
					wantProblem(t, e.do(ts.tokens["a"]["app"], rt.method, rt.path, nil, "Seatkeeper-Acting-User: "+who), 403, "forbidden")
				}
				wantProblem(t, e.do(ts.tokens["a"]["app"], rt.method, rt.path, nil, "Seatkeeper-Acting-User: boss", "Seatkeeper-Acting-User: u1"), 400, "invalid_request")
			}
			e.sameState("a", before)
		})
	})
}

func TestIsolation_RevokedToken(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ts := setupTenants(e)
		admin := ts.tokens["a"]["admin"]
		id, secret := e.newToken("a", "admin")
		t.Run("revoke", func(t *testing.T) {
			e := e.withT(t)
			// Used once, so that the server has it cached.
			e.mustAs(secret, 200, "GET", "/v1/accounts/a", nil)
			e.mustAs(secret, 201, "PUT", "/v1/accounts/a/users/before_revoke", map[string]any{})
			e.mustAs(admin, 204, "DELETE", "/v1/accounts/a/tokens/"+id, nil)
			wantProblem(t, e.do(secret, "GET", "/v1/accounts/a", nil), 401, "unauthenticated")
			before := e.state("a")
			wantProblem(t, e.do(secret, "PUT", "/v1/accounts/a/users/after_revoke", map[string]any{}), 401, "unauthenticated")
			e.sameState("a", before)
			wantProblem(t, e.do(admin, "DELETE", "/v1/accounts/a/tokens/"+id, nil), 404, "not_found")
		})
		t.Run("reader_cannot_revoke", func(t *testing.T) {
			e := e.withT(t)
			wantProblem(t, e.do(ts.tokens["a"]["reader"], "DELETE", "/v1/accounts/a/tokens/"+ts.tokenIDs["a"]["app"], nil), 403, "forbidden")
			e.mustAs(ts.tokens["a"]["app"], 200, "GET", "/v1/accounts/a", nil)
		})
		t.Run("operator_tokens_not_made_by_api", func(t *testing.T) {
			e := e.withT(t)
			wantProblem(t, e.do(admin, "POST", "/v1/accounts/a/tokens", map[string]string{"kind": "operator", "name": "x"}), 400, "invalid_request")
			wantProblem(t, e.do(e.Operator, "POST", "/v1/accounts/a/tokens", map[string]string{"kind": "operator", "name": "x"}), 400, "invalid_request")
		})
		t.Run("deleted_account_tokens", func(t *testing.T) {
			e := e.withT(t)
			e.mustAs(ts.tokens["b"]["admin"], 200, "GET", "/v1/accounts/b", nil)
			e.must(204, "DELETE", "/v1/accounts/b", nil)
			for kind, tok := range ts.tokens["b"] {
				if r := e.do(tok, "GET", "/v1/accounts/b", nil); r.Status != 401 {
					t.Errorf("%s token of a deleted account: status %d, want 401", kind, r.Status)
				}
			}
			wantProblem(t, e.do(e.Operator, "GET", "/v1/accounts/b", nil), 404, "not_found")
			e.mustAs(admin, 200, "GET", "/v1/accounts/a", nil)
		})
	})
}
