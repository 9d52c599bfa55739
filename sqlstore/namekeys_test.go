package sqlstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

// TestUserNamesFoldInUnicode: user names are unique without regard to
// case in Unicode, on both stores alike (SCIM userName, caseExact false).
// Before, SQLite's lower() folded only ASCII: Ärger and ärger were two
// users on SQLite and one on PostgreSQL.
func TestUserNamesFoldInUnicode(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		mustAccount(t, s, "acme", "contact-center")
		if _, _, err := s.PutUser(ctx, operator, seatkeeper.User{Account: "acme", ID: "u1", UserName: "Ärger", Active: true}); err != nil {
			t.Fatal(err)
		}
		_, _, err := s.PutUser(ctx, operator, seatkeeper.User{Account: "acme", ID: "u2", UserName: "ärger", Active: true})
		if code(err) != seatkeeper.EConflict {
			t.Errorf("ärger beside Ärger: %v, want conflict", err)
		}
		us, _, err := s.ProvisionedUsers(ctx, "acme", seatkeeper.UserMatch{UserName: "äRGER"}, 0, 10)
		if err != nil || len(us) != 1 || us[0].ID != "u1" {
			t.Errorf("userName eq äRGER: %+v %v, want u1", us, err)
		}
	})
}

// TestUserNamesCanonicalCaseless: user names compare by Unicode's
// canonical caseless match on both stores: an é composed or decomposed, a
// final sigma and ß against SS are the same name. Before, keys were only
// lower-cased, and these were distinct users.
func TestUserNamesCanonicalCaseless(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		mustAccount(t, s, "acme", "contact-center")
		for i, pair := range [][2]string{
			{"Jos\u00e9", "JOSE\u0301"},
			{"\u03c3\u03b1\u03c2", "\u03a3\u0391\u03a3"},
			{"Stra\u00dfe", "STRASSE"},
		} {
			id := fmt.Sprintf("u%d", i)
			if _, _, err := s.PutUser(ctx, operator, seatkeeper.User{Account: "acme", ID: id, UserName: pair[0], Active: true}); err != nil {
				t.Fatal(err)
			}
			_, _, err := s.PutUser(ctx, operator, seatkeeper.User{Account: "acme", ID: id + "b", UserName: pair[1], Active: true})
			if code(err) != seatkeeper.EConflict {
				t.Errorf("%q beside %q: %v, want conflict", pair[1], pair[0], err)
			}
			us, _, err := s.ProvisionedUsers(ctx, "acme", seatkeeper.UserMatch{UserName: pair[1]}, 0, 10)
			if err != nil || len(us) != 1 || us[0].ID != id {
				t.Errorf("userName eq %q: %+v %v, want %s", pair[1], us, err, id)
			}
		}
	})
}

// TestFillNameKeys: migration 0015 gives every name the key Go makes,
// where lower() made another (beyond ASCII on SQLite; by the locale on
// PostgreSQL, which in Turkish makes ADMIN admın); a key that another name
// of the account has already is left as it was, so that the unique index
// of 0016 holds whatever names the old one allowed, and the name that
// keeps it can still be changed otherwise (a review found it frozen).
func TestFillNameKeys(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		mustAccount(t, s, "acme", "contact-center")
		for _, u := range [][2]string{{"u1", "Ärger"}, {"u3", "ÖL"}, {"u4", "plain"}, {"u5", "ADMIN"}, {"u6", "Stra\u00dfe"}, {"u8", "JOSE\u0301"}} {
			if _, _, err := s.PutUser(ctx, operator, seatkeeper.User{Account: "acme", ID: u[0], UserName: u[1], Active: true}); err != nil {
				t.Fatal(err)
			}
		}
		// As an older store had them: u2 beside u1 (SQLite's lower()
		// told them apart), and every key as lower() left it there.
		for _, q := range []string{
			"DROP INDEX users_user_name",
			"INSERT INTO users (account, id, user_name, user_name_key, email, display_name, external_id, active, created_at, updated_at) VALUES ('acme', 'u2', 'ärger', '', '', '', '', TRUE, 0, 0)",
			"UPDATE users SET user_name_key = 'Ärger' WHERE id = 'u1'",
			"UPDATE users SET user_name_key = 'ärger' WHERE id = 'u2'",
			"UPDATE users SET user_name_key = 'ÖL' WHERE id = 'u3'",
			"UPDATE users SET user_name_key = 'plain' WHERE id = 'u4'",
			"UPDATE users SET user_name_key = 'admın' WHERE id = 'u5'",
			// Lower-cased as keys were before migration 0018: u7
			// beside u6, and u8's é decomposed.
			"INSERT INTO users (account, id, user_name, user_name_key, email, display_name, external_id, active, created_at, updated_at) VALUES ('acme', 'u7', 'STRASSE', 'strasse', '', '', '', TRUE, 0, 0)",
			"UPDATE users SET user_name_key = 'straße' WHERE id = 'u6'",
			"UPDATE users SET user_name_key = 'jose\u0301' WHERE id = 'u8'",
		} {
			if err := s.ExecForTest(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := s.FillNameKeysForTest(ctx); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]string{"u1": "Ärger", "u2": "ärger", "u3": "öl", "u4": "plain", "u5": "admin",
			"u6": "stra\u00dfe", "u7": "strasse", "u8": "jos\u00e9"} {
			if got, err := s.StringForTest(ctx, "SELECT user_name_key FROM users WHERE id = ?", id); err != nil || got != want {
				t.Errorf("%s: key %q %v, want %q", id, got, err, want)
			}
		}
		// The index of 0016 can be made again over them.
		if err := s.ExecForTest(ctx, "CREATE UNIQUE INDEX users_user_name ON users (account, user_name_key)"); err != nil {
			t.Errorf("unique index over the keys: %v", err)
		}
		// u1 keeps its name, and its key, through other changes.
		if _, _, err := s.PutUser(ctx, operator, seatkeeper.User{Account: "acme", ID: "u1", UserName: "Ärger", Active: false}); err != nil {
			t.Errorf("deactivating u1 (Ärger): %v", err)
		}
		us, _, err := s.ProvisionedUsers(ctx, "acme", seatkeeper.UserMatch{UserName: "admin"}, 0, 10)
		if err != nil || len(us) != 1 || us[0].ID != "u5" {
			t.Errorf("userName eq admin: %+v %v, want u5", us, err)
		}
	})
}
