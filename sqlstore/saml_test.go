package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

func TestSAMLStore(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		mustAccount(t, s, "a", "contact-center")
		mustAccount(t, s, "b", "contact-center")

		t.Run("ConsumedAssertions", func(t *testing.T) {
			until := s.Now().Add(time.Minute)
			if err := s.ConsumeSAMLAssertion(ctx, "a", "id-1", until); err != nil {
				t.Fatal(err)
			}
			if got := code(s.ConsumeSAMLAssertion(ctx, "a", "id-1", until)); got != seatkeeper.EConflict {
				t.Errorf("second use: %q, want conflict", got)
			}
			if err := s.ConsumeSAMLAssertion(ctx, "b", "id-1", until); err != nil {
				t.Errorf("the same id at another account: %v", err)
			}
			// Once expired, an id is dropped (its assertion is refused as
			// expired anyway): the table does not grow for ever.
			now := s.Now
			defer func() { s.Now = now }()
			s.Now = func() time.Time { return now().Add(2 * time.Minute) }
			if err := s.ConsumeSAMLAssertion(ctx, "a", "id-2", s.Now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			if err := s.ConsumeSAMLAssertion(ctx, "a", "id-1", s.Now().Add(time.Minute)); err != nil {
				t.Errorf("an expired id was kept: %v", err)
			}
		})

		t.Run("KeyPairMadeOnce", func(t *testing.T) {
			made := 0
			create := func() ([]byte, []byte, error) {
				made++
				return []byte("key"), []byte("cert"), nil
			}
			k1, c1, err := s.SAMLKeyPair(ctx, create)
			if err != nil {
				t.Fatal(err)
			}
			k2, c2, err := s.SAMLKeyPair(ctx, func() ([]byte, []byte, error) { return []byte("other"), []byte("other"), nil })
			if err != nil {
				t.Fatal(err)
			}
			if made != 1 || string(k1) != "key" || string(c1) != "cert" || string(k2) != "key" || string(c2) != "cert" {
				t.Errorf("made %d; got %s/%s then %s/%s, want key/cert twice", made, k1, c1, k2, c2)
			}
		})

		t.Run("Config", func(t *testing.T) {
			if got := code(func() error { _, err := s.SAMLConfig(ctx, "a"); return err }()); got != seatkeeper.ENotFound {
				t.Errorf("no configuration: %q, want not_found", got)
			}
			c := seatkeeper.SAMLConfig{Account: "a", IDPMetadata: "<md/>", Rules: []seatkeeper.SAMLRule{
				{Section: "plan", Attribute: "groups", Contains: "agents", Assign: "essentials"},
				{Section: "roles", Attribute: "groups", Contains: "qa", Assign: "qm:supervisor, qm:agent"}}}
			if _, created, err := s.PutSAMLConfig(ctx, operator, c); err != nil || !created {
				t.Fatalf("created %v, err %v", created, err)
			}
			got, err := s.SAMLConfig(ctx, "a")
			if err != nil || len(got.Rules) != 2 || got.Rules[1].Assign != "qm:supervisor, qm:agent" {
				t.Errorf("read back %+v, %v", got, err)
			}
			if _, err := s.SAMLConfig(ctx, "b"); code(err) != seatkeeper.ENotFound {
				t.Errorf("account b sees a's configuration: %v", err)
			}
			c.Account = "nobody"
			if _, _, err := s.PutSAMLConfig(ctx, operator, c); code(err) != seatkeeper.ENotFound {
				t.Errorf("no account: %v, want not_found", err)
			}
		})

		t.Run("SignInReplacesTheSectionsSAMLAssignments", func(t *testing.T) {
			mustSubscribe(t, s, "a", "essentials", "named", 5)
			mustSubscribe(t, s, "a", "premium", "named", 5)
			mustSubscribe(t, s, "a", "qm", "named", 5)
			by := seatkeeper.Actor{TokenID: "saml", TokenKind: "saml"}
			u := seatkeeper.User{Account: "a", ID: "sam@a.test", Email: "sam@a.test"}
			if _, created, err := s.SAMLSignIn(ctx, by, u, map[string][]string{"plan": {"essentials"}, "addons": {"qm"}}); err != nil || !created {
				t.Fatalf("created %v err %v", created, err)
			}
			got, _, err := s.SAMLSignIn(ctx, by, u, map[string][]string{"plan": {"premium"}})
			if err != nil {
				t.Fatal(err)
			}
			held := map[string]string{}
			for _, l := range got.Licenses {
				held[l.License] = l.Source
			}
			if held["premium"] != "saml" || held["qm"] != "saml" || held["essentials"] != "" {
				t.Errorf("holds %v, want premium and qm from saml, essentials gone", held)
			}
			if _, _, err := s.SAMLSignIn(ctx, by, u, map[string][]string{"addons": {"no_such"}}); err == nil {
				t.Error("an unknown license was assigned")
			}
		})
	})
}
