package httpapi_test

// SCIM 2.0 (SPEC §6): the Okta spec-test steps, provisioning effects,
// ETags, group mappings and bad input.

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/seatkeeper/seatkeeper/scim"
)

// scimEnv is an account "acme" on the contact-center catalog with its
// admin token, spoken to over SCIM.
type scimEnv struct {
	*env
	admin string
}

func newSCIM(t *testing.T, e *env) scimEnv {
	e.newAccount("acme", "contact-center")
	return scimEnv{env: e, admin: e.token("acme", "admin")}
}

// call sends a SCIM request as the account admin and checks the status
// and the content type.
func (s scimEnv) call(want int, method, path string, body any, headers ...string) map[string]any {
	s.t.Helper()
	r := s.do(s.admin, method, "/scim/v2/acme"+path, body, headers...)
	if r.Status != want {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	if len(r.Body) == 0 {
		return nil
	}
	if ct := r.Header.Get("Content-Type"); ct != scim.ContentType {
		s.t.Errorf("%s %s: content type %q, want %s", method, path, ct, scim.ContentType)
	}
	var out map[string]any
	r.JSON(s.t, &out)
	if want >= 400 {
		wantSCIMError(s.t, out, want)
	}
	return out
}

// wantSCIMError checks the shape of a SCIM error document (RFC 7644 §3.12).
func wantSCIMError(t testing.TB, doc map[string]any, status int) {
	t.Helper()
	schemas, _ := doc["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != scim.ErrorSchema {
		t.Errorf("error schemas %v, want [%s]", doc["schemas"], scim.ErrorSchema)
	}
	if got, ok := doc["status"].(string); !ok || got != strconv.Itoa(status) {
		t.Errorf("error status %#v, want the string %q", doc["status"], strconv.Itoa(status))
	}
	if d, _ := doc["detail"].(string); d == "" {
		t.Errorf("error without detail: %v", doc)
	}
}

func newSCIMUser(userName string, extra map[string]any) map[string]any {
	u := map[string]any{"schemas": []string{scim.UserSchema}, "userName": userName, "active": true,
		"name": map[string]any{"givenName": "Test", "familyName": "User"}}
	for k, v := range extra {
		u[k] = v
	}
	return u
}

func filterQuery(f string) string { return "?filter=" + url.QueryEscape(f) }

// TestSCIM_OktaSpecSteps follows the steps of Okta's SCIM 2.0 spec test.
func TestSCIM_OktaSpecSteps(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s := newSCIM(t, e)
		t.Run("ListResponseShape", func(t *testing.T) {
			out := s.call(200, "GET", "/Users?startIndex=1&count=100", nil)
			if !slices.Equal(out["schemas"].([]any), []any{scim.ListResponseSchema}) {
				t.Errorf("schemas %v", out["schemas"])
			}
			for _, k := range []string{"totalResults", "startIndex", "itemsPerPage", "Resources"} {
				if _, ok := out[k]; !ok {
					t.Errorf("ListResponse without %s: %v", k, out)
				}
			}
			if _, ok := out["Resources"].([]any); !ok {
				t.Errorf("Resources is not a list: %v", out["Resources"])
			}
		})
		t.Run("UnknownUserNameGivesNoResults", func(t *testing.T) {
			out := s.call(200, "GET", "/Users"+filterQuery(`userName eq "nobody@example.com"`)+"&startIndex=1&count=100", nil)
			if out["totalResults"] != 0.0 || len(out["Resources"].([]any)) != 0 {
				t.Errorf("unknown userName: %v", out)
			}
		})
		t.Run("UnknownIdIs404WithErrorSchema", func(t *testing.T) {
			s.call(404, "GET", "/Users/010101010101010101010101", nil)
		})
		var id string
		t.Run("CreateIs201", func(t *testing.T) {
			out := s.call(201, "POST", "/Users", newSCIMUser("Jane.Doe@Example.com", map[string]any{
				"emails": []any{map[string]any{"value": "jane@example.com", "primary": true, "type": "work"}}}))
			id, _ = out["id"].(string)
			meta, _ := out["meta"].(map[string]any)
			if id == "" || meta["resourceType"] != "User" || !strings.HasSuffix(meta["location"].(string), "/Users/"+id) {
				t.Fatalf("created %v", out)
			}
			if out["userName"] != "Jane.Doe@Example.com" || out["active"] != true {
				t.Errorf("created %v", out)
			}
			// A SCIM user is a Seatkeeper user.
			var u struct {
				UserName string `json:"user_name"`
				Email    string `json:"email"`
				Display  string `json:"display_name"`
			}
			e.must(200, "GET", "/v1/accounts/acme/users/"+id, nil).JSON(t, &u)
			if u.UserName != "Jane.Doe@Example.com" || u.Email != "jane@example.com" || u.Display != "Test User" {
				t.Errorf("the Seatkeeper user: %+v", u)
			}
		})
		t.Run("DuplicateUserNameIs409Uniqueness", func(t *testing.T) {
			out := s.call(409, "POST", "/Users", newSCIMUser("jane.doe@example.COM", nil))
			if out["scimType"] != scim.Uniqueness {
				t.Errorf("scimType %v, want uniqueness", out["scimType"])
			}
		})
		t.Run("UserNameIsCaseInsensitive", func(t *testing.T) {
			out := s.call(200, "GET", "/Users"+filterQuery(`userName eq "JANE.DOE@EXAMPLE.COM"`), nil)
			res := out["Resources"].([]any)
			if out["totalResults"] != 1.0 || len(res) != 1 || res[0].(map[string]any)["id"] != id {
				t.Errorf("case-insensitive userName: %v", out)
			}
		})
		t.Run("GetById", func(t *testing.T) {
			out := s.call(200, "GET", "/Users/"+id, nil)
			if out["id"] != id || out["userName"] != "Jane.Doe@Example.com" {
				t.Errorf("get %v", out)
			}
		})
		t.Run("APIChangesShowInSCIM", func(t *testing.T) {
			e.must(200, "PUT", "/v1/accounts/acme/users/"+id, map[string]any{"user_name": "Jane.Doe@Example.com", "email": "jd@example.com", "display_name": "Jane D"})
			out := s.call(200, "GET", "/Users/"+id, nil)
			emails, _ := out["emails"].([]any)
			if out["displayName"] != "Jane D" || len(emails) != 1 || emails[0].(map[string]any)["value"] != "jd@example.com" {
				t.Errorf("after a change through the API: %v", out)
			}
		})
	})
}

func ext(plan string, addons, roles []string) map[string]any {
	return map[string]any{"plan": plan, "addons": addons, "roles": roles}
}

// heldFrom lists the user's licenses (or "service:role" roles) from one source.
func (s scimEnv) heldFrom(user, source string) (licenses, roles []string) {
	s.t.Helper()
	var u struct {
		Licenses []struct{ License, Source string }
		Roles    []struct{ Service, Role, Source string }
	}
	s.must(200, "GET", "/v1/accounts/acme/users/"+user, nil).JSON(s.t, &u)
	for _, l := range u.Licenses {
		if l.Source == source {
			licenses = append(licenses, l.License)
		}
	}
	for _, r := range u.Roles {
		if r.Source == source {
			roles = append(roles, r.Service+":"+r.Role)
		}
	}
	return licenses, roles
}

// TestSCIM_ExtensionAssigns: the Seatkeeper extension assigns with source
// scim under the API's rules (R12), a seat limit is a 409 naming the
// license, active "False" deactivates (R3).
func TestSCIM_ExtensionAssigns(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s := newSCIM(t, e)
		e.subscribe("acme", "premium", "named", 1)
		e.subscribe("acme", "qm", "named", 5)
		out := s.call(201, "POST", "/Users", newSCIMUser("ann", map[string]any{
			"schemas":                 []string{scim.UserSchema, scim.SeatkeeperUserSchema, scim.EnterpriseUserSchema},
			scim.SeatkeeperUserSchema: ext("premium", []string{"qm"}, []string{"qm:supervisor"}),
			scim.EnterpriseUserSchema: map[string]any{"department": "Support", "manager": map[string]any{"value": "boss"}},
		}))
		ann := out["id"].(string)
		lics, roles := s.heldFrom(ann, "scim")
		if !slices.Equal(lics, []string{"premium", "qm"}) || !slices.Equal(roles, []string{"qm:supervisor"}) {
			t.Fatalf("scim-sourced: %v %v", lics, roles)
		}
		got := s.call(200, "GET", "/Users/"+ann, nil)
		if x, _ := got[scim.SeatkeeperUserSchema].(map[string]any); x["plan"] != "premium" || !slices.Equal(x["addons"].([]any), []any{"qm"}) {
			t.Errorf("extension read back: %v", got[scim.SeatkeeperUserSchema])
		}
		if ent, _ := got[scim.EnterpriseUserSchema].(map[string]any); ent["department"] != "Support" {
			t.Errorf("enterprise extension not kept: %v", got)
		}
		t.Run("SeatLimitIs409NamingTheLicense", func(t *testing.T) {
			before := e.state("acme")
			out := s.call(409, "POST", "/Users", newSCIMUser("bob", map[string]any{scim.SeatkeeperUserSchema: ext("premium", nil, nil)}))
			if d, _ := out["detail"].(string); !strings.Contains(d, "premium") || !strings.Contains(d, "seat_limit_reached") {
				t.Errorf("detail %q does not name the license", d)
			}
			e.sameState("acme", before)
		})
		t.Run("RulesAsTheAPI", func(t *testing.T) {
			out := s.call(422, "POST", "/Users", newSCIMUser("carl", map[string]any{scim.SeatkeeperUserSchema: map[string]any{"addons": []string{"qm"}}}))
			if d, _ := out["detail"].(string); !strings.HasPrefix(d, "requirement_missing") {
				t.Errorf("an add-on without a plan: %q", d)
			}
			s.call(400, "POST", "/Users", newSCIMUser("carl", map[string]any{scim.SeatkeeperUserSchema: map[string]any{"plan": "no_such_plan"}}))
			s.call(400, "POST", "/Users", newSCIMUser("carl", map[string]any{scim.SeatkeeperUserSchema: map[string]any{"region": "eu"}}))
		})
		t.Run("PatchReplacesTheSCIMSet", func(t *testing.T) {
			s.call(200, "PATCH", "/Users/"+ann, map[string]any{"schemas": []string{scim.PatchOpSchema}, "Operations": []any{
				map[string]any{"op": "replace", "path": scim.SeatkeeperUserSchema + ":addons", "value": []string{}},
				map[string]any{"op": "remove", "path": scim.SeatkeeperUserSchema + ":roles"},
			}})
			lics, roles := s.heldFrom(ann, "scim")
			if !slices.Equal(lics, []string{"premium"}) || len(roles) != 0 {
				t.Errorf("after the PATCH: %v %v", lics, roles)
			}
		})
		t.Run("ActiveFalseStringDeactivates", func(t *testing.T) {
			out := s.call(200, "PATCH", "/Users/"+ann, map[string]any{"schemas": []string{scim.PatchOpSchema}, "Operations": []any{
				map[string]any{"op": "Replace", "path": "active", "value": "False"}}})
			if out["active"] != false {
				t.Errorf("active %v", out["active"])
			}
			var sum struct {
				Items []struct {
					License  string
					Assigned int
				}
			}
			e.must(200, "GET", "/v1/accounts/acme/licenses", nil).JSON(t, &sum)
			for _, l := range sum.Items {
				if l.License == "premium" && l.Assigned != 0 {
					t.Errorf("R3: an inactive user holds a premium seat")
				}
			}
			// R3: SCIM assignments come back on reactivation.
			s.call(200, "PATCH", "/Users/"+ann, map[string]any{"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": true}}}})
			if lics, _ := s.heldFrom(ann, "scim"); !slices.Equal(lics, []string{"premium"}) {
				t.Errorf("after reactivation: %v", lics)
			}
		})
	})
}

// TestSCIM_ETags: meta.version is the ETag; If-Match must match.
func TestSCIM_ETags(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s := newSCIM(t, e)
		r := e.do(s.admin, "POST", "/scim/v2/acme/Users", newSCIMUser("ann", nil))
		etag := r.Header.Get("ETag")
		var out map[string]any
		r.JSON(t, &out)
		id := out["id"].(string)
		if etag == "" || out["meta"].(map[string]any)["version"] != etag {
			t.Fatalf("ETag %q, meta %v", etag, out["meta"])
		}
		if got := e.do(s.admin, "GET", "/scim/v2/acme/Users/"+id, nil, "If-None-Match: "+etag).Status; got != 304 {
			t.Errorf("If-None-Match with the current ETag: %d, want 304", got)
		}
		patch := map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "displayName", "value": "Ann"}}}
		before := e.state("acme")
		s.call(412, "PATCH", "/Users/"+id, patch, `If-Match: W/"0000"`)
		s.call(412, "PUT", "/Users/"+id, newSCIMUser("ann2", nil), `If-Match: W/"0000"`)
		s.call(412, "DELETE", "/Users/"+id, nil, `If-Match: W/"0000"`)
		e.sameState("acme", before)
		changed := s.call(200, "PATCH", "/Users/"+id, patch, "If-Match: "+etag)
		if changed["displayName"] != "Ann" || changed["meta"].(map[string]any)["version"] == etag {
			t.Errorf("after the PATCH: %v", changed)
		}
		s.call(412, "PATCH", "/Users/"+id, patch, "If-Match: "+etag) // the old one no longer
	})
}

// TestSCIM_GroupMappings: members of a mapped group get its licenses and
// roles (source group); leaving removes exactly what the group gave.
func TestSCIM_GroupMappings(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s := newSCIM(t, e)
		e.subscribe("acme", "premium", "named", 2)
		e.subscribe("acme", "qm", "named", 1)
		var ids []string
		for _, n := range []string{"ann", "bob"} {
			ids = append(ids, s.call(201, "POST", "/Users", newSCIMUser(n, nil))["id"].(string))
		}
		ann, bob := ids[0], ids[1]
		agents := s.call(201, "POST", "/Groups", map[string]any{"schemas": []string{scim.GroupSchema}, "displayName": "Agents",
			"members": []any{map[string]any{"value": ann}}})["id"].(string)
		leads := s.call(201, "POST", "/Groups", map[string]any{"displayName": "Leads", "members": []any{map[string]any{"value": ann}}})["id"].(string)
		e.must(201, "PUT", "/v1/accounts/acme/group-mappings/"+agents, map[string]any{"licenses": []string{"premium"}, "roles": []string{"qm:agent"}})
		e.must(201, "PUT", "/v1/accounts/acme/group-mappings/"+leads, map[string]any{"licenses": []string{"premium"}})
		e.must(200, "PUT", "/v1/accounts/acme/group-mappings/"+leads, map[string]any{"licenses": []string{"premium", "qm"}})
		if lics, roles := s.heldFrom(ann, "group"); !slices.Equal(lics, []string{"premium", "qm"}) || !slices.Equal(roles, []string{"qm:agent"}) {
			t.Fatalf("ann from groups: %v %v", lics, roles)
		}
		// Okta adds a member.
		s.call(200, "PATCH", "/Groups/"+agents, map[string]any{"schemas": []string{scim.PatchOpSchema}, "Operations": []any{
			map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": bob, "display": "bob"}}}}})
		if lics, _ := s.heldFrom(bob, "group"); !slices.Equal(lics, []string{"premium"}) {
			t.Errorf("bob joined Agents: %v", lics)
		}
		t.Run("SeatLimitIs409AndChangesNothing", func(t *testing.T) {
			before := e.state("acme")
			out := s.call(409, "PATCH", "/Groups/"+leads, map[string]any{"Operations": []any{
				map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": bob}}}}})
			if !strings.Contains(out["detail"].(string), "qm") {
				t.Errorf("detail %v does not name qm", out["detail"])
			}
			e.sameState("acme", before)
		})
		// Okta removes ann from Agents; Leads still gives premium, not qm:agent.
		s.call(200, "PATCH", "/Groups/"+agents, map[string]any{"Operations": []any{
			map[string]any{"op": "remove", "path": `members[value eq "` + ann + `"]`}}})
		if lics, roles := s.heldFrom(ann, "group"); !slices.Equal(lics, []string{"premium", "qm"}) || len(roles) != 0 {
			t.Errorf("ann after leaving Agents: %v %v", lics, roles)
		}
		// Entra removes with a value list; then the group is deleted.
		s.call(200, "PATCH", "/Groups/"+leads, map[string]any{"Operations": []any{
			map[string]any{"op": "Remove", "path": "members", "value": []any{map[string]any{"value": ann}}}}})
		if lics, _ := s.heldFrom(ann, "group"); len(lics) != 0 {
			t.Errorf("ann in no group keeps %v", lics)
		}
		// bob's manual add-on needs the plan Agents gives: the identity
		// provider deletes the group all the same (refused, it would retry
		// for ever). The add-on stays bob's, and grants nothing without a
		// plan (R2) until bob has one again.
		e.subscribe("acme", "ai_expert_assist", "named", 1)
		e.must(201, "PUT", "/v1/accounts/acme/users/"+bob+"/licenses/ai_expert_assist", nil)
		s.call(204, "DELETE", "/Groups/"+agents, nil)
		if lics, _ := s.heldFrom(bob, "group"); len(lics) != 0 {
			t.Errorf("bob after Agents was deleted: %v", lics)
		}
		if lics, _ := s.heldFrom(bob, "manual"); !slices.Equal(lics, []string{"ai_expert_assist"}) {
			t.Errorf("bob's manual licenses after Agents was deleted: %v", lics)
		}
		if d := e.check(e.Operator, "acme", bob, "feature=ai_expert_assist"); d.Allowed {
			t.Errorf("bob without a plan: %+v, want refused", d)
		}
		wantProblem(t, e.do(e.Operator, "PUT", "/v1/accounts/acme/users/"+bob+"/licenses/qm", nil), 422, "requirement_missing")
		wantProblem(t, e.do(s.admin, "GET", "/v1/accounts/acme/group-mappings/"+agents, nil), 404, "not_found")
		var list struct{ Items []map[string]any }
		e.must(200, "GET", "/v1/accounts/acme/group-mappings", nil).JSON(t, &list)
		if len(list.Items) != 1 || list.Items[0]["group"] != leads {
			t.Errorf("mappings %v", list.Items)
		}
		e.must(204, "DELETE", "/v1/accounts/acme/group-mappings/"+leads, nil)
	})
}

// TestSCIM_R3_GroupAddOnAndManualPlan: ann's plan is hers by hand, her
// QM add-on comes from a group. Deactivating her by hand frees both (R3;
// it was refused: the add-on would be left without its plan).
// Reactivating her restores the group's add-on, not the manual plan (R3):
// it grants nothing until she has a plan again, and then takes an add-on
// seat (R9 counts it from then on).
func TestSCIM_R3_GroupAddOnAndManualPlan(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s := newSCIM(t, e)
		e.subscribe("acme", "premium", "named", 2)
		e.subscribe("acme", "qm", "named", 1)
		ann := s.call(201, "POST", "/Users", newSCIMUser("ann", nil))["id"].(string)
		e.must(201, "PUT", "/v1/accounts/acme/users/"+ann+"/licenses/premium", nil)
		g := s.call(201, "POST", "/Groups", map[string]any{"displayName": "QM", "members": []any{map[string]any{"value": ann}}})["id"].(string)
		e.must(201, "PUT", "/v1/accounts/acme/group-mappings/"+g, map[string]any{"licenses": []string{"qm"}})

		e.must(200, "PUT", "/v1/accounts/acme/users/"+ann, map[string]any{"active": false})
		for _, l := range []string{"premium", "qm"} {
			if got := e.line("acme", l).Assigned; got != 0 {
				t.Errorf("%s assigned %d with ann inactive, want 0", l, got)
			}
		}
		e.must(200, "PUT", "/v1/accounts/acme/users/"+ann, map[string]any{"active": true})
		if lics, _ := s.heldFrom(ann, "group"); !slices.Equal(lics, []string{"qm"}) {
			t.Errorf("ann's group licenses after reactivation: %v, want [qm]", lics)
		}
		if d := e.check(e.Operator, "acme", ann, "feature=qm.evaluations"); d.Allowed {
			t.Errorf("ann's QM without a plan: %+v, want refused", d)
		}
		e.must(201, "PUT", "/v1/accounts/acme/users/"+ann+"/licenses/premium", nil)
		if d := e.check(e.Operator, "acme", ann, "feature=qm.evaluations"); !d.Allowed {
			t.Errorf("ann's QM with a plan again: %+v, want allowed", d)
		}
	})
}

// TestSCIM_Lists: filters, paging and projection.
// TestSCIM_ParallelPatches: an identity provider adds members to one
// group, and changes one user, in parallel PATCHes without If-Match. Each
// is applied to the resource as it is (RFC 7644 §3.14: If-Match is the
// client's choice): every one answers 200 and none is lost. A PATCH whose
// If-Match no longer holds is still 412.
func TestSCIM_ParallelPatches(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s := newSCIM(t, e)
		const n = 16
		var members []string
		for i := range n {
			members = append(members, s.call(201, "POST", "/Users", newSCIMUser(fmt.Sprintf("m%d", i), nil))["id"].(string))
		}
		group := s.call(201, "POST", "/Groups", map[string]any{"displayName": "Agents"})
		id, etag := group["id"].(string), group["meta"].(map[string]any)["version"].(string)
		patch := func(ops ...any) map[string]any {
			return map[string]any{"schemas": []string{scim.PatchOpSchema}, "Operations": ops}
		}
		statuses := make([]int, 2*n)
		var wg sync.WaitGroup
		for i, m := range members {
			wg.Go(func() {
				r, err := rawDo(e.URL, s.admin, "PATCH", "/scim/v2/acme/Groups/"+id, patch(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": m}}}))
				if err == nil {
					statuses[i] = r.Status
				}
			})
			wg.Go(func() {
				r, err := rawDo(e.URL, s.admin, "PATCH", "/scim/v2/acme/Users/"+members[0], patch(map[string]any{"op": "replace", "path": "displayName", "value": fmt.Sprintf("M %d", i)}))
				if err == nil {
					statuses[n+i] = r.Status
				}
			})
		}
		wg.Wait()
		for i, st := range statuses {
			if st != 200 {
				t.Errorf("PATCH %d: status %d, want 200", i, st)
			}
		}
		got := s.call(200, "GET", "/Groups/"+id, nil)
		if list, _ := got["members"].([]any); len(list) != n {
			t.Errorf("the group has %d members, want %d", len(list), n)
		}
		// The client's own condition, stale by now, still holds it back.
		s.call(412, "PATCH", "/Groups/"+id, patch(map[string]any{"op": "remove", "path": "members"}), "If-Match: "+etag)
	})
}

func TestSCIM_Lists(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s := newSCIM(t, e)
		for i, n := range []string{"ann", "bob", "carl", "dora"} {
			s.call(201, "POST", "/Users", newSCIMUser(n, map[string]any{"title": []string{"agent", "lead", "agent", "admin"}[i],
				"emails": []any{map[string]any{"value": n + "@example.com", "type": "work", "primary": true}},
				"active": i != 3}))
		}
		names := func(out map[string]any) []string {
			var ns []string
			for _, r := range out["Resources"].([]any) {
				ns = append(ns, r.(map[string]any)["userName"].(string))
			}
			slices.Sort(ns)
			return ns
		}
		for _, c := range []struct {
			filter string
			want   []string
		}{
			{`userName eq "BOB"`, []string{"bob"}},
			{`userName ne "bob"`, []string{"ann", "carl", "dora"}},
			{`userName co "a"`, []string{"ann", "carl", "dora"}},
			{`userName sw "c"`, []string{"carl"}},
			{`userName ew "a"`, []string{"dora"}},
			{`userName gt "bob"`, []string{"carl", "dora"}},
			{`userName ge "bob"`, []string{"bob", "carl", "dora"}},
			{`userName lt "bob"`, []string{"ann"}},
			{`userName le "bob"`, []string{"ann", "bob"}},
			{`title pr and active eq true`, []string{"ann", "bob", "carl"}},
			{`title eq "agent" or title eq "admin"`, []string{"ann", "carl", "dora"}},
			{`not (title eq "agent")`, []string{"bob", "dora"}},
			{`emails[type eq "work" and value sw "c"]`, []string{"carl"}},
			{`emails.value eq "dora@example.com"`, []string{"dora"}},
			{`userName eq "ann" and title eq "lead"`, nil},
			{`meta.lastModified gt "2000-01-01T00:00:00Z"`, []string{"ann", "bob", "carl", "dora"}},
		} {
			if got := names(s.call(200, "GET", "/Users"+filterQuery(c.filter), nil)); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", c.filter, got, c.want)
			}
		}
		page := s.call(200, "GET", "/Users?startIndex=2&count=2", nil)
		if page["totalResults"] != 4.0 || page["startIndex"] != 2.0 || page["itemsPerPage"] != 2.0 {
			t.Errorf("page: %v", page)
		}
		page = s.call(200, "GET", "/Users"+filterQuery(`title eq "agent"`)+"&startIndex=2&count=5", nil)
		if page["totalResults"] != 2.0 || page["itemsPerPage"] != 1.0 {
			t.Errorf("filtered page: %v", page)
		}
		only := s.call(200, "GET", "/Users"+filterQuery(`userName eq "ann"`)+"&attributes=userName,emails.value", nil)["Resources"].([]any)[0].(map[string]any)
		if _, ok := only["title"]; ok || only["userName"] != "ann" || only["id"] == nil {
			t.Errorf("attributes=userName,emails.value: %v", only)
		}
		if em := only["emails"].([]any)[0].(map[string]any); em["type"] != nil || em["value"] != "ann@example.com" {
			t.Errorf("emails.value: %v", em)
		}
		without := s.call(200, "GET", "/Users"+filterQuery(`userName eq "ann"`)+"&excludedAttributes=emails,title", nil)["Resources"].([]any)[0].(map[string]any)
		if _, ok := without["emails"]; ok || without["userName"] != "ann" {
			t.Errorf("excludedAttributes=emails,title: %v", without)
		}
		for _, path := range []string{"/ServiceProviderConfig", "/Schemas", "/ResourceTypes", "/ResourceTypes/User", "/Schemas/" + scim.SeatkeeperUserSchema} {
			s.call(200, "GET", path, nil)
		}
		s.call(404, "GET", "/Schemas/urn:nothing", nil)
	})
}

// TestSCIM_BadInput: malformed requests are SCIM 400s with a scimType,
// never a 500, and change nothing.
func TestSCIM_BadInput(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s := newSCIM(t, e)
		id := s.call(201, "POST", "/Users", newSCIMUser("ann", nil))["id"].(string)
		gid := s.call(201, "POST", "/Groups", map[string]any{"displayName": "G"})["id"].(string)
		ops := func(o ...any) map[string]any {
			return map[string]any{"schemas": []string{scim.PatchOpSchema}, "Operations": o}
		}
		op := func(kind, path string, value any) map[string]any {
			m := map[string]any{"op": kind, "path": path}
			if value != nil {
				m["value"] = value
			}
			return m
		}
		before := e.state("acme")
		for _, c := range []struct {
			name, method, path string
			body               any
			scimType           string
		}{
			{"not_json", "POST", "/Users", `{"userName": `, scim.InvalidSyntax},
			{"array_body", "POST", "/Users", `[1,2]`, scim.InvalidSyntax},
			{"no_userName", "POST", "/Users", map[string]any{"schemas": []string{scim.UserSchema}}, scim.InvalidValue},
			{"userName_number", "POST", "/Users", map[string]any{"userName": 12}, scim.InvalidValue},
			{"active_not_bool", "POST", "/Users", map[string]any{"userName": "x", "active": "maybe"}, scim.InvalidValue},
			{"emails_not_list", "POST", "/Users", map[string]any{"userName": "x", "emails": "x@y"}, scim.InvalidValue},
			{"control_chars", "POST", "/Users", map[string]any{"userName": "x\u0001y"}, scim.InvalidValue},
			{"ext_not_object", "POST", "/Users", map[string]any{"userName": "x", scim.SeatkeeperUserSchema: "premium"}, scim.InvalidValue},
			{"bad_filter", "GET", "/Users" + filterQuery(`userName eq`), nil, scim.InvalidFilter},
			{"bad_filter_op", "GET", "/Users" + filterQuery(`userName zz "a"`), nil, scim.InvalidFilter},
			{"bad_filter_paren", "GET", "/Users" + filterQuery(`(userName eq "a"`), nil, scim.InvalidFilter},
			{"bool_gt", "GET", "/Users" + filterQuery(`active gt true`), nil, scim.InvalidFilter},
			{"bad_count", "GET", "/Users?count=ten", nil, scim.InvalidValue},
			{"patch_no_ops", "PATCH", "/Users/" + id, ops(), scim.InvalidSyntax},
			{"patch_bad_op", "PATCH", "/Users/" + id, ops(op("move", "userName", "x")), scim.InvalidSyntax},
			{"patch_bad_path", "PATCH", "/Users/" + id, ops(op("replace", "emails[type eq", "x")), scim.InvalidPath},
			{"patch_unknown_attr", "PATCH", "/Users/" + id, ops(op("replace", "shoeSize", "x")), scim.InvalidPath},
			{"patch_unknown_sub", "PATCH", "/Users/" + id, ops(op("replace", "name.nickname", "x")), scim.InvalidPath},
			{"patch_filter_on_simple", "PATCH", "/Users/" + id, ops(op("replace", `userName[value eq "x"]`, "x")), scim.InvalidPath},
			{"patch_id", "PATCH", "/Users/" + id, ops(op("replace", "id", "other")), scim.Mutability},
			{"patch_id_no_path", "PATCH", "/Users/" + id, ops(op("replace", "", map[string]any{"id": "other"})), scim.Mutability},
			{"patch_remove_no_path", "PATCH", "/Users/" + id, ops(op("remove", "", nil)), scim.NoTarget},
			{"patch_no_value", "PATCH", "/Users/" + id, ops(op("add", "title", nil)), scim.InvalidValue},
			{"patch_no_target", "PATCH", "/Users/" + id, ops(op("replace", `emails[type co "w"].value`, "x@y")), scim.NoTarget},
			{"patch_remove_userName", "PATCH", "/Users/" + id, ops(op("remove", "userName", nil)), scim.InvalidValue},
			{"patch_active_word", "PATCH", "/Users/" + id, ops(op("replace", "active", "nope")), scim.InvalidValue},
			{"patch_second_op_bad", "PATCH", "/Users/" + id, ops(op("replace", "title", "boss"), op("replace", "nope", "x")), scim.InvalidPath},
			{"group_unknown_member", "PATCH", "/Groups/" + gid, ops(op("add", "members", []any{map[string]any{"value": "ghost"}})), scim.InvalidValue},
			{"group_no_name", "POST", "/Groups", map[string]any{"members": []any{}}, scim.InvalidValue},
			{"group_members_not_list", "PUT", "/Groups/" + gid, map[string]any{"displayName": "G", "members": map[string]any{"value": id}}, scim.InvalidValue},
		} {
			t.Run(c.name, func(t *testing.T) {
				out := scimEnv{env: e.withT(t), admin: s.admin}.call(400, c.method, c.path, c.body)
				if out["scimType"] != c.scimType {
					t.Errorf("scimType %v, want %s: %v", out["scimType"], c.scimType, out["detail"])
				}
			})
		}
		e.sameState("acme", before)
		r := e.do("", "GET", "/scim/v2/acme/Users", nil)
		if r.Status != 401 || r.Header.Get("Content-Type") != scim.ContentType {
			t.Errorf("no token: %d %s", r.Status, r.Header.Get("Content-Type"))
		}
	})
}

// TestSCIM_OtherAccountIDs: ids of another account's users and groups
// name nothing here (SPEC §4), and a token of another account gets 404.
func TestSCIM_OtherAccountIDs(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s := newSCIM(t, e)
		e.newAccount("other", "contact-center")
		otherAdmin := e.token("other", "admin")
		o := scimEnv{env: e, admin: otherAdmin}
		theirUser := o.do(otherAdmin, "POST", "/scim/v2/other/Users", newSCIMUser("ann", nil))
		var u map[string]any
		theirUser.JSON(t, &u)
		theirGroup := o.do(otherAdmin, "POST", "/scim/v2/other/Groups", map[string]any{"displayName": "G"})
		var g map[string]any
		theirGroup.JSON(t, &g)
		before := e.state("other")
		s.call(404, "GET", "/Users/"+u["id"].(string), nil)
		s.call(404, "PATCH", "/Users/"+u["id"].(string), map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "active", "value": false}}})
		s.call(404, "DELETE", "/Groups/"+g["id"].(string), nil)
		s.call(400, "POST", "/Groups", map[string]any{"displayName": "H", "members": []any{map[string]any{"value": u["id"]}}})
		if out := s.call(200, "GET", "/Users"+filterQuery(`userName eq "ann"`), nil); out["totalResults"] != 0.0 {
			t.Errorf("another account's user is listed: %v", out)
		}
		r := e.do(otherAdmin, "GET", "/scim/v2/acme/Users", nil)
		var doc map[string]any
		r.JSON(t, &doc)
		if r.Status != 404 {
			t.Errorf("another account's token: status %d", r.Status)
		}
		wantSCIMError(t, doc, 404)
		e.sameState("other", before)
	})
}
