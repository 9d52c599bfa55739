package entitlement_test

import (
	"testing"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/entitlement"
)

// TestR9_CoverageOnlyForPoolMembers: a coverage seat is for members of the
// concurrent Elite pool; a user on another plan cannot take one.
func TestR9_CoverageOnlyForPoolMembers(t *testing.T) {
	cat := preset(t, "contact-center")
	acct := newAccount(t, cat, entitlement.AccountInput{Subscriptions: subs(named("essentials", 10), concurrent("elite", 5))})
	if got, want := code(acct.CanAssign(holds("essentials"), "qm")), seatkeeper.ESeatLimit; got != want {
		t.Errorf("qm for an essentials user without a qm subscription: %q, want %q", got, want)
	}
	if err := acct.CanAssign(holds("elite"), "qm"); err != nil {
		t.Errorf("qm coverage for an Elite pool member: %v", err)
	}
}

// TestR15_RoleLinkedToUnsubscribedLicense: a role linked to a license the
// account does not subscribe gives neither features nor permissions.
func TestR15_RoleLinkedToUnsubscribedLicense(t *testing.T) {
	cat := preset(t, "wfo")
	none := newAccount(t, cat, entitlement.AccountInput{})
	e := none.Compile(withRoles(holds(), "wfo:agent"))
	permIs(t, e, "wfo.contacts.view", true, entitlement.PermissionDenied)

	bought := newAccount(t, cat, entitlement.AccountInput{Subscriptions: subs(named("qm", 10))})
	d := permIs(t, bought.Compile(withRoles(holds(), "wfo:agent")), "wfo.contacts.view", true, entitlement.OK)
	if got, want := d.Scope, entitlement.ScopeOwn; got != want {
		t.Errorf("agent with only the qm data license: scope %q, want %q (R16)", got, want)
	}
}
