package catalog_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/seatkeeper/seatkeeper/catalog"
)

// customYAML is a small valid catalog exercising includes, hierarchical
// grants, coverage, settings, quantity licenses and a service.
const customYAML = `
name: shop
version: "7"
title: A small shop
features:
  chat: Chat
  email: Email
  qm: Quality management
  qm.evaluations: Evaluations
  qm.evaluations.calibrate: Calibration sessions
  qm.analysis:
    description: Analysis of recordings
    setting: qm.analyze_recordings
  qmx: Not below qm
  wfm: Workforce management
  wfm.scheduling: Scheduling
  bot: Virtual agent
licenses:
  basic:
    kind: plan
    models: [named, concurrent]
    grants: [chat]
  pro:
    kind: plan
    models: [named, concurrent]
    includes: [basic]
    grants: [email]
    storage_gb: {named: 20, concurrent: 30}
  elite:
    title: Elite
    kind: plan
    models: [named, concurrent]
    includes: [pro, qm, wfm]
    coverage: [wfm]
  qm:
    kind: addon
    requires_one_of: [basic, pro, elite]
    grants: [qm]
  wfm:
    kind: addon
    requires_one_of: [basic, pro, elite]
    grants: [wfm]
    includes: [qm]
    max_per_account: 16
  bot:
    kind: addon
    scope: account
    sale: not_for_sale
    grants: [bot]
  storage:
    kind: addon
    scope: quantity
    unit: GB
    storage: true
services:
  qm:
    title: Quality management
    requires: qm
    default_role: agent
    permissions:
      qm.view: View
      qm.score: Score
    roles:
      agent:
        permissions: [qm.view]
        licenses: [qm]
      lead:
        description: Team lead
        permissions: [qm.view, qm.score]
`

func loadCustom(t *testing.T) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Load("custom.yaml", []byte(customYAML))
	if err != nil {
		t.Fatalf("Load(custom.yaml):\n%v", err)
	}
	return cat
}

func license(t *testing.T, cat *catalog.Catalog, key string) *catalog.License {
	t.Helper()
	lic, ok := cat.License(key)
	if !ok {
		t.Fatalf("catalog %s has no license %q", cat.Name, key)
	}
	return lic
}

// licenseKeys returns the keys of the licenses in b, in catalog order.
func licenseKeys(cat *catalog.Catalog, b catalog.Bits) []string {
	var out []string
	b.Each(func(i int) { out = append(out, cat.Licenses[i].Key) })
	return out
}

// featureKeys returns the keys of the features in b, in catalog order.
func featureKeys(cat *catalog.Catalog, b catalog.Bits) []string {
	var out []string
	b.Each(func(i int) { out = append(out, cat.Features[i].Key) })
	return out
}

func TestLoadCustomHeader(t *testing.T) {
	cat := loadCustom(t)
	if got, want := cat.Name, "shop"; got != want {
		t.Errorf("Name = %q, want %q", got, want)
	}
	if got, want := cat.Version, "7"; got != want {
		t.Errorf("Version = %q, want %q", got, want)
	}
	if got, want := cat.Title, "A small shop"; got != want {
		t.Errorf("Title = %q, want %q", got, want)
	}
	if got, want := len(cat.Features), 10; got != want {
		t.Errorf("len(Features) = %d, want %d", got, want)
	}
	if got, want := len(cat.Licenses), 7; got != want {
		t.Errorf("len(Licenses) = %d, want %d", got, want)
	}
}

func TestLoadCustomIndexes(t *testing.T) {
	cat := loadCustom(t)
	for i, f := range cat.Features {
		if got, want := f.Index, i; got != want {
			t.Errorf("feature %s: Index = %d, want %d", f.Key, got, want)
		}
		if got, want := cat.FeatureIndex(f.Key), i; got != want {
			t.Errorf("FeatureIndex(%s) = %d, want %d", f.Key, got, want)
		}
		if p, ok := cat.Feature(f.Key); !ok || p != &cat.Features[i] {
			t.Errorf("Feature(%s) = %p, %v, want &Features[%d]", f.Key, p, ok, i)
		}
	}
	for i, l := range cat.Licenses {
		if got, want := l.Index, i; got != want {
			t.Errorf("license %s: Index = %d, want %d", l.Key, got, want)
		}
		if got, want := cat.LicenseIndex(l.Key), i; got != want {
			t.Errorf("LicenseIndex(%s) = %d, want %d", l.Key, got, want)
		}
	}
	for i, p := range cat.Permissions {
		if got, want := p.Index, i; got != want {
			t.Errorf("permission %s: Index = %d, want %d", p.Key, got, want)
		}
		if got, want := cat.PermissionIndex(p.Key), i; got != want {
			t.Errorf("PermissionIndex(%s) = %d, want %d", p.Key, got, want)
		}
	}
	if got, want := cat.FeatureIndex("nope"), -1; got != want {
		t.Errorf("FeatureIndex(nope) = %d, want %d", got, want)
	}
	if got, want := cat.LicenseIndex("nope"), -1; got != want {
		t.Errorf("LicenseIndex(nope) = %d, want %d", got, want)
	}
	if got, want := cat.PermissionIndex("nope"), -1; got != want {
		t.Errorf("PermissionIndex(nope) = %d, want %d", got, want)
	}
	if _, ok := cat.Feature("nope"); ok {
		t.Error("Feature(nope) found")
	}
	if _, ok := cat.License("nope"); ok {
		t.Error("License(nope) found")
	}
	if _, ok := cat.Service("nope"); ok {
		t.Error("Service(nope) found")
	}
}

func TestLoadCustomLicenseFields(t *testing.T) {
	cat := loadCustom(t)
	for _, tc := range []struct {
		key    string
		kind   catalog.Kind
		scope  catalog.Scope
		sale   catalog.Sale
		models []catalog.Model
	}{
		// Omitted scope, sale and models default to user, active and named.
		{"basic", catalog.KindPlan, catalog.ScopeUser, catalog.SaleActive, []catalog.Model{catalog.ModelNamed, catalog.ModelConcurrent}},
		{"qm", catalog.KindAddon, catalog.ScopeUser, catalog.SaleActive, []catalog.Model{catalog.ModelNamed}},
		{"bot", catalog.KindAddon, catalog.ScopeAccount, catalog.SaleNotForSale, []catalog.Model{catalog.ModelNamed}},
		{"storage", catalog.KindAddon, catalog.ScopeQuantity, catalog.SaleActive, []catalog.Model{catalog.ModelNamed}},
	} {
		t.Run(tc.key, func(t *testing.T) {
			lic := license(t, cat, tc.key)
			if got, want := lic.Kind, tc.kind; got != want {
				t.Errorf("Kind = %v, want %v", got, want)
			}
			if got, want := lic.Scope, tc.scope; got != want {
				t.Errorf("Scope = %v, want %v", got, want)
			}
			if got, want := lic.Sale, tc.sale; got != want {
				t.Errorf("Sale = %v, want %v", got, want)
			}
			if got, want := lic.Models, tc.models; !slices.Equal(got, want) {
				t.Errorf("Models = %v, want %v", got, want)
			}
		})
	}

	pro := license(t, cat, "pro")
	if got, want := pro.StorageGB[catalog.ModelNamed], 20; got != want {
		t.Errorf("pro StorageGB[named] = %d, want %d", got, want)
	}
	if got, want := pro.StorageGB[catalog.ModelConcurrent], 30; got != want {
		t.Errorf("pro StorageGB[concurrent] = %d, want %d", got, want)
	}
	if got, want := license(t, cat, "wfm").MaxPerAccount, 16; got != want {
		t.Errorf("wfm MaxPerAccount = %d, want %d", got, want)
	}
	if got, want := license(t, cat, "basic").MaxPerAccount, 0; got != want {
		t.Errorf("basic MaxPerAccount = %d, want %d (no limit)", got, want)
	}
	st := license(t, cat, "storage")
	if got, want := st.Unit, "GB"; got != want {
		t.Errorf("storage Unit = %q, want %q", got, want)
	}
	if !st.Storage {
		t.Error("storage: Storage = false, want true")
	}
	if got, want := license(t, cat, "elite").Title, "Elite"; got != want {
		t.Errorf("elite Title = %q, want %q", got, want)
	}
	qm := license(t, cat, "qm")
	if got, want := licenseKeys(cat, qm.RequiresSet), []string{"basic", "pro", "elite"}; !slices.Equal(got, want) {
		t.Errorf("qm RequiresSet = %v, want %v", got, want)
	}
	if got, want := qm.RequiresOneOf, []string{"basic", "pro", "elite"}; !slices.Equal(got, want) {
		t.Errorf("qm RequiresOneOf = %v, want %v", got, want)
	}
	if !cat.HasPlans() {
		t.Error("HasPlans() = false, want true")
	}
	var plans []string
	for _, p := range cat.Plans() {
		plans = append(plans, p.Key)
	}
	if got, want := plans, []string{"basic", "pro", "elite"}; !slices.Equal(got, want) {
		t.Errorf("Plans() = %v, want %v", got, want)
	}
	f, _ := cat.Feature("qm.analysis")
	if got, want := f.Setting, "qm.analyze_recordings"; got != want {
		t.Errorf("qm.analysis Setting = %q, want %q", got, want)
	}
	if got, want := f.Description, "Analysis of recordings"; got != want {
		t.Errorf("qm.analysis Description = %q, want %q", got, want)
	}
}

func TestLoadCustomClosures(t *testing.T) {
	cat := loadCustom(t)
	for _, tc := range []struct {
		license string
		closure []string // Closure, in catalog order
		cover   []string // ClosureCover
	}{
		{"basic", []string{"basic"}, []string{"basic"}},
		{"pro", []string{"basic", "pro"}, []string{"basic", "pro"}},
		// Includes are transitive: elite includes pro, which includes basic.
		// Under concurrent, elite leaves out its coverage license wfm, and
		// with it qm reached through wfm — but qm is a direct include too.
		{"elite", []string{"basic", "pro", "elite", "qm", "wfm"}, []string{"basic", "pro", "elite", "qm"}},
		{"wfm", []string{"qm", "wfm"}, []string{"qm", "wfm"}},
		{"storage", []string{"storage"}, []string{"storage"}},
	} {
		t.Run(tc.license, func(t *testing.T) {
			lic := license(t, cat, tc.license)
			if got, want := licenseKeys(cat, lic.Closure), tc.closure; !slices.Equal(got, want) {
				t.Errorf("Closure = %v, want %v", got, want)
			}
			if got, want := licenseKeys(cat, lic.ClosureCover), tc.cover; !slices.Equal(got, want) {
				t.Errorf("ClosureCover = %v, want %v", got, want)
			}
		})
	}
}

func TestLoadCustomFeatureSets(t *testing.T) {
	cat := loadCustom(t)
	qmAll := []string{"qm", "qm.evaluations", "qm.evaluations.calibrate", "qm.analysis"}
	for _, tc := range []struct {
		license string
		grants  []string // GrantSet
		all     []string // FeatureSet
		cover   []string // FeatureCover
	}{
		{"basic", []string{"chat"}, []string{"chat"}, []string{"chat"}},
		{"pro", []string{"email"}, []string{"chat", "email"}, []string{"chat", "email"}},
		// Granting qm grants every feature below it, but not qmx, which
		// only shares its first letters.
		{"qm", qmAll, qmAll, qmAll},
		{"wfm", []string{"wfm", "wfm.scheduling"}, append(slices.Clone(qmAll), "wfm", "wfm.scheduling"), append(slices.Clone(qmAll), "wfm", "wfm.scheduling")},
		{"elite", nil,
			append(append([]string{"chat", "email"}, qmAll...), "wfm", "wfm.scheduling"),
			append([]string{"chat", "email"}, qmAll...)},
		{"storage", nil, nil, nil},
	} {
		t.Run(tc.license, func(t *testing.T) {
			lic := license(t, cat, tc.license)
			if got, want := featureKeys(cat, lic.GrantSet), tc.grants; !slices.Equal(got, want) {
				t.Errorf("GrantSet = %v, want %v", got, want)
			}
			if got, want := featureKeys(cat, lic.FeatureSet), tc.all; !slices.Equal(got, want) {
				t.Errorf("FeatureSet = %v, want %v", got, want)
			}
			if got, want := featureKeys(cat, lic.FeatureCover), tc.cover; !slices.Equal(got, want) {
				t.Errorf("FeatureCover = %v, want %v", got, want)
			}
		})
	}
}

func TestLoadCustomServices(t *testing.T) {
	cat := loadCustom(t)
	var keys []string
	for _, s := range cat.Services {
		keys = append(keys, s.Key)
	}
	if got, want := keys, []string{"account", "qm"}; !slices.Equal(got, want) {
		t.Fatalf("services = %v, want %v (account built in, first)", got, want)
	}
	qm, ok := cat.Service("qm")
	if !ok {
		t.Fatal("no service qm")
	}
	if qm.BuiltIn {
		t.Error("qm: BuiltIn = true")
	}
	if got, want := qm.Requires, "qm"; got != want {
		t.Errorf("qm Requires = %q, want %q", got, want)
	}
	if got, want := qm.DefaultRole, "agent"; got != want {
		t.Errorf("qm DefaultRole = %q, want %q", got, want)
	}
	if got, want := qm.Permissions, []string{"qm.view", "qm.score"}; !slices.Equal(got, want) {
		t.Errorf("qm Permissions = %v, want %v", got, want)
	}
	if got, want := len(qm.Roles), 2; got != want {
		t.Fatalf("qm has %d roles, want %d", got, want)
	}
	agent, lead := qm.Roles[0], qm.Roles[1]
	if got, want := agent.Name, "agent"; got != want {
		t.Errorf("qm role 0 = %q, want %q", got, want)
	}
	if got, want := agent.Licenses, []string{"qm"}; !slices.Equal(got, want) {
		t.Errorf("agent Licenses = %v, want %v", got, want)
	}
	if got, want := lead.Permissions, []string{"qm.view", "qm.score"}; !slices.Equal(got, want) {
		t.Errorf("lead Permissions = %v, want %v", got, want)
	}
	if got, want := lead.Description, "Team lead"; got != want {
		t.Errorf("lead Description = %q, want %q", got, want)
	}
	i := cat.PermissionIndex("qm.score")
	if i < 0 {
		t.Fatal("no permission qm.score")
	}
	if got, want := cat.Services[cat.Permissions[i].Service].Key, "qm"; got != want {
		t.Errorf("permission qm.score belongs to service %q, want %q", got, want)
	}
}

// TestAccountServiceBuiltIn: every catalog, even one with no services, has
// the account service with owner, admin and member (R11, R13).
func TestAccountServiceBuiltIn(t *testing.T) {
	minimal := "name: tiny\nversion: \"1\"\nfeatures:\n  chat: Chat\nlicenses:\n  basic:\n    kind: plan\n    grants: [chat]\n"
	cats := map[string]func(t *testing.T) *catalog.Catalog{
		"minimal": func(t *testing.T) *catalog.Catalog {
			cat, err := catalog.Load("tiny.yaml", []byte(minimal))
			if err != nil {
				t.Fatal(err)
			}
			return cat
		},
		"custom": loadCustom,
	}
	for _, n := range catalog.PresetNames {
		cats[n] = func(t *testing.T) *catalog.Catalog {
			cat, err := catalog.LoadPreset(n)
			if err != nil {
				t.Fatal(err)
			}
			return cat
		}
	}
	for name, load := range cats {
		t.Run(name, func(t *testing.T) {
			cat := load(t)
			acct, ok := cat.Service("account")
			if !ok {
				t.Fatal("no account service")
			}
			if !acct.BuiltIn {
				t.Error("account: BuiltIn = false")
			}
			if got, want := acct.Index, 0; got != want {
				t.Errorf("account Index = %d, want %d", got, want)
			}
			roles := map[string]catalog.Role{}
			var names []string
			for _, r := range acct.Roles {
				roles[r.Name] = r
				names = append(names, r.Name)
			}
			if got, want := names, []string{"owner", "admin", "member"}; !slices.Equal(got, want) {
				t.Fatalf("account roles = %v, want %v", got, want)
			}
			if !slices.Contains(roles["owner"].Permissions, "account.settings.edit") {
				t.Errorf("owner permissions %v lack account.settings.edit", roles["owner"].Permissions)
			}
			if !slices.Contains(roles["admin"].Permissions, "account.settings.edit") {
				t.Errorf("admin permissions %v lack account.settings.edit", roles["admin"].Permissions)
			}
			if got := roles["member"].Permissions; len(got) != 0 {
				t.Errorf("member permissions = %v, want none", got)
			}
			i := cat.PermissionIndex("account.settings.edit")
			if i < 0 {
				t.Fatal("no permission account.settings.edit")
			}
			if got, want := cat.Permissions[i].Service, 0; got != want {
				t.Errorf("account.settings.edit belongs to service %d, want 0", got)
			}
			// R13: no service role grants account.settings.edit.
			for _, s := range cat.Services[1:] {
				for _, r := range s.Roles {
					if slices.Contains(r.Permissions, "account.settings.edit") {
						t.Errorf("role %s of service %s grants account.settings.edit", r.Name, s.Key)
					}
				}
			}
		})
	}
}

func TestPresets(t *testing.T) {
	for _, name := range catalog.PresetNames {
		t.Run(name, func(t *testing.T) {
			cat, err := catalog.LoadPreset(name)
			if err != nil {
				t.Fatalf("LoadPreset(%s):\n%v", name, err)
			}
			if got, want := cat.Name, name; got != want {
				t.Errorf("Name = %q, want %q", got, want)
			}
			if cat.Version == "" {
				t.Error("Version is empty")
			}
			cached, ok := catalog.Preset(name)
			if !ok {
				t.Fatalf("Preset(%s) not found", name)
			}
			if got, want := cached.Name, name; got != want {
				t.Errorf("Preset(%s).Name = %q", name, got)
			}
			src, ok := catalog.PresetSource(name)
			if !ok {
				t.Fatalf("PresetSource(%s) not found", name)
			}
			again, err := catalog.Load(name+".yaml", src)
			if err != nil {
				t.Fatalf("Load(PresetSource(%s)):\n%v", name, err)
			}
			if got, want := len(again.Licenses), len(cat.Licenses); got != want {
				t.Errorf("reloaded source has %d licenses, want %d", got, want)
			}
		})
	}
	if _, err := catalog.LoadPreset("nope"); err == nil {
		t.Error("LoadPreset(nope) succeeded")
	}
	if _, ok := catalog.Preset("nope"); ok {
		t.Error("Preset(nope) found")
	}
	if _, ok := catalog.PresetSource("nope"); ok {
		t.Error("PresetSource(nope) found")
	}
	set := catalog.NewSet()
	if got, want := set.Names(), []string{"contact-center", "wfo"}; !slices.Equal(got, want) {
		t.Errorf("NewSet().Names() = %v, want %v", got, want)
	}
}

// TestContactCenterPreset checks the tiers of SPEC §3.1 (R8, R9, R10).
func TestContactCenterPreset(t *testing.T) {
	cat, err := catalog.LoadPreset("contact-center")
	if err != nil {
		t.Fatal(err)
	}
	elite := license(t, cat, "elite")
	if got, want := licenseKeys(cat, elite.Closure), []string{"essentials", "premium", "elite", "ai_expert_assist", "qm", "wfm"}; !slices.Equal(got, want) {
		t.Errorf("elite Closure = %v, want %v", got, want)
	}
	// R9: under concurrent Elite, QM and WFM need coverage; AI Expert Assist does not.
	if got, want := licenseKeys(cat, elite.ClosureCover), []string{"essentials", "premium", "elite", "ai_expert_assist"}; !slices.Equal(got, want) {
		t.Errorf("elite ClosureCover = %v, want %v", got, want)
	}
	qmEval := cat.FeatureIndex("qm.evaluations")
	if qmEval < 0 {
		t.Fatal("no feature qm.evaluations")
	}
	if !license(t, cat, "qm").FeatureSet.Has(qmEval) {
		t.Error("the qm add-on does not grant qm.evaluations")
	}
	if !elite.FeatureSet.Has(qmEval) {
		t.Error("elite does not grant qm.evaluations")
	}
	if elite.FeatureCover.Has(qmEval) {
		t.Error("concurrent elite grants qm.evaluations without coverage")
	}
	if got, want := license(t, cat, "virtual_agent").Scope, catalog.ScopeAccount; got != want {
		t.Errorf("virtual_agent Scope = %v, want %v", got, want)
	}
	if got, want := elite.StorageGB[catalog.ModelConcurrent], 45; got != want {
		t.Errorf("elite concurrent storage = %d GB, want %d", got, want)
	}
	f, _ := cat.Feature("qm.analysis")
	if f == nil || f.Setting != "qm.analyze_recordings" {
		t.Errorf("qm.analysis = %+v, want gated on qm.analyze_recordings (R13)", f)
	}
}

// TestWFOPreset checks SPEC §3.2 and R16.
func TestWFOPreset(t *testing.T) {
	cat, err := catalog.LoadPreset("wfo")
	if err != nil {
		t.Fatal(err)
	}
	if cat.HasPlans() {
		t.Error("wfo HasPlans() = true, want false")
	}
	qm := license(t, cat, "qm")
	if got, want := licenseKeys(cat, qm.Closure), []string{"cr", "qm"}; !slices.Equal(got, want) {
		t.Errorf("qm Closure = %v, want %v", got, want)
	}
	if !qm.FeatureSet.Has(cat.FeatureIndex("record_audio")) {
		t.Error("qm does not grant cr's record_audio")
	}
	if got, want := license(t, cat, "wfo_access").MaxPerAccount, 5; got != want {
		t.Errorf("wfo_access MaxPerAccount = %d, want %d", got, want)
	}
	if got, want := license(t, cat, "performance_coaching").Sale, catalog.SaleNotForSale; got != want {
		t.Errorf("performance_coaching Sale = %v, want %v", got, want)
	}
	if got, want := license(t, cat, "data_management").Sale, catalog.SaleRetired; got != want {
		t.Errorf("data_management Sale = %v, want %v", got, want)
	}
	if got, want := license(t, cat, "desktop_analytics").RequiresOneOf, []string{"cr", "qm", "wfm"}; !slices.Equal(got, want) {
		t.Errorf("desktop_analytics RequiresOneOf = %v, want %v", got, want)
	}
	r, a := license(t, cat, "insights_reader"), license(t, cat, "insights_author")
	if r.ExclusiveGroup == "" || r.ExclusiveGroup != a.ExclusiveGroup {
		t.Errorf("insights groups = %q, %q, want one shared group", r.ExclusiveGroup, a.ExclusiveGroup)
	}
	if !r.RoleRequired || !a.RoleRequired {
		t.Error("insights licenses are not RoleRequired")
	}
	wfo, ok := cat.Service("wfo")
	if !ok {
		t.Fatal("no service wfo")
	}
	links := map[string][]string{}
	for _, r := range wfo.Roles {
		links[r.Name] = r.Licenses
	}
	for role, want := range map[string][]string{
		"agent": {"qm"}, "evaluator": {"wfo_access"}, "supervisor": {"wfo_access"}, "administrator": {"administration"},
	} {
		if got := links[role]; !slices.Equal(got, want) {
			t.Errorf("wfo role %s links %v, want %v", role, got, want)
		}
	}
}

// TestMatrix checks the feature matrix of SPEC §8 on the contact-center preset.
func TestMatrix(t *testing.T) {
	cat, err := catalog.LoadPreset("contact-center")
	if err != nil {
		t.Fatal(err)
	}
	m := cat.Matrix()
	if got, want := m.Columns, []string{"essentials", "premium", "elite"}; !slices.Equal(got, want) {
		t.Fatalf("Columns = %v, want %v", got, want)
	}
	if got, want := len(m.Rows), len(cat.Features); got != want {
		t.Fatalf("%d rows, want one per feature (%d)", got, want)
	}
	rows := map[string][]string{}
	for i, r := range m.Rows {
		if got, want := r.Feature, cat.Features[i].Key; got != want {
			t.Errorf("row %d = %s, want %s (catalog order)", i, got, want)
		}
		rows[r.Feature] = r.Cells
	}
	for feature, want := range map[string][]string{
		"channel.voice":    {"yes", "yes", "yes"},
		"channel.email":    {"no", "yes", "yes"},
		"qm.evaluations":   {"addon", "addon", "yes"},
		"ai_expert_assist": {"addon", "addon", "yes"},
		"virtual_agent":    {"addon", "addon", "addon"},
	} {
		if got := rows[feature]; !slices.Equal(got, want) {
			t.Errorf("row %s = %v, want %v", feature, got, want)
		}
	}
	var buf bytes.Buffer
	if err := m.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	if got, want := lines[0], "feature,essentials,premium,elite"; got != want {
		t.Errorf("CSV header = %q, want %q", got, want)
	}
	if got, want := len(lines), len(cat.Features)+1; got != want {
		t.Errorf("CSV has %d lines, want %d", got, want)
	}

	wfo, err := catalog.LoadPreset("wfo")
	if err != nil {
		t.Fatal(err)
	}
	// Without plans the columns are the licenses of kind type.
	if got, want := len(wfo.Matrix().Columns), len(wfo.Licenses); got != want {
		t.Errorf("wfo matrix has %d columns, want %d", got, want)
	}
}

func TestProblemsError(t *testing.T) {
	ps := catalog.Problems{
		{File: "a.yaml", Line: 3, Col: 5, Message: "first"},
		{File: "a.yaml", Line: 10, Col: 1, Message: "second"},
	}
	if got, want := ps.Error(), "a.yaml:3:5: first\na.yaml:10:1: second"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := ps[0].String(), "a.yaml:3:5: first"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// TestLoadFileName: problems carry the file name exactly as given to Load.
func TestLoadFileName(t *testing.T) {
	for _, name := range []string{"x.yaml", "/abs/dir/cat.yml", "with space.yaml", ""} {
		t.Run(name, func(t *testing.T) {
			_, err := catalog.Load(name, []byte("name: x\nbogus: 1\n"))
			var ps catalog.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("error %T (%v), want catalog.Problems", err, err)
			}
			for _, p := range ps {
				if got, want := p.File, name; got != want {
					t.Errorf("File = %q, want %q", got, want)
				}
			}
			if got, want := len(ps), 4; got != want {
				t.Errorf("%d problems, want %d (no version, features, licenses; bogus):\n%v", got, want, err)
			}
		})
	}
}
