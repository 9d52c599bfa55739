package entitlement_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/entitlement"
)

// wfoLicenses are the license types of SPEC §3.2.
var wfoLicenses = []string{
	"cr", "qm", "analytics", "analytics_lite", "desktop_analytics", "monitoring", "transcription",
	"interaction_summary", "data_management", "wfo_access", "administration", "usage",
	"performance_coaching", "bot_analytics", "insights_reader", "insights_author", "wfm",
}

// wfoTable is the feature table of SPEC §3.2 (with its † readings), written
// from the SPEC, not from the preset: feature → licenses that grant it.
var wfoTable = map[string][]string{
	"record_audio":           {"cr", "qm"},
	"import_digital":         {"cr", "qm"},
	"screen_recording":       {"qm"},
	"evaluations":            {"qm"},
	"reporting":              {"cr", "qm", "analytics"},
	"live_screen_monitoring": {"qm", "monitoring"},
	"desktop_monitoring":     {"desktop_analytics", "monitoring"},
	"contact_queue":          {"qm"},
	"recording_pause_resume": {"qm"},
	"custom_metadata":        {"qm"},
	"evaluation_forms":       {"qm"},
	"standard_evaluations":   {"qm"},
	"post_call_surveys":      {"qm"},
	"export_contacts":        {"cr", "qm"},
	"qm_views":               {"cr", "qm"},
	"qm_workflows":           {"cr", "qm"},
	"contact_tagging":        {"cr", "qm"},
	"agent_explorer":         {"analytics", "desktop_analytics"},
	"desktop_activity":       {"analytics", "desktop_analytics"},
	"application_usage":      {"analytics", "desktop_analytics"},
	"desktop_manager":        {"analytics", "desktop_analytics"},
	"transcription":          {"analytics", "analytics_lite", "transcription"},
	"sentiment_analysis":     {"analytics"},
	"interaction_summary":    {"analytics_lite", "interaction_summary"},
	"insights.view":          {"insights_reader", "insights_author"},
	"insights.author":        {"insights_author"},
}

// wfoTableFeatures returns the table's features in catalog order.
func wfoTableFeatures(t testing.TB, cat *catalog.Catalog) []string {
	for f := range wfoTable {
		mustFeature(t, cat, f)
	}
	var out []string
	for _, f := range cat.Features {
		if _, ok := wfoTable[f.Key]; ok {
			out = append(out, f.Key)
		}
	}
	return out
}

// wfoExpected is the table features a holder of exactly these licenses
// (all subscribed, requirements met) gets: a row is granted when it lists
// one of them; qm includes cr (R16).
func wfoExpected(t testing.TB, cat *catalog.Catalog, held ...string) []string {
	if slices.Contains(held, "qm") && !slices.Contains(held, "cr") {
		held = append(slices.Clone(held), "cr")
	}
	var out []string
	for _, f := range wfoTableFeatures(t, cat) {
		for _, l := range wfoTable[f] {
			if slices.Contains(held, l) {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// wfoAllowedTable is the table features Check allows.
func wfoAllowedTable(t testing.TB, e *entitlement.Entitlements, cat *catalog.Catalog) []string {
	var out []string
	for _, f := range wfoTableFeatures(t, cat) {
		if e.Check(f, false).Allowed {
			out = append(out, f)
		}
	}
	return out
}

// wfoAccountAll subscribes every license type of §3.2 (named, as many as
// the catalog allows), retired and not-for-sale ones included as if the
// account had them from before.
func wfoAccountAll(t testing.TB, cat *catalog.Catalog, roles ...entitlement.RoleDef) *entitlement.Account {
	var ss []entitlement.Subscription
	for _, l := range wfoLicenses {
		mustLicense(t, cat, l)
		ss = append(ss, named(l, 5))
	}
	return newAccount(t, cat, entitlement.AccountInput{Subscriptions: ss, Roles: roles})
}

func TestSpec32_WFOFeatureTable(t *testing.T) {
	cat := preset(t, "wfo")
	acct := wfoAccountAll(t, cat)

	for _, lic := range wfoLicenses {
		t.Run("R16/alone/"+lic, func(t *testing.T) {
			e := acct.Compile(holds(lic))
			want := wfoExpected(t, cat, lic)
			if lic == "desktop_analytics" || lic == "monitoring" {
				want = nil // R16: requires one of cr/qm/wfm (cr/wfm); alone it grants nothing
			}
			if got := wfoAllowedTable(t, e, cat); !slices.Equal(got, want) {
				t.Errorf("%s alone allows\n  %v\nwant\n  %v", lic, got, want)
			}
			for _, f := range want {
				if d := e.Check(f, false); !slices.Contains(d.Via, lic) {
					t.Errorf("Check(%q).Via = %v, want it to contain %q", f, d.Via, lic)
				}
			}
			if lic == "desktop_analytics" || lic == "monitoring" {
				if got := allowedFeatures(e, cat, true); len(got) != 0 {
					t.Errorf("%s alone allows %v, want nothing (R16 requires)", lic, got)
				}
			}
		})
	}

	for _, tc := range []struct {
		lic, with string
		ok        bool // whether `with` meets lic's requirement
	}{
		{"desktop_analytics", "cr", true},
		{"desktop_analytics", "qm", true},
		{"desktop_analytics", "wfm", true},
		{"desktop_analytics", "analytics", false},
		{"desktop_analytics", "monitoring", false},
		{"monitoring", "cr", true},
		{"monitoring", "wfm", true},
		// qm includes cr, and so holds cr (R16).
		{"monitoring", "qm", true},
		{"monitoring", "analytics", false},
		{"monitoring", "desktop_analytics", false},
	} {
		t.Run("R16/requires/"+tc.lic+"+"+tc.with, func(t *testing.T) {
			e := acct.Compile(holds(tc.lic, tc.with))
			var want []string
			switch {
			case tc.ok:
				want = wfoExpected(t, cat, tc.lic, tc.with)
			case tc.with == "monitoring" || tc.with == "desktop_analytics":
				want = nil // neither meets the other's requirement
			default:
				want = wfoExpected(t, cat, tc.with)
			}
			if got := wfoAllowedTable(t, e, cat); !slices.Equal(got, want) {
				t.Errorf("%s + %s allows\n  %v\nwant\n  %v", tc.lic, tc.with, got, want)
			}
			d := e.Check("desktop_monitoring", false)
			if got := d.Allowed && slices.Contains(d.Via, tc.lic); got != tc.ok {
				t.Errorf("Check(desktop_monitoring) = %v via %v, want allowed via %s = %v", d.Code, d.Via, tc.lic, tc.ok)
			}
		})
	}

	t.Run("R16/requirement_must_be_subscribed", func(t *testing.T) {
		acct := newAccount(t, cat, entitlement.AccountInput{Subscriptions: subs(named("desktop_analytics", 5), named("monitoring", 5))})
		e := acct.Compile(holds("desktop_analytics", "monitoring", "cr", "wfm"))
		if got := allowedFeatures(e, cat, true); len(got) != 0 {
			t.Errorf("requirements held but not subscribed: allowed %v, want nothing", got)
		}
	})
}

func TestR15_RolesLinkedToLicenses(t *testing.T) {
	cat := preset(t, "wfo")
	acct := newAccount(t, cat, entitlement.AccountInput{
		Subscriptions: subs(named("qm", 10), named("wfo_access", 5), named("analytics", 5), named("administration", 2)),
		Roles: []entitlement.RoleDef{
			{Service: "wfo", Name: "analyst", Permissions: []string{"wfo.reports.view"}, Licenses: []string{"analytics"}},
			{Service: "wfo", Name: "transcriber", Permissions: []string{"wfo.contacts.view"}, Licenses: []string{"transcription"}},
		},
	})

	t.Run("R15/evaluator_and_agent", func(t *testing.T) {
		e := acct.Compile(withRoles(holds(), "wfo:evaluator", "wfo:agent"))
		if got, want := e.Licenses(), []string{"qm", "wfo_access"}; !slices.Equal(got, want) {
			t.Errorf("Licenses() = %v, want %v", got, want)
		}
		checkIs(t, e, "evaluations", false, entitlement.OK)
		checkIs(t, e, "record_audio", false, entitlement.OK) // cr through qm
		wfoAccess, _ := cat.License("wfo_access")
		if len(wfoAccess.Grants) == 0 {
			t.Fatalf("wfo_access grants nothing in the preset")
		}
		for _, f := range wfoAccess.Grants {
			if d := checkIs(t, e, f, false, entitlement.OK); !slices.Contains(d.Via, "wfo_access") {
				t.Errorf("Check(%q).Via = %v, want wfo_access", f, d.Via)
			}
		}
		// The union: exactly what direct holders of qm and wfo_access get.
		direct := acct.Compile(holds("qm", "wfo_access"))
		if got, want := allowedFeatures(e, cat, false), allowedFeatures(direct, cat, false); !slices.Equal(got, want) {
			t.Errorf("role-linked features %v, want those of direct qm+wfo_access %v", got, want)
		}
		checkIs(t, e, "sentiment_analysis", false, entitlement.NoLicense)
	})

	t.Run("R15/role_plus_direct_assignment", func(t *testing.T) {
		e := acct.Compile(withRoles(holds("analytics"), "wfo:agent"))
		if got, want := e.Licenses(), []string{"qm", "analytics"}; !slices.Equal(got, want) {
			t.Errorf("Licenses() = %v, want %v", got, want)
		}
		checkIs(t, e, "sentiment_analysis", false, entitlement.OK)
		checkIs(t, e, "evaluations", false, entitlement.OK)
	})

	t.Run("R15/custom_role_link", func(t *testing.T) {
		if got, want := acct.RoleLicenses(ref("wfo:analyst")), []string{"analytics"}; !slices.Equal(got, want) {
			t.Errorf("RoleLicenses(wfo:analyst) = %v, want %v", got, want)
		}
		e := acct.Compile(withRoles(holds(), "wfo:analyst"))
		if got, want := e.Licenses(), []string{"analytics"}; !slices.Equal(got, want) {
			t.Errorf("Licenses() = %v, want %v", got, want)
		}
		checkIs(t, e, "sentiment_analysis", false, entitlement.OK)
		checkIs(t, e, "evaluations", false, entitlement.NoLicense)
		permIs(t, e, "wfo.reports.view", false, entitlement.OK)
	})

	t.Run("R15/link_to_unsubscribed_license_grants_nothing", func(t *testing.T) {
		e := acct.Compile(withRoles(holds(), "wfo:transcriber"))
		if got := e.Licenses(); len(got) != 0 {
			t.Errorf("Licenses() = %v, want none", got)
		}
		if got := allowedFeatures(e, cat, true); len(got) != 0 {
			t.Errorf("allowed %v, want nothing", got)
		}
		checkIs(t, e, "transcription", true, entitlement.NoLicense)
	})

	t.Run("R15/relinked_default_role", func(t *testing.T) {
		acct := newAccount(t, cat, entitlement.AccountInput{
			Subscriptions: subs(named("cr", 10), named("qm", 10)),
			Roles: []entitlement.RoleDef{
				{Service: "wfo", Name: "agent", Permissions: []string{"wfo.contacts.view"}, Licenses: []string{"cr"}},
			},
		})
		if !acct.IsDefaultRole(ref("wfo:agent")) {
			t.Errorf("IsDefaultRole(wfo:agent) after relinking = false, want true")
		}
		e := acct.Compile(withRoles(holds(), "wfo:agent"))
		if got, want := e.Licenses(), []string{"cr"}; !slices.Equal(got, want) {
			t.Errorf("Licenses() = %v, want %v", got, want)
		}
		checkIs(t, e, "record_audio", false, entitlement.OK)
		checkIs(t, e, "evaluations", false, entitlement.NoLicense)
	})
}

func TestR16_CatalogRules(t *testing.T) {
	cat := preset(t, "wfo")

	t.Run("R16/qm_includes_cr", func(t *testing.T) {
		acct := newAccount(t, cat, entitlement.AccountInput{Subscriptions: subs(named("qm", 5))})
		e := acct.Compile(holds("qm"))
		for _, f := range []string{"record_audio", "import_digital", "export_contacts", "qm_views", "qm_workflows", "contact_tagging", "reporting"} {
			if d := checkIs(t, e, f, false, entitlement.OK); !slices.Contains(d.Via, "qm") {
				t.Errorf("Check(%q).Via = %v, want qm", f, d.Via)
			}
		}
		// cr alone does not bring QM's own features.
		acct = newAccount(t, cat, entitlement.AccountInput{Subscriptions: subs(named("cr", 5))})
		checkIs(t, acct.Compile(holds("cr")), "evaluations", false, entitlement.NoLicense)
	})

	t.Run("R16/requires_on_assignment", func(t *testing.T) {
		acct := wfoAccountAll(t, cat)
		for _, tc := range []struct {
			h    entitlement.Holding
			lic  string
			want string
		}{
			{holds(), "desktop_analytics", seatkeeper.ERequirementMissing},
			{holds("analytics"), "desktop_analytics", seatkeeper.ERequirementMissing},
			{holds("cr"), "desktop_analytics", ""},
			{holds("wfm"), "desktop_analytics", ""},
			{withRoles(holds(), "wfo:agent"), "desktop_analytics", ""}, // qm through the agent role
			{holds(), "monitoring", seatkeeper.ERequirementMissing},
			{holds("wfm"), "monitoring", ""},
			{holds("cr"), "monitoring", ""},
		} {
			if got := code(acct.CanAssign(tc.h, tc.lic)); got != tc.want {
				t.Errorf("CanAssign(%v roles %v, %s) = %q, want %q", tc.h.Licenses, tc.h.Roles, tc.lic, got, tc.want)
			}
		}
	})

	t.Run("R16/wfo_access_max_per_account", func(t *testing.T) {
		for _, tc := range []struct {
			qty  int
			want string
		}{{1, ""}, {5, ""}, {6, seatkeeper.EMaxPerAccount}, {100, seatkeeper.EMaxPerAccount}} {
			for _, existing := range []bool{false, true} {
				err := entitlement.CanSubscribe(cat, named("wfo_access", tc.qty), existing)
				if got := code(err); got != tc.want {
					t.Errorf("CanSubscribe(wfo_access, %d, existing=%v) = %q, want %q", tc.qty, existing, got, tc.want)
				}
			}
		}
		for _, tc := range []struct {
			sub  entitlement.Subscription
			want int
		}{
			{named("wfo_access", 5), 5},
			{named("wfo_access", 3), 3},
			{named("wfo_access", 9), 5}, // however it got there, no more than 5 seats
			{entitlement.Subscription{License: "wfo_access", Model: catalog.ModelNamed, Quantity: 3, Commit: true}, 5},
		} {
			acct := newAccount(t, cat, entitlement.AccountInput{Subscriptions: subs(tc.sub)})
			if n, capped := acct.Capacity("wfo_access"); !capped || n != tc.want {
				t.Errorf("Capacity(wfo_access) with %+v = %d, %v; want %d, true", tc.sub, n, capped, tc.want)
			}
		}
	})

	t.Run("R16/performance_coaching_not_for_sale", func(t *testing.T) {
		for _, existing := range []bool{false, true} {
			err := entitlement.CanSubscribe(cat, named("performance_coaching", 1), existing)
			if got, want := code(err), seatkeeper.ENotForSale; got != want {
				t.Errorf("CanSubscribe(performance_coaching, existing=%v) = %q, want %q", existing, got, want)
			}
		}
		acct := wfoAccountAll(t, cat)
		if got, want := code(acct.CanAssign(holds(), "performance_coaching")), seatkeeper.ENotForSale; got != want {
			t.Errorf("CanAssign(performance_coaching) = %q, want %q", got, want)
		}
	})

	t.Run("R16/data_management_retired", func(t *testing.T) {
		if got, want := code(entitlement.CanSubscribe(cat, named("data_management", 10), false)), seatkeeper.ERetired; got != want {
			t.Errorf("CanSubscribe(data_management, new) = %q, want %q", got, want)
		}
		if err := entitlement.CanSubscribe(cat, named("data_management", 10), true); err != nil {
			t.Errorf("CanSubscribe(data_management, existing) = %v, want nil", err)
		}
		acct := newAccount(t, cat, entitlement.AccountInput{Subscriptions: subs(named("data_management", 10), named("cr", 10))})
		if got, want := code(acct.CanAssign(holds(), "data_management")), seatkeeper.ERetired; got != want {
			t.Errorf("CanAssign(data_management) = %q, want %q", got, want)
		}
		if err := acct.CanAssign(holds(), "cr"); err != nil {
			t.Errorf("CanAssign(cr) = %v, want nil", err)
		}
		e := acct.Compile(holds("data_management"))
		if got, want := e.Licenses(), []string{"data_management"}; !slices.Equal(got, want) {
			t.Errorf("Licenses() = %v, want %v", got, want)
		}
		dm, _ := cat.License("data_management")
		if len(dm.Grants) == 0 {
			t.Fatalf("data_management grants nothing in the preset")
		}
		for _, f := range dm.Grants {
			checkIs(t, e, f, false, entitlement.OK)
		}
	})

	t.Run("R16/other_licenses_for_sale", func(t *testing.T) {
		for _, l := range wfoLicenses {
			if l == "performance_coaching" || l == "data_management" {
				continue
			}
			if err := entitlement.CanSubscribe(cat, named(l, 5), false); err != nil {
				t.Errorf("CanSubscribe(%s, 5) = %v, want nil", l, err)
			}
		}
	})

	t.Run("R16/insights_one_per_role", func(t *testing.T) {
		both := entitlement.RoleDef{Service: "wfo", Name: "insights", Licenses: []string{"insights_reader", "insights_author"}}
		if got, want := code(entitlement.ValidateRole(cat, both)), seatkeeper.EInvalid; got != want {
			t.Errorf("ValidateRole(reader+author) = %q, want %q", got, want)
		}
		if _, err := entitlement.NewAccount(cat, entitlement.AccountInput{Roles: []entitlement.RoleDef{both}}); code(err) != seatkeeper.EInvalid {
			t.Errorf("NewAccount with reader+author role = %v, want %s", err, seatkeeper.EInvalid)
		}
		for _, one := range []string{"insights_reader", "insights_author"} {
			d := entitlement.RoleDef{Service: "wfo", Name: "insights", Licenses: []string{"qm", one}}
			if err := entitlement.ValidateRole(cat, d); err != nil {
				t.Errorf("ValidateRole(qm+%s) = %v, want nil", one, err)
			}
		}
	})

	t.Run("R16/insights_must_be_linked", func(t *testing.T) {
		acct := newAccount(t, cat, entitlement.AccountInput{Subscriptions: subs(named("insights_reader", 3), named("qm", 3))})
		probs := acct.RoleProblems()
		if len(probs) != 1 || !strings.Contains(probs[0], "insights_reader") {
			t.Errorf("RoleProblems() = %q, want one problem naming insights_reader", probs)
		}
		acct = newAccount(t, cat, entitlement.AccountInput{
			Subscriptions: subs(named("insights_reader", 3), named("insights_author", 1)),
		})
		if got := len(acct.RoleProblems()); got != 2 {
			t.Errorf("RoleProblems() with reader and author unlinked = %q, want 2 problems", acct.RoleProblems())
		}
		acct = newAccount(t, cat, entitlement.AccountInput{
			Subscriptions: subs(named("insights_reader", 3), named("qm", 3)),
			Roles:         []entitlement.RoleDef{{Service: "wfo", Name: "viewer", Licenses: []string{"insights_reader"}}},
		})
		if got := acct.RoleProblems(); len(got) != 0 {
			t.Errorf("RoleProblems() once a role links insights_reader = %q, want none", got)
		}
		// Linked to a role but not purchased: nothing to report.
		acct = newAccount(t, cat, entitlement.AccountInput{Subscriptions: subs(named("qm", 3))})
		if got := acct.RoleProblems(); len(got) != 0 {
			t.Errorf("RoleProblems() without Insights = %q, want none", got)
		}
	})

	t.Run("R16/data_only_scope_own", func(t *testing.T) {
		acct := newAccount(t, cat, entitlement.AccountInput{
			Subscriptions: subs(named("qm", 10), named("cr", 10), named("analytics", 10), named("wfo_access", 5), named("administration", 2)),
		})
		for _, tc := range []struct {
			name string
			h    entitlement.Holding
			want string
		}{
			{"agent_role_qm", withRoles(holds(), "wfo:agent"), entitlement.ScopeOwn},
			{"agent_role_plus_cr_analytics", withRoles(holds("cr", "analytics"), "wfo:agent"), entitlement.ScopeOwn},
			{"evaluator_and_agent", withRoles(holds(), "wfo:evaluator", "wfo:agent"), entitlement.ScopeAll},
			{"agent_plus_administration", withRoles(holds("administration"), "wfo:agent"), entitlement.ScopeAll},
			{"supervisor", withRoles(holds(), "wfo:supervisor"), entitlement.ScopeAll},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := acct.Compile(tc.h)
				d := permIs(t, e, "wfo.contacts.view", false, entitlement.OK)
				if d.Scope != tc.want {
					t.Errorf("Permission(wfo.contacts.view).Scope = %q, want %q", d.Scope, tc.want)
				}
				if got := e.Access(false).Scope; got != tc.want {
					t.Errorf("Access.Scope = %q, want %q", got, tc.want)
				}
			})
		}
	})
}
