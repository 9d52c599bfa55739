package entitlement_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/entitlement"
)

func TestR3_InactiveUser(t *testing.T) {
	for _, tc := range []struct {
		catalog string
		in      entitlement.AccountInput
		h       entitlement.Holding
		assign  []string
	}{
		{
			catalog: "contact-center",
			in: entitlement.AccountInput{
				Subscriptions: subs(named("elite", 10), named("essentials", 10), named("qm", 10), named("virtual_agent", 1)),
				Settings:      map[string]bool{"qm.analyze_recordings": true},
			},
			h:      entitlement.Holding{Licenses: []string{"elite"}, Roles: []entitlement.RoleRef{ref("qm:admin"), ref("account:owner")}},
			assign: []string{"essentials", "qm", "elite", "virtual_agent"},
		},
		{
			catalog: "contact-center",
			in:      entitlement.AccountInput{Subscriptions: subs(concurrent("premium", 10), named("wfm", 10))},
			h:       entitlement.Holding{Licenses: []string{"premium", "wfm"}},
			assign:  []string{"premium", "wfm"},
		},
		{
			catalog: "wfo",
			in:      entitlement.AccountInput{Subscriptions: subs(named("qm", 10), named("wfo_access", 5), named("analytics", 5))},
			h:       entitlement.Holding{Licenses: []string{"analytics"}, Roles: []entitlement.RoleRef{ref("wfo:evaluator"), ref("wfo:agent")}},
			assign:  []string{"qm", "analytics", "wfo_access"},
		},
	} {
		t.Run("R3/"+tc.catalog+fmt.Sprint(tc.h.Licenses), func(t *testing.T) {
			cat := preset(t, tc.catalog)
			acct := newAccount(t, cat, tc.in)
			e := acct.Compile(tc.h)
			// The same holding active is entitled to something: the refusals below are about activity.
			active := tc.h
			active.Active = true
			if len(allowedFeatures(acct.Compile(active), cat, true)) == 0 {
				t.Fatalf("the active holding is entitled to nothing; the test proves nothing")
			}
			for _, signedIn := range []bool{false, true} {
				for _, f := range cat.Features {
					checkIs(t, e, f.Key, signedIn, entitlement.UserInactive)
				}
				checkIs(t, e, "no.such.feature", signedIn, entitlement.UserInactive)
				for _, p := range cat.Permissions {
					permIs(t, e, p.Key, signedIn, entitlement.UserInactive)
				}
				a := e.Access(signedIn)
				if a.Active || len(a.Features) != 0 || len(a.Permissions) != 0 || len(a.Licenses) != 0 || len(a.Roles) != 0 {
					t.Errorf("Access(%v) of an inactive user = %+v, want inactive and empty", signedIn, a)
				}
			}
			if got := e.Licenses(); len(got) != 0 {
				t.Errorf("Licenses() = %v, want none", got)
			}
			for _, l := range tc.assign {
				if got, want := code(acct.CanAssign(tc.h, l)), seatkeeper.EUserInactive; got != want {
					t.Errorf("CanAssign(inactive, %s) = %q, want %q", l, got, want)
				}
				if got, want := code(acct.CanAssign(entitlement.Holding{}, l)), seatkeeper.EUserInactive; got != want {
					t.Errorf("CanAssign(inactive with nothing, %s) = %q, want %q", l, got, want)
				}
			}
		})
	}
}

// TestSpec43_AccessMatchesCheck: Access(signedIn) lists exactly the
// features and permissions that Check and Permission allow, with the same
// Via and Roles (SPEC §4.3 "every entitled feature and permission").
func TestSpec43_AccessMatchesCheck(t *testing.T) {
	type holding struct {
		name string
		h    entitlement.Holding
		none bool // entitled to no feature at all, even when signed in
	}
	cc := preset(t, "contact-center")
	wfo := preset(t, "wfo")
	for _, tc := range []struct {
		name     string
		cat      *catalog.Catalog
		in       entitlement.AccountInput
		holdings []holding
	}{
		{
			name: "contact-center/named",
			cat:  cc,
			in: entitlement.AccountInput{
				Subscriptions: subs(named("essentials", 10), named("premium", 10), named("elite", 10), named("qm", 10),
					named("wfm", 10), named("ai_expert_assist", 10), named("virtual_agent", 1), named("cloud_storage_gb", 100)),
				Roles: []entitlement.RoleDef{{Service: "qm", Name: "lead", Permissions: []string{"qm.scorecards.manage"}}},
			},
			holdings: []holding{
				{"nothing", holds(), true},
				{"addon_only", holds("qm"), true},
				{"essentials", holds("essentials"), false},
				{"essentials+qm", holds("essentials", "qm"), false},
				{"premium+wfm+admin", withRoles(holds("premium", "wfm"), "account:admin"), false},
				{"elite+qm_admin", withRoles(holds("elite"), "qm:admin"), false},
				{"essentials+qm+lead", withRoles(holds("essentials", "qm"), "qm:lead"), false},
				{"inactive", entitlement.Holding{Licenses: []string{"elite"}}, true},
			},
		},
		{
			name: "contact-center/named/analysis_on",
			cat:  cc,
			in: entitlement.AccountInput{
				Subscriptions: subs(named("elite", 10)),
				Settings:      map[string]bool{"qm.analyze_recordings": true},
			},
			holdings: []holding{{"elite", holds("elite"), false}},
		},
		{
			name: "contact-center/concurrent",
			cat:  cc,
			in: entitlement.AccountInput{
				Subscriptions: subs(concurrent("elite", 25), concurrent("premium", 10), named("qm", 5), named("virtual_agent", 1)),
				Settings:      map[string]bool{"qm.analyze_recordings": true},
			},
			holdings: []holding{
				{"elite", holds("elite"), false},
				{"elite+qm", withRoles(holds("elite", "qm"), "account:owner"), false},
				{"elite+wfm", holds("elite", "wfm"), false},
				{"premium+qm", holds("premium", "qm"), false},
			},
		},
		{
			name: "wfo",
			cat:  wfo,
			in: entitlement.AccountInput{
				Subscriptions: subs(named("cr", 10), named("qm", 10), named("analytics", 10), named("desktop_analytics", 10),
					named("monitoring", 10), named("wfo_access", 5), named("administration", 2), named("data_management", 3),
					named("insights_reader", 3)),
				Roles: []entitlement.RoleDef{{Service: "wfo", Name: "viewer", Permissions: []string{"wfo.reports.view"}, Licenses: []string{"insights_reader"}}},
			},
			holdings: []holding{
				{"evaluator+agent", withRoles(holds(), "wfo:evaluator", "wfo:agent"), false},
				{"desktop_analytics_alone", holds("desktop_analytics"), true},
				{"desktop_analytics+cr", holds("desktop_analytics", "cr"), false},
				{"monitoring+analytics", holds("monitoring", "analytics"), false},
				{"data_management", holds("data_management"), false},
				{"administrator", withRoles(holds(), "wfo:administrator"), false},
				{"viewer", withRoles(holds(), "wfo:viewer"), false},
			},
		},
	} {
		acct := newAccount(t, tc.cat, tc.in)
		for _, h := range tc.holdings {
			for _, signedIn := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/signedIn=%v", tc.name, h.name, signedIn), func(t *testing.T) {
					e := acct.Compile(h.h)
					a := e.Access(signedIn)
					if got, want := a.SignedIn, signedIn; got != want {
						t.Errorf("Access.SignedIn = %v, want %v", got, want)
					}
					if got, want := a.Active, h.h.Active; got != want {
						t.Errorf("Access.Active = %v, want %v", got, want)
					}
					if got, want := a.Licenses, e.Licenses(); !slices.Equal(got, want) && (len(got) != 0 || len(want) != 0) {
						t.Errorf("Access.Licenses = %v, Licenses() = %v", got, want)
					}

					var wantF []string
					wantVia := map[string][]string{}
					for _, f := range tc.cat.Features {
						if d := e.Check(f.Key, signedIn); d.Allowed {
							wantF = append(wantF, f.Key)
							wantVia[f.Key] = d.Via
						}
					}
					if signedIn && (len(wantF) == 0) != h.none {
						t.Errorf("Check allows %v, want nothing = %v", wantF, h.none)
					}
					if got := accessFeatures(a); !slices.Equal(got, wantF) {
						t.Errorf("Access features\n  %v\nCheck allows\n  %v", got, wantF)
					}
					for _, g := range a.Features {
						if !slices.Equal(g.Via, wantVia[g.Feature]) {
							t.Errorf("Access via of %s = %v, Check via = %v", g.Feature, g.Via, wantVia[g.Feature])
						}
						if len(g.Via) == 0 {
							t.Errorf("Access lists %s with no license granting it", g.Feature)
						}
					}

					var wantP []string
					wantRoles := map[string][]string{}
					for _, p := range tc.cat.Permissions {
						if d := e.Permission(p.Key, signedIn); d.Allowed {
							wantP = append(wantP, p.Key)
							wantRoles[p.Key] = d.Roles
						}
					}
					var gotP []string
					for _, g := range a.Permissions {
						gotP = append(gotP, g.Permission)
						if !slices.Equal(g.Roles, wantRoles[g.Permission]) {
							t.Errorf("Access roles of %s = %v, Permission roles = %v", g.Permission, g.Roles, wantRoles[g.Permission])
						}
					}
					if !slices.Equal(gotP, wantP) {
						t.Errorf("Access permissions\n  %v\nPermission allows\n  %v", gotP, wantP)
					}
				})
			}
		}
	}
}
