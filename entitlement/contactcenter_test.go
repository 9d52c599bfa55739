package entitlement_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/entitlement"
)

// The rows of SPEC §3.1, written from the SPEC, not from the preset.
var (
	ccPlans = []string{"essentials", "premium", "elite"}

	ccEveryTier = []string{
		"channel.voice", "channel.video", "channel.chat", "channel.sms", "flow_editor", "ivr",
		"realtime_transcription", "remote_control", "cti_integration", "surveys", "pii_redaction",
		"customer_managed_keys", "ai_companion", "reporting",
	}
	ccPremiumUp = []string{"channel.email", "channel.social", "outbound_dialer", "cobrowse"}

	// The add-on rows: the add-on license and its features. SPEC §3.1 names
	// the QM sub-features; sub-features the preset adds below these keys are
	// appended by ccAddonFeatures ("and their sub-features").
	ccAddons     = []string{"ai_expert_assist", "qm", "wfm"}
	ccAddonNamed = map[string][]string{
		"ai_expert_assist": {"ai_expert_assist"},
		"qm": {"qm", "qm.interactions.view_own", "qm.interactions.review", "qm.evaluations",
			"qm.scorecards.edit", "qm.analysis", "qm.settings"},
		"wfm": {"wfm"},
	}
)

// ccAddonFeatures is an add-on row: the SPEC's keys plus every feature of
// the catalog below the add-on's key.
func ccAddonFeatures(t testing.TB, cat *catalog.Catalog, addon string) []string {
	out := slices.Clone(ccAddonNamed[addon])
	for _, f := range cat.Features {
		if strings.HasPrefix(f.Key, addon+".") && !slices.Contains(out, f.Key) {
			out = append(out, f.Key)
		}
	}
	for _, f := range out {
		mustFeature(t, cat, f)
	}
	return out
}

// ccAllAddons is every add-on row feature.
func ccAllAddons(t testing.TB, cat *catalog.Catalog) []string {
	var out []string
	for _, a := range ccAddons {
		out = append(out, ccAddonFeatures(t, cat, a)...)
	}
	return out
}

func TestR8_ContactCenterTiers(t *testing.T) {
	cat := preset(t, "contact-center")
	for _, f := range append(slices.Clone(ccEveryTier), ccPremiumUp...) {
		mustFeature(t, cat, f)
	}
	addonFeatures := ccAllAddons(t, cat)

	// R8 "exactly": the catalog has no feature outside the §3.1 rows except
	// the account-wide Virtual Agent add-on (R10).
	for _, f := range cat.Features {
		known := slices.Contains(ccEveryTier, f.Key) || slices.Contains(ccPremiumUp, f.Key) ||
			slices.Contains(addonFeatures, f.Key) || f.Key == "virtual_agent"
		if !known {
			t.Errorf("feature %q is in no row of SPEC §3.1", f.Key)
		}
	}

	for _, plan := range ccPlans {
		in := entitlement.AccountInput{
			Subscriptions: subs(named(plan, 10), named("ai_expert_assist", 10), named("qm", 10), named("wfm", 10)),
			// qm.analysis is an add-on row feature gated by R13; turn it on here.
			Settings: map[string]bool{"qm.analyze_recordings": true},
		}
		acct := newAccount(t, cat, in)

		t.Run("R8/"+plan+"/plan_only", func(t *testing.T) {
			e := acct.Compile(holds(plan))
			var want []string
			for _, f := range cat.Features {
				yes := slices.Contains(ccEveryTier, f.Key) ||
					(plan != "essentials" && slices.Contains(ccPremiumUp, f.Key)) ||
					(plan == "elite" && slices.Contains(addonFeatures, f.Key))
				if yes {
					want = append(want, f.Key)
				}
			}
			if got := allowedFeatures(e, cat, true); !slices.Equal(got, want) {
				t.Errorf("%s allows\n  %v\nwant\n  %v", plan, got, want)
			}
			for _, f := range ccEveryTier {
				d := checkIs(t, e, f, true, entitlement.OK)
				if !slices.Contains(d.Via, plan) {
					t.Errorf("Check(%q).Via = %v, want it to contain %q", f, d.Via, plan)
				}
			}
			for _, f := range ccPremiumUp {
				if plan == "essentials" {
					checkIs(t, e, f, true, entitlement.NoLicense)
					continue
				}
				if d := checkIs(t, e, f, true, entitlement.OK); !slices.Contains(d.Via, plan) {
					t.Errorf("Check(%q).Via = %v, want it to contain %q", f, d.Via, plan)
				}
			}
			for _, f := range addonFeatures {
				if plan != "elite" {
					checkIs(t, e, f, true, entitlement.NoLicense)
					continue
				}
				if d := checkIs(t, e, f, true, entitlement.OK); !slices.Contains(d.Via, "elite") {
					t.Errorf("Check(%q).Via = %v, want it to contain elite", f, d.Via)
				}
			}
		})

		for _, addon := range ccAddons {
			t.Run("R8/"+plan+"/with_addon_"+addon, func(t *testing.T) {
				e := acct.Compile(holds(plan, addon))
				for _, f := range ccAddonFeatures(t, cat, addon) {
					d := checkIs(t, e, f, true, entitlement.OK)
					if plan != "elite" && !slices.Contains(d.Via, addon) {
						t.Errorf("Check(%q).Via = %v, want it to contain add-on %q", f, d.Via, addon)
					}
				}
				// The other add-ons stay refused below Elite.
				for _, other := range ccAddons {
					if other == addon {
						continue
					}
					for _, f := range ccAddonFeatures(t, cat, other) {
						want := entitlement.NoLicense
						if plan == "elite" {
							want = entitlement.OK
						}
						checkIs(t, e, f, true, want)
					}
				}
				// An add-on adds no plan feature: Essentials + add-on still has no email.
				if plan == "essentials" {
					checkIs(t, e, "channel.email", true, entitlement.NoLicense)
				}
			})
		}
	}
}

func TestR2_AddonNeedsPlan(t *testing.T) {
	cat := preset(t, "contact-center")
	acct := newAccount(t, cat, entitlement.AccountInput{
		Subscriptions: subs(named("essentials", 10), named("qm", 10), named("wfm", 10),
			named("ai_expert_assist", 10), named("virtual_agent", 1)),
		Settings: map[string]bool{"qm.analyze_recordings": true},
	})

	t.Run("R2/addon_without_plan_grants_nothing", func(t *testing.T) {
		e := acct.Compile(holds("qm", "wfm", "ai_expert_assist"))
		if got := allowedFeatures(e, cat, true); len(got) != 0 {
			t.Errorf("user with add-ons and no plan is allowed %v, want nothing", got)
		}
		checkIs(t, e, "qm", true, entitlement.NoLicense)
		checkIs(t, e, "qm.evaluations", true, entitlement.NoLicense)
		checkIs(t, e, "channel.voice", true, entitlement.NoLicense)
		checkIs(t, e, "virtual_agent", true, entitlement.NoLicense)
		if got := e.Licenses(); len(got) != 0 {
			t.Errorf("Licenses() = %v, want none", got)
		}
		if got := e.Access(true).Features; len(got) != 0 {
			t.Errorf("Access(true).Features = %v, want none", got)
		}
	})

	t.Run("R2/plan_unlocks_addon", func(t *testing.T) {
		e := acct.Compile(holds("essentials", "qm"))
		checkIs(t, e, "qm", true, entitlement.OK)
		if got, want := e.Licenses(), []string{"essentials", "qm", "virtual_agent"}; !slices.Equal(got, want) {
			t.Errorf("Licenses() = %v, want %v", got, want)
		}
	})

	t.Run("R2/CanAssign_addon_without_plan", func(t *testing.T) {
		for _, addon := range ccAddons {
			if got, want := code(acct.CanAssign(holds(), addon)), seatkeeper.ERequirementMissing; got != want {
				t.Errorf("CanAssign(no plan, %s) = %q, want %q", addon, got, want)
			}
			// A plan held but not subscribed by the account is no plan either.
			if got, want := code(acct.CanAssign(holds("premium"), addon)), seatkeeper.ERequirementMissing; got != want {
				t.Errorf("CanAssign(unsubscribed premium, %s) = %q, want %q", addon, got, want)
			}
			if err := acct.CanAssign(holds("essentials"), addon); err != nil {
				t.Errorf("CanAssign(essentials, %s) = %v, want nil", addon, err)
			}
		}
		if err := acct.CanAssign(holds(), "essentials"); err != nil {
			t.Errorf("CanAssign(no plan, essentials) = %v, want nil", err)
		}
	})

	t.Run("R2/concurrent_plan_members_unlimited", func(t *testing.T) {
		for _, plan := range ccPlans {
			acct := newAccount(t, cat, entitlement.AccountInput{Subscriptions: subs(concurrent(plan, 10))})
			if _, capped := acct.Capacity(plan); capped {
				t.Errorf("Capacity(%s) under concurrent is capped, want unlimited members", plan)
			}
			if err := acct.CanAssign(holds(), plan); err != nil {
				t.Errorf("CanAssign(%s) under concurrent = %v, want nil (membership)", plan, err)
			}
		}
		// For contrast, a named hard plan is capped at its quantity (R1).
		acct := newAccount(t, cat, entitlement.AccountInput{Subscriptions: subs(named("premium", 100))})
		if n, capped := acct.Capacity("premium"); !capped || n != 100 {
			t.Errorf("Capacity(named premium 100) = %d, %v; want 100, true", n, capped)
		}
	})
}

func TestR4_ConcurrentPlanNeedsPresence(t *testing.T) {
	cat := preset(t, "contact-center")
	acct := newAccount(t, cat, entitlement.AccountInput{
		Subscriptions: subs(concurrent("premium", 10), named("qm", 10), named("wfm", 10), named("virtual_agent", 1)),
		Settings:      map[string]bool{"qm.analyze_recordings": true},
	})
	e := acct.Compile(holds("premium", "qm", "wfm"))

	t.Run("R4/plan_features", func(t *testing.T) {
		for _, f := range append(slices.Clone(ccEveryTier), ccPremiumUp...) {
			checkIs(t, e, f, false, entitlement.NotSignedIn)
			checkIs(t, e, f, true, entitlement.OK)
		}
	})
	t.Run("R4/addon_features", func(t *testing.T) {
		for _, addon := range []string{"qm", "wfm"} {
			for _, f := range ccAddonFeatures(t, cat, addon) {
				checkIs(t, e, f, false, entitlement.NotSignedIn)
				checkIs(t, e, f, true, entitlement.OK)
			}
		}
		// Account-wide add-ons too: every feature of a concurrent-plan user needs presence.
		checkIs(t, e, "virtual_agent", false, entitlement.NotSignedIn)
		checkIs(t, e, "virtual_agent", true, entitlement.OK)
	})
	t.Run("R4/no_license_before_not_signed_in", func(t *testing.T) {
		checkIs(t, e, "ai_expert_assist", false, entitlement.NoLicense)
	})
	t.Run("R4/permissions_of_gated_service", func(t *testing.T) {
		permIs(t, e, "qm.evaluations.view_own", false, entitlement.NotSignedIn)
		permIs(t, e, "qm.evaluations.view_own", true, entitlement.OK)
	})
	t.Run("R4/access_follows_presence", func(t *testing.T) {
		if got := e.Access(false).Features; len(got) != 0 {
			t.Errorf("Access(false).Features = %v, want none", got)
		}
		if got := len(e.Access(true).Features); got == 0 {
			t.Errorf("Access(true).Features is empty, want the plan's and add-ons' features")
		}
	})
	t.Run("R4/named_plan_needs_no_presence", func(t *testing.T) {
		acct := newAccount(t, cat, entitlement.AccountInput{Subscriptions: subs(named("premium", 10), named("qm", 10))})
		e := acct.Compile(holds("premium", "qm"))
		checkIs(t, e, "channel.email", false, entitlement.OK)
		checkIs(t, e, "qm.evaluations", false, entitlement.OK)
	})
}

func TestR9_EliteBundle(t *testing.T) {
	cat := preset(t, "contact-center")

	t.Run("R9/named_elite_has_all", func(t *testing.T) {
		acct := newAccount(t, cat, entitlement.AccountInput{Subscriptions: subs(named("elite", 10))})
		e := acct.Compile(holds("elite"))
		for _, f := range []string{"qm", "qm.evaluations", "wfm", "ai_expert_assist"} {
			if d := checkIs(t, e, f, false, entitlement.OK); !slices.Contains(d.Via, "elite") {
				t.Errorf("Check(%q).Via = %v, want elite", f, d.Via)
			}
		}
		if _, ok := acct.RequiredAddonSeats("qm", 100); ok {
			t.Errorf("RequiredAddonSeats(qm) applies under named Elite, want not applicable")
		}
	})

	t.Run("R9/concurrent_elite_without_coverage", func(t *testing.T) {
		acct := newAccount(t, cat, entitlement.AccountInput{Subscriptions: subs(concurrent("elite", 25))})
		e := acct.Compile(holds("elite"))
		checkIs(t, e, "ai_expert_assist", true, entitlement.OK)
		checkIs(t, e, "channel.email", true, entitlement.OK)
		for _, f := range []string{"qm", "qm.evaluations", "wfm", "wfm.scheduling"} {
			checkIs(t, e, f, true, entitlement.NoLicense)
		}
		// No QM, so no default QM role either.
		if hasRole(e.Access(true).Roles, "qm:agent") {
			t.Errorf("Access roles %v include qm:agent without QM coverage", e.Access(true).Roles)
		}
	})

	t.Run("R9/concurrent_elite_with_coverage", func(t *testing.T) {
		acct := newAccount(t, cat, entitlement.AccountInput{Subscriptions: subs(concurrent("elite", 25))})
		if err := acct.CanAssign(holds("elite"), "qm"); err != nil {
			t.Errorf("CanAssign(elite member, qm coverage) = %v, want nil", err)
		}
		e := acct.Compile(holds("elite", "qm"))
		if d := checkIs(t, e, "qm", true, entitlement.OK); !slices.Contains(d.Via, "qm") {
			t.Errorf("Check(qm).Via = %v, want it to contain the coverage license qm", d.Via)
		}
		checkIs(t, e, "qm.evaluations", true, entitlement.OK)
		checkIs(t, e, "qm", false, entitlement.NotSignedIn) // R4: still a concurrent plan
		checkIs(t, e, "wfm", true, entitlement.NoLicense)
		checkIs(t, e, "ai_expert_assist", true, entitlement.OK)
	})

	for _, cov := range []string{"qm", "wfm"} {
		t.Run("R9/capacity_"+cov, func(t *testing.T) {
			acct := newAccount(t, cat, entitlement.AccountInput{Subscriptions: subs(concurrent("elite", 25))})
			if n, capped := acct.Capacity(cov); !capped || n != 25 {
				t.Errorf("Capacity(%s) with 25 Elite, 0 add-ons = %d, %v; want 25, true", cov, n, capped)
			}
			if n, ok := acct.RequiredAddonSeats(cov, 100); !ok || n != 75 {
				t.Errorf("RequiredAddonSeats(%s, 100) with 25 Elite, 0 add-ons = %d, %v; want 75, true", cov, n, ok)
			}
			if n, ok := acct.RequiredAddonSeats(cov, 20); !ok || n != 0 {
				t.Errorf("RequiredAddonSeats(%s, 20) with 25 Elite = %d, %v; want 0, true", cov, n, ok)
			}

			acct = newAccount(t, cat, entitlement.AccountInput{Subscriptions: subs(concurrent("elite", 25), named(cov, 75))})
			if n, capped := acct.Capacity(cov); !capped || n != 100 {
				t.Errorf("Capacity(%s) with 25 Elite + 75 add-ons = %d, %v; want 100, true", cov, n, capped)
			}
			if n, ok := acct.RequiredAddonSeats(cov, 100); !ok || n != 0 {
				t.Errorf("RequiredAddonSeats(%s, 100) with 25 Elite + 75 add-ons = %d, %v; want 0, true", cov, n, ok)
			}
			if n, ok := acct.RequiredAddonSeats(cov, 130); !ok || n != 30 {
				t.Errorf("RequiredAddonSeats(%s, 130) with 25 Elite + 75 add-ons = %d, %v; want 30, true", cov, n, ok)
			}
			// Users without Elite draw on the 75 add-ons alone.
			if n, capped := acct.AddonCapacity(cov); !capped || n != 75 {
				t.Errorf("AddonCapacity(%s) with 25 Elite + 75 add-ons = %d, %v; want 75, true", cov, n, capped)
			}
		})
	}
	t.Run("R9/addon_seats", func(t *testing.T) {
		acct := newAccount(t, cat, entitlement.AccountInput{Subscriptions: subs(concurrent("elite", 25), named("premium", 5), named("qm", 3))})
		for _, c := range []struct {
			h    entitlement.Holding
			want []string
		}{
			{holds("premium", "qm"), []string{"qm"}},
			{holds("premium", "qm", "wfm"), []string{"qm", "wfm"}},
			{holds("elite", "qm"), nil},
			{holds("premium"), nil},
			{entitlement.Holding{Licenses: []string{"premium", "qm"}}, nil}, // inactive: no seats (R3)
		} {
			if got := acct.AddonSeats(c.h); !slices.Equal(got, c.want) {
				t.Errorf("AddonSeats(%+v) = %v, want %v", c.h, got, c.want)
			}
		}
		// Without a concurrent plan that covers it, the add-on's own cap
		// (Capacity) is all there is.
		namedElite := newAccount(t, cat, entitlement.AccountInput{Subscriptions: subs(named("elite", 25), named("qm", 3))})
		if _, capped := namedElite.AddonCapacity("qm"); capped {
			t.Errorf("AddonCapacity(qm) under named Elite is capped, want not")
		}
		if got := acct.CoverageLicenses(); !slices.Equal(got, []string{"qm", "wfm"}) {
			t.Errorf("CoverageLicenses() = %v, want [qm wfm]", got)
		}
	})
	t.Run("R9/ai_expert_assist_not_coverage", func(t *testing.T) {
		acct := newAccount(t, cat, entitlement.AccountInput{Subscriptions: subs(concurrent("elite", 25))})
		if _, ok := acct.RequiredAddonSeats("ai_expert_assist", 100); ok {
			t.Errorf("RequiredAddonSeats(ai_expert_assist) applies, want not applicable (R9: needs nothing extra)")
		}
	})
}

func TestR10_AccountAndQuantityLicenses(t *testing.T) {
	cat := preset(t, "contact-center")
	acct := newAccount(t, cat, entitlement.AccountInput{
		Subscriptions: subs(named("essentials", 10), named("premium", 5), named("virtual_agent", 1), named("cloud_storage_gb", 50)),
	})

	t.Run("R10/virtual_agent_without_assignment", func(t *testing.T) {
		for _, plan := range []string{"essentials", "premium"} {
			e := acct.Compile(holds(plan))
			if d := checkIs(t, e, "virtual_agent", false, entitlement.OK); !slices.Contains(d.Via, "virtual_agent") {
				t.Errorf("Check(virtual_agent).Via = %v, want virtual_agent", d.Via)
			}
			if got := e.Licenses(); !slices.Contains(got, "virtual_agent") {
				t.Errorf("Licenses() = %v, want virtual_agent among them", got)
			}
		}
		// Without a plan there is no part of the service (R2); inactive users have nothing (R3).
		checkIs(t, acct.Compile(holds()), "virtual_agent", true, entitlement.NoLicense)
		checkIs(t, acct.Compile(entitlement.Holding{Licenses: []string{"essentials"}}), "virtual_agent", true, entitlement.UserInactive)
	})

	t.Run("R10/not_subscribed", func(t *testing.T) {
		acct := newAccount(t, cat, entitlement.AccountInput{Subscriptions: subs(named("essentials", 10))})
		checkIs(t, acct.Compile(holds("essentials")), "virtual_agent", true, entitlement.NoLicense)
		// A per-user "assignment" of it counts for nothing.
		checkIs(t, acct.Compile(holds("essentials", "virtual_agent")), "virtual_agent", true, entitlement.NoLicense)
	})

	t.Run("R10/never_assigned_per_user", func(t *testing.T) {
		for _, lic := range []string{"virtual_agent", "toll_free_numbers", "global_numbers", "cloud_storage_gb"} {
			if got, want := code(acct.CanAssign(holds("essentials"), lic)), seatkeeper.EInvalid; got != want {
				t.Errorf("CanAssign(%s) = %q, want %q", lic, got, want)
			}
		}
	})

	t.Run("R10/storage_quota", func(t *testing.T) {
		for _, tc := range []struct {
			subs []entitlement.Subscription
			want int
		}{
			{subs(named("essentials", 10)), 100},
			{subs(named("essentials", 10), named("cloud_storage_gb", 50)), 150},
			{subs(named("premium", 10)), 200},
			{subs(named("elite", 10)), 300},
			{subs(concurrent("essentials", 10)), 150},
			{subs(concurrent("premium", 10)), 300},
			{subs(concurrent("elite", 10), named("cloud_storage_gb", 7)), 457},
			{subs(named("essentials", 2), named("premium", 3), named("elite", 1)), 20 + 60 + 30},
			{subs(named("cloud_storage_gb", 500)), 500},
			// Add-ons and other quantity licenses bring no storage.
			{subs(named("essentials", 1), named("qm", 10), named("toll_free_numbers", 5), named("virtual_agent", 1)), 10},
		} {
			acct := newAccount(t, cat, entitlement.AccountInput{Subscriptions: tc.subs})
			if got := acct.StorageQuotaGB(); got != tc.want {
				t.Errorf("StorageQuotaGB(%+v) = %d, want %d", tc.subs, got, tc.want)
			}
		}
	})
}

func TestR11_QMRoles(t *testing.T) {
	cat := preset(t, "contact-center")
	in := entitlement.AccountInput{
		Subscriptions: subs(named("essentials", 20), named("qm", 10), named("elite", 5)),
		Roles: []entitlement.RoleDef{
			{Service: "qm", Name: "lead", Permissions: []string{"qm.scorecards.manage", "qm.reports.view"}},
		},
	}
	acct := newAccount(t, cat, in)

	t.Run("R11/default_role_agent", func(t *testing.T) {
		for _, h := range []entitlement.Holding{holds("essentials", "qm"), holds("elite")} {
			e := acct.Compile(h)
			if roles := e.Access(true).Roles; !hasRole(roles, "qm:agent") {
				t.Errorf("%v: Access roles = %v, want qm:agent", h.Licenses, roles)
			}
			d := permIs(t, e, "qm.evaluations.view_own", true, entitlement.OK)
			if !slices.Contains(d.Roles, "qm:agent") {
				t.Errorf("Permission(qm.evaluations.view_own).Roles = %v, want qm:agent", d.Roles)
			}
			permIs(t, e, "qm.interactions.access_own", true, entitlement.OK)
			permIs(t, e, "qm.scorecards.manage", true, entitlement.PermissionDenied)
			permIs(t, e, "qm.evaluations.score", true, entitlement.PermissionDenied)
		}
	})

	t.Run("R11/explicit_role_replaces_default", func(t *testing.T) {
		e := acct.Compile(withRoles(holds("essentials", "qm"), "qm:admin"))
		roles := e.Access(true).Roles
		if !hasRole(roles, "qm:admin") || hasRole(roles, "qm:agent") {
			t.Errorf("Access roles = %v, want qm:admin and not qm:agent", roles)
		}
		permIs(t, e, "qm.scorecards.manage", true, entitlement.OK)
		permIs(t, e, "qm.roles.manage", true, entitlement.OK)

		e = acct.Compile(withRoles(holds("essentials", "qm"), "qm:evaluator"))
		permIs(t, e, "qm.evaluations.score", true, entitlement.OK)
		permIs(t, e, "qm.evaluations.view_own", true, entitlement.PermissionDenied) // the agent default is not added
	})

	t.Run("R11/account_admin_is_not_qm_admin", func(t *testing.T) {
		e := acct.Compile(withRoles(holds("essentials"), "account:admin"))
		permIs(t, e, "account.settings.edit", true, entitlement.OK)
		permIs(t, e, "account.settings.edit", false, entitlement.OK)
		permIs(t, e, "qm.evaluations.view_own", true, entitlement.NoLicense)
		permIs(t, e, "qm.scorecards.manage", true, entitlement.NoLicense)
	})

	t.Run("R11/qm_admin_is_not_account_admin", func(t *testing.T) {
		e := acct.Compile(withRoles(holds("essentials", "qm"), "qm:admin"))
		permIs(t, e, "qm.users.manage", true, entitlement.OK)
		permIs(t, e, "account.settings.edit", true, entitlement.PermissionDenied)
		permIs(t, e, "account.users.manage", true, entitlement.PermissionDenied)
	})

	t.Run("R11/account_roles", func(t *testing.T) {
		permIs(t, acct.Compile(withRoles(holds("essentials"), "account:owner")), "account.settings.edit", true, entitlement.OK)
		permIs(t, acct.Compile(withRoles(holds("essentials"), "account:member")), "account.settings.edit", true, entitlement.PermissionDenied)
		permIs(t, acct.Compile(holds("essentials", "qm")), "account.settings.edit", true, entitlement.PermissionDenied)
	})

	t.Run("R11/default_roles_cannot_be_deleted", func(t *testing.T) {
		for _, r := range []string{"qm:admin", "qm:supervisor", "qm:agent", "qm:evaluator"} {
			if !acct.IsDefaultRole(ref(r)) {
				t.Errorf("IsDefaultRole(%s) = false, want true", r)
			}
		}
		if acct.IsDefaultRole(ref("qm:lead")) {
			t.Errorf("IsDefaultRole(qm:lead) = true, want false for a custom role")
		}
		if !acct.HasRole(ref("qm:lead")) {
			t.Errorf("HasRole(qm:lead) = false, want true")
		}
		if acct.IsDefaultRole(ref("qm:nobody")) || acct.HasRole(ref("qm:nobody")) {
			t.Errorf("an unknown role is reported as existing")
		}
		// Redefining a default role's permissions keeps it a default role.
		acct2 := newAccount(t, cat, entitlement.AccountInput{
			Subscriptions: subs(named("essentials", 1), named("qm", 1)),
			Roles:         []entitlement.RoleDef{{Service: "qm", Name: "agent", Permissions: []string{"qm.reports.view"}}},
		})
		if !acct2.IsDefaultRole(ref("qm:agent")) {
			t.Errorf("IsDefaultRole(qm:agent) after redefinition = false, want true")
		}
		e := acct2.Compile(holds("essentials", "qm"))
		permIs(t, e, "qm.reports.view", true, entitlement.OK)
		permIs(t, e, "qm.evaluations.view_own", true, entitlement.PermissionDenied)
	})

	t.Run("R11/custom_role_permissions", func(t *testing.T) {
		e := acct.Compile(withRoles(holds("essentials", "qm"), "qm:lead"))
		d := permIs(t, e, "qm.scorecards.manage", true, entitlement.OK)
		if got, want := d.Roles, []string{"qm:lead"}; !slices.Equal(got, want) {
			t.Errorf("Permission(qm.scorecards.manage).Roles = %v, want %v", got, want)
		}
		permIs(t, e, "qm.reports.view", true, entitlement.OK)
		permIs(t, e, "qm.evaluations.view_own", true, entitlement.PermissionDenied)
		// A custom QM role does not stand in for the QM license.
		permIs(t, acct.Compile(withRoles(holds("essentials"), "qm:lead")), "qm.scorecards.manage", true, entitlement.NoLicense)
	})

	t.Run("R11/R13/no_qm_role_grants_account_settings", func(t *testing.T) {
		bad := entitlement.RoleDef{Service: "qm", Name: "boss", Permissions: []string{"qm.reports.view", "account.settings.edit"}}
		if got, want := code(entitlement.ValidateRole(cat, bad)), seatkeeper.EInvalid; got != want {
			t.Errorf("ValidateRole(qm role with account.settings.edit) = %q, want %q", got, want)
		}
		_, err := entitlement.NewAccount(cat, entitlement.AccountInput{Roles: []entitlement.RoleDef{bad}})
		if got, want := code(err), seatkeeper.EInvalid; got != want {
			t.Errorf("NewAccount with that role = %q, want %q", got, want)
		}
		if err := entitlement.ValidateRole(cat, in.Roles[0]); err != nil {
			t.Errorf("ValidateRole(qm:lead) = %v, want nil", err)
		}
		for _, bad := range []entitlement.RoleDef{
			{Service: "nope", Name: "x"},
			{Service: "qm", Name: "x", Permissions: []string{"qm.no_such_permission"}},
		} {
			if got, want := code(entitlement.ValidateRole(cat, bad)), seatkeeper.EInvalid; got != want {
				t.Errorf("ValidateRole(%+v) = %q, want %q", bad, got, want)
			}
		}
	})
}

func TestR13_AnalysisSetting(t *testing.T) {
	cat := preset(t, "contact-center")
	qmFeatures := ccAddonFeatures(t, cat, "qm")
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprintf("R13/analyze_recordings=%v", on), func(t *testing.T) {
			acct := newAccount(t, cat, entitlement.AccountInput{
				Subscriptions: subs(named("essentials", 10), named("qm", 10)),
				Settings:      map[string]bool{"qm.analyze_recordings": on},
			})
			e := acct.Compile(holds("essentials", "qm"))
			for _, f := range qmFeatures {
				want := entitlement.OK
				if f == "qm.analysis" && !on {
					want = entitlement.SettingDisabled
				}
				checkIs(t, e, f, true, want)
			}
			// No license comes before the setting.
			checkIs(t, acct.Compile(holds("essentials")), "qm.analysis", true, entitlement.NoLicense)
			// Another switch does not stand in for this one.
			if !on {
				acct := newAccount(t, cat, entitlement.AccountInput{
					Subscriptions: subs(named("essentials", 10), named("qm", 10)),
					Settings:      map[string]bool{"qm.track_silence": true, "qm.screen_recording": true},
				})
				checkIs(t, acct.Compile(holds("essentials", "qm")), "qm.analysis", true, entitlement.SettingDisabled)
			}
		})
	}
}

// SPEC §1: a subscription grants within its term; the compilation says
// until when it holds; an ended term takes no new seat, one to come does.
func TestSubscriptionTerm(t *testing.T) {
	cat := preset(t, "contact-center")
	start, end := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC)
	premium := named("premium", 5)
	premium.StartsAt, premium.EndsAt = start, end
	for _, c := range []struct {
		at      time.Time
		allowed bool
		until   time.Time
		assign  string // error code of a new seat
	}{
		{start.Add(-time.Hour), false, start, ""},
		{start, true, end, ""},
		{end.Add(-time.Nanosecond), true, end, ""},
		{end, false, time.Time{}, "conflict"},
	} {
		acct := newAccount(t, cat, entitlement.AccountInput{Subscriptions: subs(premium), At: c.at})
		if d := acct.Compile(holds("premium")).Check("channel.email", false); d.Allowed != c.allowed {
			t.Errorf("at %v: %+v, want allowed %v", c.at, d, c.allowed)
		}
		if !acct.ValidUntil().Equal(c.until) || acct.Current(c.until.Add(-time.Nanosecond)) != true || (!c.until.IsZero() && acct.Current(c.until)) {
			t.Errorf("at %v: valid until %v, want %v", c.at, acct.ValidUntil(), c.until)
		}
		if got := code(acct.CanAssign(holds(), "premium")); got != c.assign {
			t.Errorf("at %v: a new seat: %q, want %q", c.at, got, c.assign)
		}
		if acct.InForce("premium", c.at) != c.allowed {
			t.Errorf("at %v: InForce %v, want %v", c.at, !c.allowed, c.allowed)
		}
	}
}
