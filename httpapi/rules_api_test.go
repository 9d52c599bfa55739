package httpapi_test

// The rules of SPEC §2, through the HTTP API only. Each test names its rule.

import (
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
)

// R1: a named hard subscription never has more assigned users than its
// quantity; an unassignment frees a seat; assigning again is a 200.
func TestAPI_R1_NamedSeatCap(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.newAccount("acme", "contact-center")
		e.subscribe("acme", "premium", "named", 3)
		users := e.newUsers("acme", "u", 4)
		base := "/v1/accounts/acme/users/"

		t.Run("three_fit", func(t *testing.T) {
			e := e.withT(t)
			for _, u := range users[:3] {
				if got, want := e.assign("acme", u, "premium").Status, 201; got != want {
					t.Fatalf("assign %s: status %d, want %d", u, got, want)
				}
			}
			l := e.line("acme", "premium")
			if got, want := l.Assigned, 3; got != want {
				t.Errorf("assigned = %d, want %d", got, want)
			}
			if l.Available == nil || *l.Available != 0 {
				t.Errorf("available = %v, want 0", l.Available)
			}
		})
		t.Run("fourth_refused", func(t *testing.T) {
			e := e.withT(t)
			before := e.state("acme")
			wantProblem(t, e.assign("acme", users[3], "premium"), 409, "seat_limit_reached")
			e.sameState("acme", before)
			if u := e.user("acme", users[3]); len(u.Licenses) != 0 {
				t.Errorf("refused user holds %v", u.Licenses)
			}
		})
		t.Run("unassign_then_reassign", func(t *testing.T) {
			e := e.withT(t)
			r := e.must(204, "DELETE", base+users[0]+"/licenses/premium", nil)
			if len(r.Body) != 0 {
				t.Errorf("204 with a body: %q", r.Body)
			}
			if got, want := e.line("acme", "premium").Assigned, 2; got != want {
				t.Errorf("assigned after unassign = %d, want %d", got, want)
			}
			r = e.assign("acme", users[3], "premium")
			if got, want := r.Status, 201; got != want {
				t.Fatalf("reassign: status %d, want %d: %s", got, want, r.Body)
			}
			var u seatkeeper.User
			r.JSON(t, &u)
			if !holds(u, "premium", "manual") {
				t.Errorf("201 answer does not show the license: %+v", u.Licenses)
			}
			wantProblem(t, e.assign("acme", users[0], "premium"), 409, "seat_limit_reached")
		})
		t.Run("repeat_is_200", func(t *testing.T) {
			e := e.withT(t)
			before := e.line("acme", "premium").Assigned
			if got, want := e.assign("acme", users[3], "premium").Status, 200; got != want {
				t.Errorf("repeat PUT: status %d, want %d", got, want)
			}
			if got := e.line("acme", "premium").Assigned; got != before {
				t.Errorf("assigned %d after a repeat PUT, want %d", got, before)
			}
		})
		t.Run("unassign_not_held_is_404", func(t *testing.T) {
			e := e.withT(t)
			wantProblem(t, e.do(e.Operator, "DELETE", base+users[0]+"/licenses/premium", nil), 404, "not_found")
		})
	})
}

// R1: refusal is atomic under concurrency: 50 parallel assignments against
// 20 free seats succeed exactly 20 times.
func TestAPI_R1_Concurrency(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		const seats, tries = 20, 50
		e.newAccount("acme", "contact-center")
		e.subscribe("acme", "essentials", "named", seats)
		users := e.newUsers("acme", "c", tries)
		results := parallel(t, e, tries, func(i int) (string, string, any) {
			return "PUT", "/v1/accounts/acme/users/" + users[i] + "/licenses/essentials", nil
		})
		count := statuses(results)
		for _, r := range results {
			if r.Status == 409 {
				if p := r.Problem(t); p.Code != "seat_limit_reached" {
					t.Errorf("409 with code %q", p.Code)
				}
			}
		}
		if got, want := count[201], seats; got != want {
			t.Errorf("201 answers = %d, want %d (all: %v)", got, want, count)
		}
		if got, want := count[409], tries-seats; got != want {
			t.Errorf("409 answers = %d, want %d (all: %v)", got, want, count)
		}
		if got, want := e.line("acme", "essentials").Assigned, seats; got != want {
			t.Errorf("assigned = %d, want %d", got, want)
		}
		holders := 0
		for _, u := range users {
			if holds(e.user("acme", u), "essentials", "manual") {
				holders++
			}
		}
		if got, want := holders, seats; got != want {
			t.Errorf("users holding essentials = %d, want %d", got, want)
		}
		// Refused assignments leave no audit record behind.
		assigns := 0
		for _, r := range e.auditRecords("acme") {
			if r.Action == "license.assign" {
				assigns++
			}
		}
		if got, want := assigns, seats; got != want {
			t.Errorf("license.assign audit records = %d, want %d", got, want)
		}
	})
}

// R2: add-ons need a plan; concurrent plan membership is unlimited.
func TestAPI_R2_PlansAndMembership(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.newAccount("acme", "contact-center")
		e.subscribe("acme", "qm", "named", 5)
		e.subscribe("acme", "wfm", "named", 5)
		e.newUser("acme", "noplan")

		t.Run("addon_without_plan", func(t *testing.T) {
			e := e.withT(t)
			before := e.state("acme")
			for _, addon := range []string{"qm", "wfm"} {
				wantProblem(t, e.assign("acme", "noplan", addon), 422, "requirement_missing")
			}
			e.sameState("acme", before)
		})
		t.Run("concurrent_membership_unlimited", func(t *testing.T) {
			e := e.withT(t)
			e.subscribe("acme", "essentials", "concurrent", 2)
			for _, u := range e.newUsers("acme", "m", 7) {
				if got, want := e.assign("acme", u, "essentials").Status, 201; got != want {
					t.Fatalf("member %s: status %d, want %d", u, got, want)
				}
			}
			l := e.line("acme", "essentials")
			if l.Members == nil || *l.Members != 7 {
				t.Errorf("members = %v, want 7", l.Members)
			}
			if got, want := l.Purchased, 2; got != want {
				t.Errorf("purchased = %d, want %d", got, want)
			}
			if l.Cap == nil || *l.Cap != 2 {
				t.Errorf("cap = %v, want 2", l.Cap)
			}
		})
		t.Run("addon_with_plan", func(t *testing.T) {
			e := e.withT(t)
			if got, want := e.assign("acme", "m000", "wfm").Status, 201; got != want {
				t.Errorf("wfm on a plan member: status %d, want %d", got, want)
			}
		})
		t.Run("plan_cannot_go_under_addon", func(t *testing.T) {
			e := e.withT(t)
			before := e.state("acme")
			r := e.do(e.Operator, "DELETE", "/v1/accounts/acme/users/m000/licenses/essentials", nil)
			wantProblem(t, r, 409, "conflict")
			e.sameState("acme", before)
		})
	})
}

// R3: inactive users hold no seats and cannot be assigned licenses.
func TestAPI_R3_Deactivation(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.newAccount("acme", "contact-center")
		e.subscribe("acme", "essentials", "named", 1)
		e.newUser("acme", "ann")
		e.newUser("acme", "bob")
		e.must(201, "PUT", "/v1/accounts/acme/users/ann/licenses/essentials", nil)
		wantProblem(t, e.assign("acme", "bob", "essentials"), 409, "seat_limit_reached")

		t.Run("deactivate_frees_seat", func(t *testing.T) {
			e := e.withT(t)
			var u seatkeeper.User
			e.must(200, "PUT", "/v1/accounts/acme/users/ann", map[string]any{"active": false}).JSON(t, &u)
			if u.Active {
				t.Errorf("answer says active")
			}
			if len(u.Licenses) != 0 {
				t.Errorf("inactive user still holds %v", u.Licenses)
			}
			if got, want := e.line("acme", "essentials").Assigned, 0; got != want {
				t.Errorf("assigned = %d, want %d", got, want)
			}
			if got, want := e.assign("acme", "bob", "essentials").Status, 201; got != want {
				t.Errorf("freed seat: status %d, want %d", got, want)
			}
		})
		t.Run("assign_to_inactive", func(t *testing.T) {
			e := e.withT(t)
			e.subscribe("acme", "essentials", "named", 5)
			before := e.state("acme")
			wantProblem(t, e.assign("acme", "ann", "essentials"), 422, "user_inactive")
			e.sameState("acme", before)
		})
		t.Run("inactive_decision", func(t *testing.T) {
			e := e.withT(t)
			d := e.check(e.Operator, "acme", "ann", "feature=channel.voice")
			if d.Allowed || d.Code != "user_inactive" {
				t.Errorf("decision %+v, want user_inactive", d)
			}
		})
		t.Run("reactivate_keeps_manual_dropped", func(t *testing.T) {
			e := e.withT(t)
			u := e.user("acme", "ann")
			e.must(200, "PUT", "/v1/accounts/acme/users/ann", map[string]any{"active": true}).JSON(t, &u)
			if !u.Active || len(u.Licenses) != 0 {
				t.Errorf("reactivated: active=%v licenses=%v, want active and no manual licenses back", u.Active, u.Licenses)
			}
		})
	})
}

// R9: under concurrent Elite, QM and WFM need coverage assignments whose
// capacity is the Elite quantity plus the add-on quantity.
func TestAPI_R9_EliteCoverage(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.newAccount("cc", "contact-center")
		e.subscribe("cc", "elite", "concurrent", 25)
		users := e.newUsers("cc", "a", 101)
		for _, u := range users[:100] {
			if r := e.assign("cc", u, "elite"); r.Status != 201 {
				t.Fatalf("elite member %s: %d %s", u, r.Status, r.Body)
			}
		}
		reqd := func(t *testing.T, e *env, license string, want int) {
			t.Helper()
			l := e.line("cc", license)
			if l.RequiredAddonSeats == nil {
				t.Fatalf("%s: no required_addon_seats in %+v", license, l)
			}
			if got := *l.RequiredAddonSeats; got != want {
				t.Errorf("%s required_addon_seats = %d, want %d", license, got, want)
			}
		}
		t.Run("required_addon_seats", func(t *testing.T) {
			e := e.withT(t)
			if l := e.line("cc", "elite"); l.Members == nil || *l.Members != 100 {
				t.Errorf("elite members = %v, want 100", l.Members)
			}
			reqd(t, e, "qm", 75)
			reqd(t, e, "wfm", 75)
			if l, ok := e.summary("cc")["ai_expert_assist"]; ok && l.RequiredAddonSeats != nil {
				t.Errorf("ai_expert_assist needs no coverage (R9), summary says %d", *l.RequiredAddonSeats)
			}
		})
		t.Run("wfm_coverage_capped_at_elite_quantity", func(t *testing.T) {
			e := e.withT(t)
			for _, u := range users[:25] {
				if r := e.assign("cc", u, "wfm"); r.Status != 201 {
					t.Fatalf("wfm coverage %s: %d %s", u, r.Status, r.Body)
				}
			}
			wantProblem(t, e.assign("cc", users[25], "wfm"), 409, "seat_limit_reached")
		})
		t.Run("qm_addon_75", func(t *testing.T) {
			e := e.withT(t)
			e.subscribe("cc", "qm", "named", 75)
			reqd(t, e, "qm", 0)
			reqd(t, e, "wfm", 75)
			for _, u := range users[:100] {
				if r := e.assign("cc", u, "qm"); r.Status != 201 {
					t.Fatalf("qm coverage %s: %d %s", u, r.Status, r.Body)
				}
			}
			if got, want := e.line("cc", "qm").Assigned, 100; got != want {
				t.Errorf("qm assigned = %d, want %d", got, want)
			}
			if r := e.assign("cc", users[100], "elite"); r.Status != 201 {
				t.Fatalf("101st member: %d %s", r.Status, r.Body)
			}
			reqd(t, e, "qm", 1)
			before := e.state("cc")
			wantProblem(t, e.assign("cc", users[100], "qm"), 409, "seat_limit_reached")
			e.sameState("cc", before)
		})
	})
}

// R9: Elite's concurrent quantity covers QM for Elite users only. With 2
// concurrent Elite seats and 1 QM add-on, users on another plan share the
// one add-on seat, Elite users the rest of the 3; giving it up or being
// deactivated (R3) frees it for another.
func TestAPI_R9_CoverageIsForElite(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.newAccount("cc", "contact-center")
		e.subscribe("cc", "elite", "concurrent", 2)
		e.subscribe("cc", "premium", "named", 5)
		e.subscribe("cc", "qm", "named", 1)
		for _, u := range []string{"p0", "p1", "p2"} {
			e.newUser("cc", u)
			e.must(201, "PUT", "/v1/accounts/cc/users/"+u+"/licenses/premium", nil)
		}
		for _, u := range []string{"e0", "e1", "e2"} {
			e.newUser("cc", u)
			e.must(201, "PUT", "/v1/accounts/cc/users/"+u+"/licenses/elite", nil)
		}
		e.must(201, "PUT", "/v1/accounts/cc/users/p0/licenses/qm", nil)
		before := e.state("cc")
		p := wantProblem(t, e.assign("cc", "p1", "qm"), 409, "seat_limit_reached")
		if !strings.Contains(p.Detail, "add-on") {
			t.Errorf("detail %q does not say the add-on's seats are taken", p.Detail)
		}
		e.sameState("cc", before)
		e.must(201, "PUT", "/v1/accounts/cc/users/e0/licenses/qm", nil)
		e.must(201, "PUT", "/v1/accounts/cc/users/e1/licenses/qm", nil)
		before = e.state("cc")
		wantProblem(t, e.assign("cc", "e2", "qm"), 409, "seat_limit_reached")
		// The add-on cannot shrink below its users without Elite.
		wantProblem(t, e.do(e.Operator, "PUT", "/v1/accounts/cc/subscriptions/qm", map[string]any{"model": "named", "quantity": 0}), 409, "conflict")
		e.sameState("cc", before)

		// p0 gives up the add-on seat: p1 may have it (3 in all).
		e.must(204, "DELETE", "/v1/accounts/cc/users/p0/licenses/qm", nil)
		e.must(201, "PUT", "/v1/accounts/cc/users/p1/licenses/qm", nil)
		if got := e.line("cc", "qm").Assigned; got != 3 {
			t.Errorf("qm assigned %d, want 3", got)
		}
		// Deactivating p1 frees the add-on seat (R3): p2 takes it.
		e.must(200, "PUT", "/v1/accounts/cc/users/p1", map[string]any{"active": false})
		e.must(201, "PUT", "/v1/accounts/cc/users/p2/licenses/qm", nil)
	})
}

// R10: account-scope licenses entitle every user and are never assigned;
// the storage quota adds each plan seat's storage.
func TestAPI_R10_AccountWide(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.newAccount("cc", "contact-center")
		e.subscribe("cc", "essentials", "named", 5)
		e.subscribe("cc", "virtual_agent", "named", 1)
		e.newUser("cc", "ann")
		e.must(201, "PUT", "/v1/accounts/cc/users/ann/licenses/essentials", nil)

		t.Run("entitled_without_assignment", func(t *testing.T) {
			e := e.withT(t)
			d := e.check(e.Operator, "cc", "ann", "feature=virtual_agent")
			if !d.Allowed || d.Code != "ok" || !slices.Contains(d.Via, "virtual_agent") {
				t.Errorf("decision %+v, want ok via virtual_agent", d)
			}
		})
		t.Run("never_assigned", func(t *testing.T) {
			e := e.withT(t)
			e.subscribe("cc", "toll_free_numbers", "named", 10)
			before := e.state("cc")
			wantProblem(t, e.assign("cc", "ann", "virtual_agent"), 400, "invalid_request")
			wantProblem(t, e.assign("cc", "ann", "toll_free_numbers"), 400, "invalid_request")
			e.sameState("cc", before)
		})
		t.Run("storage_quota", func(t *testing.T) {
			e := e.withT(t)
			e.subscribe("cc", "cloud_storage_gb", "named", 100)
			l := e.line("cc", "cloud_storage_gb")
			// 100 GB bought + 5 named Essentials seats × 10 GB.
			if l.Quota == nil || *l.Quota != 150 {
				t.Errorf("quota = %v, want 150", l.Quota)
			}
		})
	})
}

// R11: assigning QM gives the default role agent; default roles cannot be
// deleted; custom roles carry their own permissions; account and service
// roles are independent.
// R11: account roles and service roles are independent. A QM admin, with
// no account role, assigns QM roles (qm.users.manage) and defines custom
// QM roles (qm.roles.manage) through an app token acting for them, but
// may not touch account roles; an account member may not touch QM roles.
func TestAPI_R11_ServiceAdminsManageServiceRoles(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.newAccount("cc", "contact-center")
		e.subscribe("cc", "essentials", "named", 5)
		e.subscribe("cc", "qm", "named", 5)
		for _, u := range []string{"qmadm", "t1", "member"} {
			e.newUser("cc", u)
			e.must(201, "PUT", "/v1/accounts/cc/users/"+u+"/licenses/essentials", nil)
			e.must(201, "PUT", "/v1/accounts/cc/users/"+u+"/licenses/qm", nil)
		}
		e.grantRole("cc", "qmadm", "qm", "admin")
		e.grantRole("cc", "member", "account", "member")
		app := e.token("cc", "app")
		qm, member := "Seatkeeper-Acting-User: qmadm", "Seatkeeper-Acting-User: member"

		e.mustAs(app, 201, "PUT", "/v1/accounts/cc/users/t1/roles/qm/evaluator", nil, qm)
		e.mustAs(app, 201, "PUT", "/v1/accounts/cc/roles/qm/reviewer", map[string]any{"permissions": []string{"qm.reports.view"}}, qm)
		e.mustAs(app, 201, "PUT", "/v1/accounts/cc/users/t1/roles/qm/reviewer", nil, qm)
		e.mustAs(app, 204, "DELETE", "/v1/accounts/cc/users/t1/roles/qm/reviewer", nil, qm)
		e.mustAs(app, 204, "DELETE", "/v1/accounts/cc/roles/qm/reviewer", nil, qm)

		before := e.state("cc")
		wantProblem(t, e.do(app, "PUT", "/v1/accounts/cc/users/t1/roles/account/admin", nil, qm), 403, "forbidden")
		wantProblem(t, e.do(app, "PUT", "/v1/accounts/cc/roles/account/helper", map[string]any{"permissions": []string{}}, qm), 403, "forbidden")
		wantProblem(t, e.do(app, "PUT", "/v1/accounts/cc/users/t1/roles/qm/admin", nil, member), 403, "forbidden")
		// Linking a role to licenses assigns them (R15): a QM admin
		// without account.licenses.assign may neither link a new role to
		// a plan nor relink an existing one, though they may redefine its
		// permissions with its links as they are.
		wantProblem(t, e.do(app, "PUT", "/v1/accounts/cc/roles/qm/sneaky", map[string]any{"permissions": []string{}, "licenses": []string{"essentials"}}, qm), 403, "forbidden")
		wantProblem(t, e.do(app, "PUT", "/v1/accounts/cc/roles/qm/evaluator", map[string]any{"permissions": []string{"qm.reports.view"}, "licenses": []string{"qm"}}, qm), 403, "forbidden")
		e.sameState("cc", before)
		e.mustAs(app, 201, "PUT", "/v1/accounts/cc/roles/qm/viewer", map[string]any{"permissions": []string{"qm.reports.view"}}, qm)
		e.mustAs(app, 200, "PUT", "/v1/accounts/cc/roles/qm/viewer", map[string]any{"permissions": []string{}, "licenses": []string{}}, qm)
		e.grantRole("cc", "member", "account", "admin")
		e.mustAs(app, 200, "PUT", "/v1/accounts/cc/roles/qm/viewer", map[string]any{"permissions": []string{}, "licenses": []string{"qm"}}, member)
	})
}

func TestAPI_R11_QMRoles(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.newAccount("cc", "contact-center")
		e.subscribe("cc", "essentials", "named", 5)
		e.subscribe("cc", "qm", "named", 5)
		e.newUser("cc", "ann")
		e.must(201, "PUT", "/v1/accounts/cc/users/ann/licenses/essentials", nil)
		roles := "/v1/accounts/cc/roles/"

		t.Run("default_role_on_assignment", func(t *testing.T) {
			e := e.withT(t)
			if u := e.user("cc", "ann"); hasRole(u, "qm", "agent", "default") {
				t.Errorf("qm:agent before any QM license: %+v", u.Roles)
			}
			var u seatkeeper.User
			e.must(201, "PUT", "/v1/accounts/cc/users/ann/licenses/qm", nil).JSON(t, &u)
			if !hasRole(u, "qm", "agent", "default") {
				t.Errorf("roles after assigning qm = %+v, want qm:agent (default)", u.Roles)
			}
			d := e.check(e.Operator, "cc", "ann", "permission=qm.evaluations.view_own")
			if !d.Allowed || !slices.Contains(d.Roles, "qm:agent") {
				t.Errorf("agent permission: %+v", d)
			}
		})
		t.Run("default_role_not_deletable", func(t *testing.T) {
			e := e.withT(t)
			before := e.state("cc")
			for _, role := range []string{"agent", "admin", "supervisor", "evaluator"} {
				wantProblem(t, e.do(e.Operator, "DELETE", roles+"qm/"+role, nil), 409, "conflict")
			}
			e.sameState("cc", before)
		})
		t.Run("custom_role", func(t *testing.T) {
			e := e.withT(t)
			body := map[string]any{"permissions": []string{"qm.reports.view", "qm.interactions.access_own"}}
			var role seatkeeper.CustomRole
			e.must(201, "PUT", roles+"qm/reviewer", body).JSON(t, &role)
			if role.Default || role.Service != "qm" || role.Name != "reviewer" || len(role.Permissions) != 2 {
				t.Errorf("created role = %+v", role)
			}
			if got, want := e.do(e.Operator, "PUT", roles+"qm/reviewer", body).Status, 200; got != want {
				t.Errorf("second PUT: status %d, want %d", got, want)
			}
			e.grantRole("cc", "ann", "qm", "reviewer")
			u := e.user("cc", "ann")
			if !hasRole(u, "qm", "reviewer", "manual") || hasRole(u, "qm", "agent", "default") {
				t.Errorf("roles = %+v, want qm:reviewer and no default agent", u.Roles)
			}
			d := e.check(e.Operator, "cc", "ann", "permission=qm.reports.view")
			if !d.Allowed || d.Code != "ok" || !slices.Contains(d.Roles, "qm:reviewer") {
				t.Errorf("qm.reports.view: %+v, want ok via qm:reviewer", d)
			}
			d = e.check(e.Operator, "cc", "ann", "permission=qm.scorecards.manage")
			if d.Allowed || d.Code != "permission_denied" {
				t.Errorf("qm.scorecards.manage: %+v, want permission_denied", d)
			}
			d = e.check(e.Operator, "cc", "ann", "permission=qm.evaluations.view_own")
			if d.Allowed {
				t.Errorf("the default agent role still grants after an explicit role: %+v", d)
			}
		})
		t.Run("held_custom_role_not_deletable", func(t *testing.T) {
			e := e.withT(t)
			wantProblem(t, e.do(e.Operator, "DELETE", roles+"qm/reviewer", nil), 409, "conflict")
			e.must(204, "DELETE", "/v1/accounts/cc/users/ann/roles/qm/reviewer", nil)
			e.must(204, "DELETE", roles+"qm/reviewer", nil)
			wantProblem(t, e.do(e.Operator, "DELETE", roles+"qm/reviewer", nil), 404, "not_found")
			if u := e.user("cc", "ann"); !hasRole(u, "qm", "agent", "default") {
				t.Errorf("default role not back after the explicit one went: %+v", u.Roles)
			}
		})
		t.Run("qm_role_cannot_grant_account_permission", func(t *testing.T) {
			e := e.withT(t)
			before := e.state("cc")
			wantProblem(t, e.do(e.Operator, "PUT", roles+"qm/sneaky", map[string]any{"permissions": []string{"account.settings.edit"}}), 400, "invalid_request")
			e.sameState("cc", before)
		})
		t.Run("account_and_service_roles_independent", func(t *testing.T) {
			e := e.withT(t)
			e.newUser("cc", "qmadmin")
			e.must(201, "PUT", "/v1/accounts/cc/users/qmadmin/licenses/essentials", nil)
			e.must(201, "PUT", "/v1/accounts/cc/users/qmadmin/licenses/qm", nil)
			e.grantRole("cc", "qmadmin", "qm", "admin")
			if d := e.check(e.Operator, "cc", "qmadmin", "permission=account.settings.edit"); d.Allowed {
				t.Errorf("a QM admin has account.settings.edit: %+v", d)
			}
			e.newUser("cc", "boss")
			e.grantRole("cc", "boss", "account", "admin")
			if d := e.check(e.Operator, "cc", "boss", "permission=account.settings.edit"); !d.Allowed {
				t.Errorf("an account admin lacks account.settings.edit: %+v", d)
			}
			if d := e.check(e.Operator, "cc", "boss", "permission=qm.roles.manage"); d.Allowed {
				t.Errorf("an account admin without QM has qm.roles.manage: %+v", d)
			}
		})
	})
}

// R13: QM settings are edited only by users whose account role grants
// account.settings.edit; QM analysis needs qm.analyze_recordings.
// SPEC §4, R13: an acting user whose roles let them manage roles may not
// give more than they hold: neither make a role with permissions they
// lack nor give one (to anyone, themselves included); what they hold they
// may give. Admin tokens may give anything. The owner's role is built in:
// redefining it is refused, so the owner always edits the settings.
func TestAPI_R13_NoEscalationThroughRoles(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.newAccount("cc", "contact-center")
		e.newUser("cc", "rm")
		e.newUser("cc", "other")
		e.must(201, "PUT", "/v1/accounts/cc/roles/account/rolemgr", map[string]any{"permissions": []string{"account.roles.manage"}})
		e.grantRole("cc", "rm", "account", "rolemgr")
		app, admin := e.token("cc", "app"), e.token("cc", "admin")
		as := "Seatkeeper-Acting-User: rm"
		before := e.state("cc")
		wantProblem(t, e.do(app, "PUT", "/v1/accounts/cc/roles/account/godmode", map[string]any{"permissions": []string{"account.roles.manage", "account.settings.edit"}}, as), 403, "forbidden")
		for _, role := range []string{"owner", "admin"} {
			for _, u := range []string{"rm", "other"} {
				wantProblem(t, e.do(app, "PUT", "/v1/accounts/cc/users/"+u+"/roles/account/"+role, nil, as), 403, "forbidden")
			}
		}
		wantProblem(t, e.do(app, "PATCH", "/v1/accounts/cc/settings", `{"qm":{"track_silence":true}}`, as), 403, "forbidden")
		e.sameState("cc", before)

		// What rm holds, rm may give, and make a role of.
		e.mustAs(app, 201, "PUT", "/v1/accounts/cc/roles/account/helper", map[string]any{"permissions": []string{"account.roles.manage"}}, as)
		e.mustAs(app, 201, "PUT", "/v1/accounts/cc/users/other/roles/account/rolemgr", nil, as)
		e.mustAs(admin, 201, "PUT", "/v1/accounts/cc/users/other/roles/account/admin", nil)

		before = e.state("cc")
		wantProblem(t, e.do(admin, "PUT", "/v1/accounts/cc/roles/account/owner", map[string]any{"permissions": []string{}}), 409, "conflict")
		e.sameState("cc", before)
	})
}

func TestAPI_R13_SettingsEdit(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.newAccount("cc", "contact-center")
		e.subscribe("cc", "essentials", "named", 5)
		e.subscribe("cc", "qm", "named", 5)
		for _, u := range []string{"boss", "owner", "qmadmin", "agent"} {
			e.newUser("cc", u)
		}
		for _, u := range []string{"qmadmin", "agent"} {
			e.must(201, "PUT", "/v1/accounts/cc/users/"+u+"/licenses/essentials", nil)
			e.must(201, "PUT", "/v1/accounts/cc/users/"+u+"/licenses/qm", nil)
		}
		e.grantRole("cc", "boss", "account", "admin")
		e.grantRole("cc", "owner", "account", "owner")
		e.grantRole("cc", "qmadmin", "qm", "admin")
		app := e.token("cc", "app")
		admin := e.token("cc", "admin")
		rdr := e.token("cc", "reader")
		settings := "/v1/accounts/cc/settings"
		acting := func(u string) string { return "Seatkeeper-Acting-User: " + u }
		current := func(e *env) seatkeeper.Settings {
			var s seatkeeper.Settings
			e.must(200, "GET", settings, nil).JSON(e.t, &s)
			return s
		}

		t.Run("analysis_disabled_by_default", func(t *testing.T) {
			e := e.withT(t)
			d := e.check(app, "cc", "agent", "feature=qm.analysis")
			if d.Allowed || d.Code != "setting_disabled" {
				t.Errorf("qm.analysis: %+v, want setting_disabled", d)
			}
			if d := e.check(app, "cc", "agent", "feature=qm.evaluations"); !d.Allowed {
				t.Errorf("qm.evaluations is not gated by the setting: %+v", d)
			}
		})
		refusals := []struct {
			name    string
			token   string
			headers []string
		}{
			{"app_acting_qm_admin", app, []string{acting("qmadmin")}},
			{"app_acting_member", app, []string{acting("agent")}},
			{"app_acting_unknown_user", app, []string{acting("ghost")}},
			{"app_without_acting_user", app, nil},
			{"reader", rdr, nil},
			{"reader_acting_account_admin", rdr, []string{acting("boss")}},
		}
		for _, c := range refusals {
			t.Run("refused_"+c.name, func(t *testing.T) {
				e := e.withT(t)
				before := e.state("cc")
				r := e.do(c.token, "PATCH", settings, `{"qm":{"analyze_recordings":true}}`, c.headers...)
				wantProblem(t, r, 403, "forbidden")
				e.sameState("cc", before)
				if current(e).QM.AnalyzeRecordings {
					t.Errorf("setting changed by a refused request")
				}
			})
		}
		t.Run("app_acting_account_admin", func(t *testing.T) {
			e := e.withT(t)
			var s seatkeeper.Settings
			e.mustAs(app, 200, "PATCH", settings, `{"qm":{"track_silence":true}}`, acting("boss")).JSON(t, &s)
			if !s.QM.TrackSilence || !current(e).QM.TrackSilence {
				t.Errorf("track_silence not set")
			}
			recs := e.auditRecords("cc")
			last := recs[len(recs)-1]
			if last.Action != "settings.patch" || last.TokenKind != "app" || last.ActingUser != "boss" {
				t.Errorf("audit record %+v, want settings.patch by app acting for boss", last)
			}
		})
		t.Run("app_acting_account_owner", func(t *testing.T) {
			e := e.withT(t)
			e.mustAs(app, 200, "PATCH", settings, `{"qm":{"recording_banner":true}}`, acting("owner"))
		})
		t.Run("app_acting_custom_account_role", func(t *testing.T) {
			e := e.withT(t)
			e.must(201, "PUT", "/v1/accounts/cc/roles/account/settings_editor", map[string]any{"permissions": []string{"account.settings.edit"}})
			e.must(201, "PUT", "/v1/accounts/cc/roles/account/viewer", map[string]any{"permissions": []string{"account.reports.view"}})
			e.newUser("cc", "editor")
			e.newUser("cc", "viewer")
			e.grantRole("cc", "editor", "account", "settings_editor")
			e.grantRole("cc", "viewer", "account", "viewer")
			e.mustAs(app, 200, "PATCH", settings, `{"qm":{"silence_threshold_seconds":20}}`, acting("editor"))
			wantProblem(t, e.do(app, "PATCH", settings, `{"qm":{"silence_threshold_seconds":30}}`, acting("viewer")), 403, "forbidden")
			if got, want := current(e).QM.SilenceThresholdSeconds, 20; got != want {
				t.Errorf("silence_threshold_seconds = %d, want %d", got, want)
			}
		})
		t.Run("admin_token_enables_analysis", func(t *testing.T) {
			e := e.withT(t)
			var s seatkeeper.Settings
			e.mustAs(admin, 200, "PATCH", settings, `{"qm":{"analyze_recordings":true}}`).JSON(t, &s)
			if !s.QM.AnalyzeRecordings || !s.QM.TrackSilence {
				t.Errorf("merge patch lost or missed a field: %+v", s.QM)
			}
			d := e.check(app, "cc", "agent", "feature=qm.analysis")
			if !d.Allowed || d.Code != "ok" {
				t.Errorf("qm.analysis after enabling: %+v, want ok", d)
			}
		})
		t.Run("reader_reads_settings", func(t *testing.T) {
			e := e.withT(t)
			var s seatkeeper.Settings
			e.mustAs(rdr, 200, "GET", settings, nil).JSON(t, &s)
			if !s.QM.AnalyzeRecordings {
				t.Errorf("reader sees %+v", s.QM)
			}
		})
	})
}

// R15: a user's seats are the union of the licenses linked to their roles.
func TestAPI_R15_RoleLinkedSeats(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.newAccount("wfo", "wfo")
		e.subscribe("wfo", "wfo_access", "named", 5)
		e.subscribe("wfo", "qm", "named", 10)
		e.newUser("wfo", "eva")

		t.Run("evaluator_and_agent", func(t *testing.T) {
			e := e.withT(t)
			e.grantRole("wfo", "eva", "wfo", "evaluator")
			e.grantRole("wfo", "eva", "wfo", "agent")
			s := e.summary("wfo")
			if got, want := s["wfo_access"].Assigned, 1; got != want {
				t.Errorf("wfo_access assigned = %d, want %d", got, want)
			}
			if got, want := s["qm"].Assigned, 1; got != want {
				t.Errorf("qm assigned = %d, want %d", got, want)
			}
			u := e.user("wfo", "eva")
			if !holds(u, "wfo_access", "role") || !holds(u, "qm", "role") {
				t.Errorf("licenses = %+v, want wfo_access and qm from roles", u.Licenses)
			}
			d := e.check(e.Operator, "wfo", "eva", "feature=evaluations")
			if !d.Allowed || !slices.Contains(d.Via, "qm") {
				t.Errorf("evaluations: %+v, want ok via qm", d)
			}
		})
		t.Run("second_agent_uses_one_qm_seat", func(t *testing.T) {
			e := e.withT(t)
			e.newUser("wfo", "al")
			e.grantRole("wfo", "al", "wfo", "agent")
			s := e.summary("wfo")
			if got, want := s["qm"].Assigned, 2; got != want {
				t.Errorf("qm assigned = %d, want %d", got, want)
			}
			if got, want := s["wfo_access"].Assigned, 1; got != want {
				t.Errorf("wfo_access assigned = %d, want %d", got, want)
			}
		})
		t.Run("role_without_seats", func(t *testing.T) {
			e := e.withT(t)
			before := e.state("wfo")
			r := e.do(e.Operator, "PUT", "/v1/accounts/wfo/users/eva/roles/wfo/administrator", nil)
			wantProblem(t, r, 409, "seat_limit_reached")
			e.sameState("wfo", before)
		})
		t.Run("role_seats_capped", func(t *testing.T) {
			e := e.withT(t)
			for _, u := range e.newUsers("wfo", "sup", 5) {
				r := e.do(e.Operator, "PUT", "/v1/accounts/wfo/users/"+u+"/roles/wfo/supervisor", nil)
				if u == "sup004" {
					wantProblem(t, r, 409, "seat_limit_reached")
				} else if r.Status != 201 {
					t.Fatalf("supervisor %s: %d %s", u, r.Status, r.Body)
				}
			}
			if got, want := e.line("wfo", "wfo_access").Assigned, 5; got != want {
				t.Errorf("wfo_access assigned = %d, want %d", got, want)
			}
		})
		t.Run("relink_without_seats", func(t *testing.T) {
			e := e.withT(t)
			before := e.state("wfo")
			// eva and al hold agent: relinking it to a license with no
			// subscription would need two seats that do not exist.
			r := e.do(e.Operator, "PUT", "/v1/accounts/wfo/roles/wfo/agent", map[string]any{"permissions": []string{"wfo.contacts.view"}, "licenses": []string{"usage"}})
			wantProblem(t, r, 409, "seat_limit_reached")
			e.sameState("wfo", before)
		})
		// R3 with R15: deactivation frees role seats; reactivation restores them.
		t.Run("deactivate_and_reactivate", func(t *testing.T) {
			e := e.withT(t)
			e.must(204, "DELETE", "/v1/accounts/wfo/users/sup000/roles/wfo/supervisor", nil)
			e.must(200, "PUT", "/v1/accounts/wfo/users/eva", map[string]any{"active": false})
			s := e.summary("wfo")
			if s["wfo_access"].Assigned != 3 || s["qm"].Assigned != 1 {
				t.Errorf("after deactivation wfo_access=%d qm=%d, want 3 and 1", s["wfo_access"].Assigned, s["qm"].Assigned)
			}
			e.must(200, "PUT", "/v1/accounts/wfo/users/eva", map[string]any{"active": true})
			s = e.summary("wfo")
			if s["wfo_access"].Assigned != 4 || s["qm"].Assigned != 2 {
				t.Errorf("after reactivation wfo_access=%d qm=%d, want 4 and 2", s["wfo_access"].Assigned, s["qm"].Assigned)
			}
			if u := e.user("wfo", "eva"); !hasRole(u, "wfo", "evaluator", "manual") || !hasRole(u, "wfo", "agent", "manual") {
				t.Errorf("roles after reactivation = %+v", u.Roles)
			}
		})
	})
}

// R16: catalog sale rules and the Insights role configuration.
// R2, R15, R16: a seat a role gives is an assignment, checked as a direct
// one is: a role linked to an add-on is refused to a user without a plan
// (requirement_missing), one linked to monitoring to a user with neither
// cr nor wfm, and ones linked to a retired or not-for-sale license with
// those codes; each refusal changes nothing. With what it requires, the
// role is given and its license entitles.
func TestAPI_R15_RoleSeatsAreAssignments(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.newAccount("cc", "contact-center")
		e.subscribe("cc", "essentials", "named", 5)
		e.subscribe("cc", "ai_expert_assist", "named", 5)
		e.must(201, "PUT", "/v1/accounts/cc/roles/account/aiuser", map[string]any{"permissions": []string{}, "licenses": []string{"ai_expert_assist"}})
		e.newUser("cc", "noplan")
		before := e.state("cc")
		wantProblem(t, e.do(e.Operator, "PUT", "/v1/accounts/cc/users/noplan/roles/account/aiuser", nil), 422, "requirement_missing")
		e.sameState("cc", before)
		e.must(201, "PUT", "/v1/accounts/cc/users/noplan/licenses/essentials", nil)
		e.must(201, "PUT", "/v1/accounts/cc/users/noplan/roles/account/aiuser", nil)
		if d := e.check(e.Operator, "cc", "noplan", "feature=ai_expert_assist"); !d.Allowed {
			t.Errorf("with a plan, the role's add-on: %+v, want allowed", d)
		}
		// A role linked later to the add-on is refused while a holder lacks a plan.
		e.newUser("cc", "planless")
		e.must(201, "PUT", "/v1/accounts/cc/roles/account/later", map[string]any{"permissions": []string{}})
		e.grantRole("cc", "planless", "account", "later")
		before = e.state("cc")
		p := wantProblem(t, e.do(e.Operator, "PUT", "/v1/accounts/cc/roles/account/later", map[string]any{"permissions": []string{}, "licenses": []string{"ai_expert_assist"}}), 422, "requirement_missing")
		if !strings.Contains(p.Detail, "planless") {
			t.Errorf("detail %q does not name the holder", p.Detail)
		}
		e.sameState("cc", before)

		// Nor may a role be unlinked from what a holder's other licenses
		// require (R2), as unassigning the role may not: the plan under
		// noplan's add-on came from a role.
		e.must(201, "PUT", "/v1/accounts/cc/roles/account/planrole", map[string]any{"permissions": []string{}, "licenses": []string{"essentials"}})
		e.newUser("cc", "viarole")
		e.grantRole("cc", "viarole", "account", "planrole")
		e.must(201, "PUT", "/v1/accounts/cc/users/viarole/licenses/ai_expert_assist", nil)
		before = e.state("cc")
		wantProblem(t, e.do(e.Operator, "DELETE", "/v1/accounts/cc/users/viarole/roles/account/planrole", nil), 409, "conflict")
		p = wantProblem(t, e.do(e.Operator, "PUT", "/v1/accounts/cc/roles/account/planrole", map[string]any{"permissions": []string{}, "licenses": []string{}}), 409, "conflict")
		if !strings.Contains(p.Detail, "viarole") || !strings.Contains(p.Detail, "ai_expert_assist") {
			t.Errorf("detail %q does not name the holder and the add-on", p.Detail)
		}
		e.sameState("cc", before)

		e.newAccount("wfo", "wfo")
		e.subscribe("wfo", "monitoring", "named", 5)
		// R16: desktop_analytics requires one of cr, qm, wfm; the agent
		// role's qm is the one a holder has.
		e.subscribe("wfo", "qm", "named", 5)
		e.subscribe("wfo", "desktop_analytics", "named", 5)
		e.newUser("wfo", "da")
		e.grantRole("wfo", "da", "wfo", "agent")
		e.must(201, "PUT", "/v1/accounts/wfo/users/da/licenses/desktop_analytics", nil)
		before = e.state("wfo")
		wantProblem(t, e.do(e.Operator, "PUT", "/v1/accounts/wfo/roles/wfo/agent", map[string]any{"permissions": []string{}, "licenses": []string{}}), 409, "conflict")
		e.sameState("wfo", before)
		e.newUser("wfo", "o1")
		for _, c := range []struct{ role, license, code string }{
			{"monrole", "monitoring", "requirement_missing"},
			{"dmrole", "data_management", "license_retired"},
			{"pcrole", "performance_coaching", "license_not_for_sale"},
		} {
			e.must(201, "PUT", "/v1/accounts/wfo/roles/wfo/"+c.role, map[string]any{"permissions": []string{}, "licenses": []string{c.license}})
			before := e.state("wfo")
			r := e.do(e.Operator, "PUT", "/v1/accounts/wfo/users/o1/roles/wfo/"+c.role, nil)
			wantProblem(t, r, 422, c.code)
			e.sameState("wfo", before)
		}

		// Insights reader and author exclude each other however held.
		e.subscribe("wfo", "insights_reader", "named", 5)
		e.subscribe("wfo", "insights_author", "named", 5)
		e.must(201, "PUT", "/v1/accounts/wfo/roles/wfo/bireader", map[string]any{"permissions": []string{}, "licenses": []string{"insights_reader"}})
		e.must(201, "PUT", "/v1/accounts/wfo/roles/wfo/biauthor", map[string]any{"permissions": []string{}, "licenses": []string{"insights_author"}})
		e.newUser("wfo", "r3")
		e.grantRole("wfo", "r3", "wfo", "bireader")
		before = e.state("wfo")
		wantProblem(t, e.do(e.Operator, "PUT", "/v1/accounts/wfo/users/r3/roles/wfo/biauthor", nil), 409, "conflict")
		wantProblem(t, e.do(e.Operator, "PUT", "/v1/accounts/wfo/users/r3/licenses/insights_author", nil), 409, "conflict")
		e.sameState("wfo", before)
	})
}

func TestAPI_R16_CatalogRules(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.newAccount("wfo", "wfo")
		sub := func(e *env, license string, qty int) resp {
			return e.do(e.Operator, "PUT", "/v1/accounts/wfo/subscriptions/"+license, map[string]any{"model": "named", "quantity": qty})
		}
		for _, c := range []struct {
			name    string
			license string
			qty     int
			status  int
			code    string
		}{
			{"wfo_access_over_max", "wfo_access", 6, 409, "max_per_account_reached"},
			{"performance_coaching_not_for_sale", "performance_coaching", 1, 422, "license_not_for_sale"},
			{"data_management_retired", "data_management", 1, 422, "license_retired"},
			{"unknown_license", "nope", 1, 404, "not_found"},
		} {
			t.Run(c.name, func(t *testing.T) {
				e := e.withT(t)
				before := e.state("wfo")
				wantProblem(t, sub(e, c.license, c.qty), c.status, c.code)
				e.sameState("wfo", before)
			})
		}
		t.Run("wfo_access_max", func(t *testing.T) {
			e := e.withT(t)
			if got, want := sub(e, "wfo_access", 5).Status, 201; got != want {
				t.Errorf("wfo_access 5: status %d, want %d", got, want)
			}
			var body struct {
				Items []seatkeeper.Subscription `json:"items"`
			}
			e.must(200, "GET", "/v1/accounts/wfo/subscriptions", nil).JSON(t, &body)
			if len(body.Items) != 1 || body.Items[0].License != "wfo_access" || body.Items[0].Quantity != 5 {
				t.Errorf("subscriptions = %+v", body.Items)
			}
		})
		// With a commitment, wfo_access has no cap of its own: the sixth
		// seat is refused by the per-account maximum, and says so.
		t.Run("wfo_access_max_under_commit", func(t *testing.T) {
			e := e.withT(t)
			e.newAccount("wfo2", "wfo")
			e.must(201, "PUT", "/v1/accounts/wfo2/subscriptions/wfo_access", map[string]any{"model": "named", "quantity": 3, "enforcement": "commit"})
			for i, u := range e.newUsers("wfo2", "w", 6) {
				if i < 5 {
					e.must(201, "PUT", "/v1/accounts/wfo2/users/"+u+"/licenses/wfo_access", nil)
					continue
				}
				before := e.state("wfo2")
				p := wantProblem(t, e.assign("wfo2", u, "wfo_access"), 409, "max_per_account_reached")
				wantProblem(t, e.do(e.Operator, "PUT", "/v1/accounts/wfo2/users/"+u+"/roles/wfo/evaluator", nil), 409, "max_per_account_reached")
				if !strings.Contains(p.Detail, "at most 5") {
					t.Errorf("detail %q does not say the maximum", p.Detail)
				}
				e.sameState("wfo2", before)
			}
		})
		// R3: a user deactivated while a role gave them qm keeps the role;
		// with qm's subscription deleted since, reactivating them is
		// refused, and says why.
		t.Run("reactivate_without_subscription", func(t *testing.T) {
			e := e.withT(t)
			e.newAccount("wfo3", "wfo")
			e.subscribe("wfo3", "qm", "named", 2)
			e.newUser("wfo3", "ag")
			e.grantRole("wfo3", "ag", "wfo", "agent")
			e.must(200, "PUT", "/v1/accounts/wfo3/users/ag", map[string]any{"active": false})
			e.must(204, "DELETE", "/v1/accounts/wfo3/subscriptions/qm", nil)
			before := e.state("wfo3")
			p := wantProblem(t, e.do(e.Operator, "PUT", "/v1/accounts/wfo3/users/ag", map[string]any{"active": true}), 409, "seat_limit_reached")
			if !strings.Contains(p.Detail, "no subscription to qm") {
				t.Errorf("detail %q does not say qm is not subscribed", p.Detail)
			}
			e.sameState("wfo3", before)
		})
		t.Run("delete_subscription", func(t *testing.T) {
			e := e.withT(t)
			e.subscribe("wfo", "bot_analytics", "named", 2)
			e.must(204, "DELETE", "/v1/accounts/wfo/subscriptions/bot_analytics", nil)
			var body struct {
				Items []seatkeeper.Subscription `json:"items"`
			}
			e.must(200, "GET", "/v1/accounts/wfo/subscriptions", nil).JSON(t, &body)
			for _, s := range body.Items {
				if s.License == "bot_analytics" {
					t.Errorf("deleted subscription still listed: %+v", s)
				}
			}
			wantProblem(t, e.do(e.Operator, "DELETE", "/v1/accounts/wfo/subscriptions/bot_analytics", nil), 404, "not_found")
		})
		t.Run("assignments_refused", func(t *testing.T) {
			e := e.withT(t)
			e.newUser("wfo", "ann")
			e.subscribe("wfo", "desktop_analytics", "named", 5)
			before := e.state("wfo")
			wantProblem(t, e.assign("wfo", "ann", "performance_coaching"), 422, "license_not_for_sale")
			wantProblem(t, e.assign("wfo", "ann", "data_management"), 422, "license_retired")
			wantProblem(t, e.assign("wfo", "ann", "desktop_analytics"), 422, "requirement_missing")
			e.sameState("wfo", before)
		})
		type rolesBody struct {
			Items    []seatkeeper.CustomRole `json:"items"`
			Valid    *bool                   `json:"valid"`
			Problems []string                `json:"problems"`
		}
		t.Run("insights_unlinked_invalid", func(t *testing.T) {
			e := e.withT(t)
			var rb rolesBody
			e.must(200, "GET", "/v1/accounts/wfo/roles", nil).JSON(t, &rb)
			if rb.Valid == nil || !*rb.Valid || len(rb.Problems) != 0 {
				t.Errorf("before buying Insights: valid=%v problems=%v, want valid", rb.Valid, rb.Problems)
			}
			e.subscribe("wfo", "insights_reader", "named", 3)
			rb = rolesBody{}
			e.must(200, "GET", "/v1/accounts/wfo/roles", nil).JSON(t, &rb)
			if rb.Valid == nil || *rb.Valid {
				t.Errorf("valid = %v, want false", rb.Valid)
			}
			if len(rb.Problems) != 1 || !strings.Contains(rb.Problems[0], "insights_reader") {
				t.Errorf("problems = %q, want one naming insights_reader", rb.Problems)
			}
		})
		t.Run("insights_both_in_one_role", func(t *testing.T) {
			e := e.withT(t)
			before := e.state("wfo")
			r := e.do(e.Operator, "PUT", "/v1/accounts/wfo/roles/wfo/analyst", map[string]any{"licenses": []string{"insights_reader", "insights_author"}})
			if p := wantProblem(t, r, 400, "invalid_request"); !hasField(p, "licenses") {
				t.Errorf("errors %+v do not name licenses", p.Errors)
			}
			e.sameState("wfo", before)
		})
		t.Run("insights_linked_valid", func(t *testing.T) {
			e := e.withT(t)
			e.must(201, "PUT", "/v1/accounts/wfo/roles/wfo/analyst", map[string]any{"permissions": []string{"wfo.reports.view"}, "licenses": []string{"insights_reader"}})
			var rb rolesBody
			e.must(200, "GET", "/v1/accounts/wfo/roles", nil).JSON(t, &rb)
			if rb.Valid == nil || !*rb.Valid || len(rb.Problems) != 0 {
				t.Errorf("valid=%v problems=%q, want valid", rb.Valid, rb.Problems)
			}
			found := slices.ContainsFunc(rb.Items, func(r seatkeeper.CustomRole) bool {
				return r.Service == "wfo" && r.Name == "analyst" && !r.Default && slices.Equal(r.Licenses, []string{"insights_reader"})
			})
			if !found {
				t.Errorf("roles %+v lack wfo:analyst", rb.Items)
			}
		})
	})
}

// §4.3: a decision is never an HTTP error, not even for an unknown user.
func TestAPI_DecisionUserNotFound(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.newAccount("cc", "contact-center")
		rdr := e.token("cc", "reader")
		t.Run("check_feature", func(t *testing.T) {
			d := e.withT(t).check(rdr, "cc", "ghost", "feature=channel.voice")
			if d.Allowed || d.Code != "user_not_found" || d.Feature != "channel.voice" || d.Via == nil {
				t.Errorf("decision %+v, want user_not_found for channel.voice with via []", d)
			}
		})
		t.Run("check_permission", func(t *testing.T) {
			d := e.withT(t).check(rdr, "cc", "ghost", "permission=qm.reports.view")
			if d.Allowed || d.Code != "user_not_found" {
				t.Errorf("decision %+v, want user_not_found", d)
			}
		})
		t.Run("check_without_question", func(t *testing.T) {
			wantProblem(t, e.withT(t).do(rdr, "GET", "/v1/accounts/cc/users/ghost/check", nil), 400, "invalid_request")
		})
		t.Run("access_unknown_user", func(t *testing.T) {
			wantProblem(t, e.withT(t).do(rdr, "GET", "/v1/accounts/cc/users/ghost/access", nil), 404, "not_found")
		})
		t.Run("access_known_user", func(t *testing.T) {
			e := e.withT(t)
			e.subscribe("cc", "premium", "named", 1)
			e.newUser("cc", "ann")
			e.must(201, "PUT", "/v1/accounts/cc/users/ann/licenses/premium", nil)
			var a struct {
				Active   bool     `json:"active"`
				Licenses []string `json:"licenses"`
				Features []struct {
					Feature string `json:"feature"`
				} `json:"features"`
			}
			e.mustAs(rdr, 200, "GET", "/v1/accounts/cc/users/ann/access", nil).JSON(t, &a)
			if !a.Active || !slices.Contains(a.Licenses, "premium") {
				t.Errorf("access %+v", a)
			}
			if !slices.ContainsFunc(a.Features, func(f struct {
				Feature string `json:"feature"`
			}) bool {
				return f.Feature == "channel.email"
			}) {
				t.Errorf("premium access lacks channel.email: %+v", a.Features)
			}
		})
	})
}

// §4.7: the audit trail records every change, by whom, and exports CSV.
func TestAPI_Audit(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.newAccount("cc", "contact-center")
		e.subscribe("cc", "essentials", "named", 1)
		e.newUser("cc", "ann")
		e.newUser("cc", "bob")
		e.must(201, "PUT", "/v1/accounts/cc/users/ann/licenses/essentials", nil)
		wantProblem(t, e.assign("cc", "bob", "essentials"), 409, "seat_limit_reached") // refused: no record
		e.must(204, "DELETE", "/v1/accounts/cc/users/ann/licenses/essentials", nil)
		e.must(201, "PUT", "/v1/accounts/cc/roles/qm/reviewer", map[string]any{"permissions": []string{"qm.reports.view"}})
		e.grantRole("cc", "ann", "account", "admin")
		tokID, _ := e.newToken("cc", "reader")
		e.must(204, "DELETE", "/v1/accounts/cc/tokens/"+tokID, nil)
		e.must(200, "PATCH", "/v1/accounts/cc/settings", `{"qm":{"track_crosstalk":true}}`)
		e.must(204, "DELETE", "/v1/accounts/cc/users/bob", nil)
		admin := e.token("cc", "admin")
		app := e.token("cc", "app")
		want := []string{"account.put", "subscription.put", "user.put", "user.put", "license.assign", "license.unassign",
			"role.put", "role.assign", "token.create", "token.revoke", "settings.patch", "user.delete", "token.create", "token.create"}

		t.Run("json", func(t *testing.T) {
			e := e.withT(t)
			recs := e.auditRecords("cc")
			var got []string
			for _, r := range recs {
				got = append(got, r.Action)
				if r.TokenKind != "operator" || r.TokenID == "" || r.At.IsZero() {
					t.Errorf("record %+v: want operator token id and time", r)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("actions\n got %q\nwant %q", got, want)
			}
			if len(recs) > 4 && recs[4].Target != "ann" {
				t.Errorf("license.assign target %q, want ann", recs[4].Target)
			}
		})
		t.Run("admin_and_app_acting", func(t *testing.T) {
			e := e.withT(t)
			var body struct {
				Items []seatkeeper.AuditRecord `json:"items"`
			}
			e.mustAs(admin, 200, "GET", "/v1/accounts/cc/audit", nil).JSON(t, &body)
			if got, want := len(body.Items), len(want); got != want {
				t.Errorf("admin sees %d records, want %d", got, want)
			}
			body.Items = nil
			e.mustAs(app, 200, "GET", "/v1/accounts/cc/audit", nil, "Seatkeeper-Acting-User: ann").JSON(t, &body)
			if got, want := len(body.Items), len(want); got != want {
				t.Errorf("app acting for an account admin sees %d records, want %d", got, want)
			}
			// The audit trail is a report: any token of the account reads it (SPEC §4).
			body.Items = nil
			e.mustAs(app, 200, "GET", "/v1/accounts/cc/audit", nil).JSON(t, &body)
			if got, want := len(body.Items), len(want); got != want {
				t.Errorf("app token alone sees %d records, want %d", got, want)
			}
		})
		t.Run("range", func(t *testing.T) {
			e := e.withT(t)
			future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			var body struct {
				Items []seatkeeper.AuditRecord `json:"items"`
			}
			e.must(200, "GET", "/v1/accounts/cc/audit?from="+future+"&to="+time.Now().Add(2*time.Hour).UTC().Format(time.RFC3339), nil).JSON(t, &body)
			if body.Items == nil || len(body.Items) != 0 {
				t.Errorf("future range: %+v, want an empty list", body.Items)
			}
			wantProblem(t, e.do(e.Operator, "GET", "/v1/accounts/cc/audit?from=yesterday", nil), 400, "invalid_request")
			// Dates, as the reports take them: to names its last day,
			// included. Before, a date was refused.
			body.Items = nil
			today := time.Now().UTC().Format("2006-01-02")
			e.must(200, "GET", "/v1/accounts/cc/audit?from="+today+"&to="+today, nil).JSON(t, &body)
			if len(body.Items) == 0 {
				t.Errorf("today by dates: no records")
			}
			wantProblem(t, e.do(e.Operator, "GET", "/v1/accounts/cc/audit?from="+future+"&to=2020-01-01T00:00:00Z", nil), 400, "invalid_request")
		})
		for _, c := range []struct {
			name, query string
			headers     []string
		}{
			{"csv_format_param", "?format=csv", nil},
			{"csv_accept_header", "", []string{"Accept: text/csv"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				e := e.withT(t)
				r := e.do(e.Operator, "GET", "/v1/accounts/cc/audit"+c.query, nil, c.headers...)
				if r.Status != 200 {
					t.Fatalf("status %d: %s", r.Status, r.Body)
				}
				if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
					t.Errorf("content type %q, want text/csv", ct)
				}
				rows, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
				if err != nil {
					t.Fatalf("not CSV: %v", err)
				}
				header := []string{"id", "at", "token_id", "token_kind", "acting_user", "action", "target", "detail"}
				if len(rows) == 0 || !slices.Equal(rows[0], header) {
					t.Fatalf("header %v, want %v", rows[:min(1, len(rows))], header)
				}
				if got, want := len(rows)-1, len(want); got != want {
					t.Errorf("%d data rows, want %d", got, want)
				}
				if got, want := rows[1][5], "account.put"; got != want {
					t.Errorf("first action %q, want %q", got, want)
				}
				if got, want := rows[len(rows)-1][5], "token.create"; got != want {
					t.Errorf("last action %q, want %q", got, want)
				}
				for i, row := range rows[1:] {
					if _, err := time.Parse(time.RFC3339Nano, row[1]); err != nil {
						t.Errorf("row %d: at %q: %v", i+1, row[1], err)
					}
				}
			})
		}
	})
}

// parallel sends the requests at once and returns the answers in order.
func parallel(t *testing.T, e *env, n int, req func(i int) (method, path string, body any)) []resp {
	t.Helper()
	var wg sync.WaitGroup
	out := make([]resp, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		method, path, body := req(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i], errs[i] = rawDo(e.URL, e.Operator, method, path, body)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	return out
}

func statuses(rs []resp) map[int]int {
	out := map[int]int{}
	for _, r := range rs {
		out[r.Status]++
	}
	return out
}

// R15 with R1: seats taken through roles are capped atomically too.
func TestAPI_R15_RoleSeatsConcurrency(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.newAccount("wfo", "wfo")
		e.subscribe("wfo", "wfo_access", "named", 5)
		users := e.newUsers("wfo", "s", 20)
		rs := parallel(t, e, len(users), func(i int) (string, string, any) {
			return "PUT", "/v1/accounts/wfo/users/" + users[i] + "/roles/wfo/supervisor", nil
		})
		got := statuses(rs)
		if got[201] != 5 || got[409] != 15 {
			t.Errorf("statuses %v, want 5 × 201 and 15 × 409", got)
		}
		for _, r := range rs {
			if r.Status == 409 {
				if p := r.Problem(t); p.Code != "seat_limit_reached" {
					t.Errorf("409 with code %q", p.Code)
				}
			}
		}
		if got, want := e.line("wfo", "wfo_access").Assigned, 5; got != want {
			t.Errorf("wfo_access assigned = %d, want %d", got, want)
		}
		holders := 0
		for _, u := range users {
			if hasRole(e.user("wfo", u), "wfo", "supervisor", "manual") {
				holders++
			}
		}
		if got, want := holders, 5; got != want {
			t.Errorf("supervisors = %d, want %d", got, want)
		}
	})
}

// Concurrent upserts of one resource never answer 500 and create it once.
func TestAPI_ConcurrentUpserts(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		t.Run("same_account", func(t *testing.T) {
			rs := parallel(t, e, 10, func(int) (string, string, any) {
				return "PUT", "/v1/accounts/race", map[string]string{"name": "Race", "region": "eu"}
			})
			if got := statuses(rs); got[201] != 1 || got[200] != 9 {
				t.Errorf("statuses %v, want one 201 and nine 200", got)
			}
		})
		t.Run("same_user", func(t *testing.T) {
			rs := parallel(t, e, 10, func(int) (string, string, any) {
				return "PUT", "/v1/accounts/race/users/ann", map[string]string{"display_name": "Ann"}
			})
			if got := statuses(rs); got[201] != 1 || got[200] != 9 {
				t.Errorf("statuses %v, want one 201 and nine 200", got)
			}
		})
		t.Run("same_user_name", func(t *testing.T) {
			rs := parallel(t, e, 10, func(i int) (string, string, any) {
				return "PUT", fmt.Sprintf("/v1/accounts/race/users/dup%d", i), map[string]string{"user_name": "duplicate"}
			})
			if got := statuses(rs); got[201] != 1 || got[409] != 9 {
				t.Errorf("statuses %v, want one 201 and nine 409", got)
			}
			for _, r := range rs {
				if r.Status == 409 {
					if p := r.Problem(t); p.Code != "conflict" {
						t.Errorf("409 with code %q", p.Code)
					}
				}
			}
			var page struct {
				Items []seatkeeper.User `json:"items"`
			}
			e.withT(t).must(200, "GET", "/v1/accounts/race/users", nil).JSON(t, &page)
			if got, want := len(page.Items), 2; got != want { // ann and one dup
				t.Errorf("%d users, want %d", got, want)
			}
		})
	})
}

// SPEC §1 (a subscription's start and end): a subscription grants
// features only within its term, and the decisions follow the clock with
// no write to tell them. Before its start users may be given seats, ready;
// after its end no new seat is given, users keep theirs but use nothing,
// account-wide licenses entitle no one (R10) and a pool admits no one (R4).
func TestAPI_SubscriptionTerm(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		clock := e.useClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		e.newAccount("cc", "contact-center")
		e.must(201, "PUT", "/v1/accounts/cc/subscriptions/premium", map[string]any{"model": "named", "quantity": 5,
			"starts_at": "2026-12-01T00:00:00Z", "ends_at": "2026-12-10T00:00:00Z"})
		e.must(201, "PUT", "/v1/accounts/cc/subscriptions/virtual_agent", map[string]any{"model": "named", "quantity": 1,
			"starts_at": "2026-12-01T00:00:00Z", "ends_at": "2026-12-10T00:00:00Z"})
		e.must(201, "PUT", "/v1/accounts/cc/subscriptions/ai_expert_assist", map[string]any{"model": "named", "quantity": 5, "starts_at": "2026-12-05T00:00:00Z"})
		for _, u := range []string{"ann", "bob", "cy"} {
			e.newUser("cc", u)
		}
		e.must(201, "PUT", "/v1/accounts/cc/users/ann/licenses/premium", nil)
		// Ready before the start: the seat is given, its features not yet.
		e.must(201, "PUT", "/v1/accounts/cc/users/ann/licenses/ai_expert_assist", nil)
		want := func(when, feature string, allowed bool) {
			t.Helper()
			if d := e.check(e.Operator, "cc", "ann", "feature="+feature); d.Allowed != allowed {
				t.Errorf("%s: %s %+v, want allowed %v", when, feature, d, allowed)
			}
		}
		want("December 1", "channel.email", true)
		want("December 1", "virtual_agent", true)
		want("December 1", "ai_expert_assist", false)
		clock.Set(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
		want("December 5", "ai_expert_assist", true)

		clock.Set(time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC))
		want("December 10", "channel.email", false)
		want("December 10", "virtual_agent", false)
		want("December 10", "ai_expert_assist", false) // no plan in force (R2)
		before := e.state("cc")
		p := wantProblem(t, e.assign("cc", "bob", "premium"), 409, "conflict")
		if !strings.Contains(p.Detail, "ended") {
			t.Errorf("detail %q does not say the term ended", p.Detail)
		}
		e.sameState("cc", before)
		if got := e.line("cc", "premium").Assigned; got != 1 {
			t.Errorf("premium assigned %d after the end, want ann's 1", got)
		}
		// Extended, it grants again.
		e.must(200, "PUT", "/v1/accounts/cc/subscriptions/premium", map[string]any{"model": "named", "quantity": 5, "ends_at": "2027-01-01T00:00:00Z"})
		want("extended", "channel.email", true)

		// A pool admits within its term only.
		e.must(201, "PUT", "/v1/accounts/cc/subscriptions/essentials", map[string]any{"model": "concurrent", "quantity": 5, "ends_at": "2026-12-11T00:00:00Z"})
		e.must(201, "PUT", "/v1/accounts/cc/users/cy/licenses/essentials", nil)
		e.startSession("cc", "cy", "api")
		clock.Set(time.Date(2026, 12, 11, 0, 0, 0, 0, time.UTC))
		wantProblem(t, e.signIn(e.Operator, "cc", "cy", "work_session"), 409, "conflict")
	})
}
