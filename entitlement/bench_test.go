package entitlement_test

import (
	"testing"

	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/entitlement"
)

// benchHolding is a realistic contact-center user: a named Premium seat
// with the QM add-on, a QM supervisor and an account admin.
func benchHolding(tb testing.TB) (*entitlement.Account, entitlement.Holding) {
	cat, _ := catalog.Preset("contact-center")
	acct, err := entitlement.NewAccount(cat, entitlement.AccountInput{
		Subscriptions: []entitlement.Subscription{
			{License: "premium", Model: catalog.ModelNamed, Quantity: 100},
			{License: "qm", Model: catalog.ModelNamed, Quantity: 100},
			{License: "virtual_agent", Model: catalog.ModelNamed, Quantity: 1},
		},
		Settings: map[string]bool{"qm.analyze_recordings": true},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return acct, entitlement.Holding{
		Active:   true,
		Licenses: []string{"premium", "qm"},
		Roles:    []entitlement.RoleRef{{Service: "qm", Role: "supervisor"}, {Service: "account", Role: "admin"}},
	}
}

func BenchmarkCheck(b *testing.B) {
	acct, h := benchHolding(b)
	e := acct.Compile(h)
	if d := e.Check("qm.evaluations", false); !d.Allowed {
		b.Fatalf("setup: %+v", d)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !e.Check("qm.evaluations", false).Allowed {
			b.Fatal("refused")
		}
	}
}

func BenchmarkPermission(b *testing.B) {
	acct, h := benchHolding(b)
	e := acct.Compile(h)
	b.ReportAllocs()
	for b.Loop() {
		if !e.Permission("qm.evaluations.score", false).Allowed {
			b.Fatal("refused")
		}
	}
}

func BenchmarkAccess(b *testing.B) {
	acct, h := benchHolding(b)
	e := acct.Compile(h)
	b.ReportAllocs()
	for b.Loop() {
		if len(e.Access(false).Features) == 0 {
			b.Fatal("no access")
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	acct, h := benchHolding(b)
	b.ReportAllocs()
	for b.Loop() {
		acct.Compile(h)
	}
}

func BenchmarkCompileAndAccess(b *testing.B) {
	acct, h := benchHolding(b)
	b.ReportAllocs()
	for b.Loop() {
		acct.Compile(h).Access(false)
	}
}

// BenchmarkAccessBuild is what the first Access on a compiled holding costs
// (later ones are memoized: BenchmarkAccess).
func BenchmarkAccessBuild(b *testing.B) {
	acct, h := benchHolding(b)
	e := acct.Compile(h)
	b.ReportAllocs()
	for b.Loop() {
		if len(e.BuildAccess(false).Features) == 0 {
			b.Fatal("no access")
		}
	}
}
