package sqlstore_test

import (
	"context"
	"testing"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

// TestGroupMappings: a group's members get its mapping's licenses and
// roles (source group), all or nothing; what a user keeps is the union of
// their groups' mappings.
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
		if ms, err := s.GroupMappings(ctx, "acme"); err != nil || len(ms) != 2 || ms[0].Group > ms[1].Group || len(ms[0].Licenses) != 1 {
			t.Errorf("GroupMappings: %+v %v", ms, err)
		}
		if gs, total, err := s.Groups(ctx, "acme", seatkeeper.GroupMatch{DisplayName: "AGENTS"}, 0, 10); err != nil || total != 1 || gs[0].ID != g1.ID || len(gs[0].Members) != 2 {
			t.Errorf("Groups by displayName: %+v %d %v", gs, total, err)
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
