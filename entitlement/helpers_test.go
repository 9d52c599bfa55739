package entitlement_test

import (
	"slices"
	"testing"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/entitlement"
)

// preset returns an embedded preset catalog (SPEC §3).
func preset(t testing.TB, name string) *catalog.Catalog {
	t.Helper()
	c, ok := catalog.Preset(name)
	if !ok {
		t.Fatalf("no preset %q", name)
	}
	return c
}

// newAccount compiles an account and fails the test if that is refused.
func newAccount(t testing.TB, cat *catalog.Catalog, in entitlement.AccountInput) *entitlement.Account {
	t.Helper()
	a, err := entitlement.NewAccount(cat, in)
	if err != nil {
		t.Fatalf("NewAccount: %v", err)
	}
	return a
}

func named(license string, qty int) entitlement.Subscription {
	return entitlement.Subscription{License: license, Model: catalog.ModelNamed, Quantity: qty}
}

func concurrent(license string, qty int) entitlement.Subscription {
	return entitlement.Subscription{License: license, Model: catalog.ModelConcurrent, Quantity: qty}
}

func subs(s ...entitlement.Subscription) []entitlement.Subscription { return s }

// holds is an active user with these direct assignments.
func holds(licenses ...string) entitlement.Holding {
	return entitlement.Holding{Active: true, Licenses: licenses}
}

// withRoles adds roles, written "service:role", to a holding.
func withRoles(h entitlement.Holding, roles ...string) entitlement.Holding {
	h.Roles = append([]entitlement.RoleRef(nil), h.Roles...)
	for _, r := range roles {
		h.Roles = append(h.Roles, ref(r))
	}
	return h
}

func ref(s string) entitlement.RoleRef {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return entitlement.RoleRef{Service: s[:i], Role: s[i+1:]}
		}
	}
	panic("role must be written service:role: " + s)
}

// code returns the stable error code of err ("" for nil).
func code(err error) string { return seatkeeper.ErrorCode(err) }

// mustFeature fails the test when the catalog lacks a feature the SPEC
// names: a missing key would make every "refused" expectation pass vacuously.
func mustFeature(t testing.TB, cat *catalog.Catalog, key string) {
	t.Helper()
	if _, ok := cat.Feature(key); !ok {
		t.Fatalf("catalog %s has no feature %q", cat.Name, key)
	}
}

func mustLicense(t testing.TB, cat *catalog.Catalog, key string) {
	t.Helper()
	if _, ok := cat.License(key); !ok {
		t.Fatalf("catalog %s has no license %q", cat.Name, key)
	}
}

// allowedFeatures returns the features of the catalog for which Check
// allows the user, in catalog order.
func allowedFeatures(e *entitlement.Entitlements, cat *catalog.Catalog, signedIn bool) []string {
	var out []string
	for _, f := range cat.Features {
		if e.Check(f.Key, signedIn).Allowed {
			out = append(out, f.Key)
		}
	}
	return out
}

func accessFeatures(a entitlement.Access) []string {
	var out []string
	for _, g := range a.Features {
		out = append(out, g.Feature)
	}
	return out
}

func hasRole(rs []entitlement.RoleRef, s string) bool { return slices.Contains(rs, ref(s)) }

// checkIs asserts the outcome of one feature check.
func checkIs(t *testing.T, e *entitlement.Entitlements, feature string, signedIn bool, want entitlement.Code) entitlement.Decision {
	t.Helper()
	d := e.Check(feature, signedIn)
	if got := d.Code; got != want {
		t.Errorf("Check(%q, signedIn=%v).Code = %q, want %q (via %v)", feature, signedIn, got, want, d.Via)
	}
	if got, want := d.Allowed, want == entitlement.OK; got != want {
		t.Errorf("Check(%q, signedIn=%v).Allowed = %v, want %v", feature, signedIn, got, want)
	}
	return d
}

// permIs asserts the outcome of one permission check.
func permIs(t *testing.T, e *entitlement.Entitlements, perm string, signedIn bool, want entitlement.Code) entitlement.Decision {
	t.Helper()
	d := e.Permission(perm, signedIn)
	if got := d.Code; got != want {
		t.Errorf("Permission(%q, signedIn=%v).Code = %q, want %q (roles %v)", perm, signedIn, got, want, d.Roles)
	}
	if got, want := d.Allowed, want == entitlement.OK; got != want {
		t.Errorf("Permission(%q, signedIn=%v).Allowed = %v, want %v", perm, signedIn, got, want)
	}
	return d
}
