package sqlstore_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

func provision(t *testing.T, s *sqlstore.Store, p seatkeeper.Provision) seatkeeper.ProvisionedUser {
	t.Helper()
	u, _, err := s.ProvisionUser(context.Background(), operator, p)
	if err != nil {
		t.Fatalf("ProvisionUser %+v: %v", p.User, err)
	}
	return u
}

func holds(u seatkeeper.User, license, source string) bool {
	return slices.Contains(u.Licenses, seatkeeper.HeldLicense{License: license, Source: source})
}

func TestProvisionUser(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		mustAccount(t, s, "acme", "contact-center")
		mustSubscribe(t, s, "acme", "premium", "named", 1)
		mustSubscribe(t, s, "acme", "qm", "named", 5)
		attrs := json.RawMessage(`{"name":{"givenName":"Ann"}}`)
		// Add-on listed before the plan: the plan goes first.
		u := provision(t, s, seatkeeper.Provision{
			User:       seatkeeper.User{Account: "acme", UserName: "Ann@Acme.example", Active: true},
			Attributes: attrs,
			Grants:     &seatkeeper.Grants{Licenses: []string{"qm", "premium"}, Roles: []string{"qm:supervisor"}},
		})
		if u.ID == "" || !slices.Equal(u.Granted.Licenses, []string{"premium", "qm"}) || !slices.Equal(u.Granted.Roles, []string{"qm:supervisor"}) {
			t.Fatalf("provisioned %+v", u)
		}
		got, err := s.ProvisionedUser(ctx, "acme", u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ETag() != u.ETag() {
			t.Errorf("ETag read %s, written %s", got.ETag(), u.ETag())
		}
		if string(got.Attributes) != string(attrs) {
			t.Errorf("attributes %s", got.Attributes)
		}
		t.Run("MatchCaseInsensitive", func(t *testing.T) {
			list, total, err := s.ProvisionedUsers(ctx, "acme", seatkeeper.UserMatch{UserName: "ann@acme.EXAMPLE"}, 0, 10)
			if err != nil || total != 1 || len(list) != 1 || list[0].ID != u.ID {
				t.Fatalf("list %+v total %d err %v", list, total, err)
			}
			list, total, err = s.ProvisionedUsers(ctx, "acme", seatkeeper.UserMatch{UserName: "nobody"}, 0, 10)
			if err != nil || total != 0 || len(list) != 0 {
				t.Fatalf("unknown userName: %+v %d %v", list, total, err)
			}
		})
		t.Run("ErrUniqueUserName", func(t *testing.T) {
			_, _, err := s.ProvisionUser(ctx, operator, seatkeeper.Provision{User: seatkeeper.User{Account: "acme", UserName: "ANN@acme.example", Active: true}})
			if got, want := code(err), seatkeeper.EConflict; got != want {
				t.Fatalf("duplicate userName: %q, want %q", got, want)
			}
		})
		t.Run("ErrPrecondition", func(t *testing.T) {
			_, _, err := s.ProvisionUser(ctx, operator, seatkeeper.Provision{User: got.User, IfMatch: `W/"stale"`})
			if got, want := code(err), seatkeeper.EPrecondition; got != want {
				t.Fatalf("stale If-Match: %q, want %q", got, want)
			}
		})
		t.Run("ErrSeatLimit", func(t *testing.T) {
			_, _, err := s.ProvisionUser(ctx, operator, seatkeeper.Provision{
				User:   seatkeeper.User{Account: "acme", UserName: "bob", Active: true},
				Grants: &seatkeeper.Grants{Licenses: []string{"premium"}},
			})
			if got, want := code(err), seatkeeper.ESeatLimit; got != want {
				t.Fatalf("second premium: %q, want %q", got, want)
			}
			if _, total, _ := s.ProvisionedUsers(ctx, "acme", seatkeeper.UserMatch{UserName: "bob"}, 0, 1); total != 0 {
				t.Errorf("a refused provisioning created the user")
			}
		})
		t.Run("ReplaceGrantsKeepsManual", func(t *testing.T) {
			mustAssign(t, s, "acme", u.ID, "qm") // manual too
			in := got.User
			out, _, err := s.ProvisionUser(ctx, operator, seatkeeper.Provision{User: in, Grants: &seatkeeper.Grants{Licenses: []string{"premium"}}})
			if err != nil {
				t.Fatal(err)
			}
			if holds(out.User, "qm", seatkeeper.SourceSCIM) || !holds(out.User, "qm", seatkeeper.SourceManual) || !holds(out.User, "premium", seatkeeper.SourceSCIM) {
				t.Errorf("after replacing the SCIM set: %+v", out.Licenses)
			}
			if len(out.Granted.Roles) != 0 {
				t.Errorf("SCIM roles not removed: %v", out.Granted.Roles)
			}
		})
		t.Run("DeactivateFreesSeats", func(t *testing.T) {
			in := got.User
			in.Active = false
			if _, _, err := s.ProvisionUser(ctx, operator, seatkeeper.Provision{User: in}); err != nil {
				t.Fatal(err)
			}
			if sum := summaryOf(t, s, "acme", "premium"); sum.Assigned != 0 {
				t.Errorf("R3: an inactive user holds a seat: %+v", sum)
			}
		})
	})
}

func TestGroupMappings(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		mustAccount(t, s, "acme", "contact-center")
		mustSubscribe(t, s, "acme", "premium", "named", 5)
		mustSubscribe(t, s, "acme", "qm", "named", 1)
		for _, id := range []string{"ann", "bob"} {
			mustUser(t, s, "acme", id)
		}
		g1, created, err := s.PutGroup(ctx, operator, seatkeeper.Group{Account: "acme", DisplayName: "Agents", Members: []string{"ann", "bob"}}, "")
		if err != nil || !created {
			t.Fatalf("PutGroup: %v", err)
		}
		g2, _, err := s.PutGroup(ctx, operator, seatkeeper.Group{Account: "acme", DisplayName: "Leads", Members: []string{"ann"}}, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range []string{g1.ID, g2.ID} {
			if _, _, err := s.PutGroupMapping(ctx, operator, "acme", seatkeeper.GroupMapping{Group: g, Licenses: []string{"premium"}, Roles: []string{"account:admin"}}); err != nil {
				t.Fatal(err)
			}
		}
		user := func(id string) seatkeeper.User {
			u, err := s.User(ctx, "acme", id)
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		if !holds(user("ann"), "premium", seatkeeper.SourceGroup) || !holds(user("bob"), "premium", seatkeeper.SourceGroup) {
			t.Fatalf("mapped licenses not given: %+v %+v", user("ann").Licenses, user("bob").Licenses)
		}
		t.Run("ErrSeatLimitAllOrNothing", func(t *testing.T) {
			_, _, err := s.PutGroupMapping(ctx, operator, "acme", seatkeeper.GroupMapping{Group: g1.ID, Licenses: []string{"premium", "qm"}})
			if got, want := code(err), seatkeeper.ESeatLimit; got != want {
				t.Fatalf("two members, one qm seat: %q, want %q", got, want)
			}
			if holds(user("ann"), "qm", seatkeeper.SourceGroup) {
				t.Errorf("a refused mapping gave qm")
			}
		})
		t.Run("TwoGroupsSameLicense", func(t *testing.T) {
			// ann leaves Agents but stays in Leads, which also maps premium.
			if _, _, err := s.PutGroup(ctx, operator, seatkeeper.Group{Account: "acme", ID: g1.ID, DisplayName: "Agents", Members: []string{"bob"}}, ""); err != nil {
				t.Fatal(err)
			}
			if !holds(user("ann"), "premium", seatkeeper.SourceGroup) {
				t.Errorf("ann lost premium though Leads still maps it")
			}
			if err := s.DeleteGroupMapping(ctx, operator, "acme", g2.ID); err != nil {
				t.Fatal(err)
			}
			if u := user("ann"); holds(u, "premium", seatkeeper.SourceGroup) || len(u.Roles) > 0 && u.Roles[0].Source == seatkeeper.SourceGroup {
				t.Errorf("ann keeps what no group gives: %+v %+v", u.Licenses, u.Roles)
			}
		})
		t.Run("DeleteGroupRemovesWhatItGave", func(t *testing.T) {
			mustAssign(t, s, "acme", "bob", "premium")
			if err := s.DeleteGroup(ctx, operator, "acme", g1.ID, ""); err != nil {
				t.Fatal(err)
			}
			u := user("bob")
			if holds(u, "premium", seatkeeper.SourceGroup) || !holds(u, "premium", seatkeeper.SourceManual) {
				t.Errorf("bob after the group's deletion: %+v", u.Licenses)
			}
			if _, err := s.GroupMapping(ctx, "acme", g1.ID); code(err) != seatkeeper.ENotFound {
				t.Errorf("the mapping outlived its group: %v", err)
			}
		})
		t.Run("ErrUnknownMember", func(t *testing.T) {
			_, _, err := s.PutGroup(ctx, operator, seatkeeper.Group{Account: "acme", DisplayName: "X", Members: []string{"ghost"}}, "")
			if got, want := code(err), seatkeeper.EInvalid; got != want {
				t.Fatalf("unknown member: %q, want %q", got, want)
			}
			if _, total, _ := s.Groups(ctx, "acme", seatkeeper.GroupMatch{DisplayName: "x"}, 0, 10); total != 0 {
				t.Errorf("a refused group was created")
			}
		})
		t.Run("ErrMappingUnknownLicense", func(t *testing.T) {
			_, _, err := s.PutGroupMapping(ctx, operator, "acme", seatkeeper.GroupMapping{Group: g2.ID, Licenses: []string{"nope"}})
			if got, want := code(err), seatkeeper.EInvalid; got != want {
				t.Fatalf("unknown license: %q, want %q", got, want)
			}
		})
		t.Run("OtherAccount", func(t *testing.T) {
			mustAccount(t, s, "other", "contact-center")
			if _, err := s.Group(ctx, "other", g2.ID); code(err) != seatkeeper.ENotFound {
				t.Errorf("another account's group: %v", err)
			}
		})
	})
}
