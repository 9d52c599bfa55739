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
		t.Run("Paging", func(t *testing.T) {
			for _, n := range []string{"p1", "p2", "p3"} {
				provision(t, s, seatkeeper.Provision{User: seatkeeper.User{Account: "acme", UserName: n, Active: true}})
			}
			all, total, err := s.ProvisionedUsers(ctx, "acme", seatkeeper.UserMatch{}, 0, -1)
			if err != nil || total != 4 || len(all) != 4 {
				t.Fatalf("all: %d of %d, %v", len(all), total, err)
			}
			page, total, err := s.ProvisionedUsers(ctx, "acme", seatkeeper.UserMatch{}, 1, 2)
			if err != nil || total != 4 || len(page) != 2 || page[0].ID != all[1].ID || page[1].ID != all[2].ID {
				t.Errorf("offset 1 limit 2: %d of %d, %v", len(page), total, err)
			}
			rest, _, _ := s.ProvisionedUsers(ctx, "acme", seatkeeper.UserMatch{}, 3, -1)
			if len(rest) != 1 || rest[0].ID != all[3].ID {
				t.Errorf("offset 3, no limit: %d", len(rest))
			}
			for _, p := range all {
				if p.ID != u.ID {
					if err := s.DeleteUser(ctx, operator, "acme", p.ID); err != nil {
						t.Fatal(err)
					}
				}
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
