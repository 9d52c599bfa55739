package samlsp_test

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore/sqlstoretest"
)

// acmeRules map the IdP's groups (eduPersonAffiliation) and mail.
var acmeRules = []seatkeeper.SAMLRule{
	{Section: "plan", Attribute: "eduPersonAffiliation", Contains: "premium-agents", Assign: "premium"},
	{Section: "plan", Attribute: "eduPersonAffiliation", Contains: "agents", Assign: "essentials"},
	{Section: "addons", Attribute: "mail", Contains: "@contractor", None: true},
	{Section: "addons", Attribute: "eduPersonAffiliation", Contains: "qa", Assign: "qm"},
	{Section: "roles", Attribute: "eduPersonAffiliation", Contains: "QA-LEAD", Assign: "qm:supervisor"},
	{Section: "roles", Attribute: "eduPersonAffiliation", Contains: "qa", Assign: "qm:evaluator"},
}

// setupAcme makes account acme (contact-center): named essentials, a
// one-seat concurrent premium pool, named qm and wfm; and its SAML
// configuration with the IdP's metadata, registered at the IdP.
func setupAcme(e *env, p *idp, account string, rules []seatkeeper.SAMLRule) {
	e.t.Helper()
	e.must(201, "PUT", "/v1/accounts/"+account, map[string]any{"name": account, "region": "us"})
	for _, s := range []struct {
		license, model string
		qty            int
	}{{"essentials", "named", 10}, {"premium", "concurrent", 1}, {"qm", "named", 10}, {"wfm", "named", 10}} {
		e.must(201, "PUT", "/v1/accounts/"+account+"/subscriptions/"+s.license, map[string]any{"model": s.model, "quantity": s.qty})
	}
	e.must(201, "PUT", "/v1/accounts/"+account+"/saml", map[string]any{"idp_metadata": p.metadata(), "rules": rules})
	md, _ := e.spMetadata(account)
	p.addSP(account, md)
}

func TestSAML_MappedLogin(t *testing.T) {
	sqlstoretest.Each(t, func(t *testing.T, dsn string) {
		e, p := newEnv(t, dsn, t.TempDir(), ""), newIdP(t)
		setupAcme(e, p, "acme", acmeRules)
		p.putUser("alice", "alice@acme.test", "Alice A", "agents", "qa-lead")
		p.putUser("bob", "bob@acme.test", "Bob", "premium-agents")
		p.putUser("carol", "carol@contractor.test", "Carol", "agents", "qa")
		p.putUser("dave", "dave@acme.test", "Dave", "sales")
		p.putUser("erin", "erin@acme.test", "Erin", "premium-agents")

		t.Run("FirstMatchPerSection", func(t *testing.T) {
			a := e.post("acme", p.signIn("alice", "acme", "portal"))
			// The IdP's shortcut passes /portal as RelayState: a safe
			// relative URL, so the answer is a redirect to it.
			if a.Status != 303 || a.Header.Get("Location") != "/portal" {
				t.Fatalf("status %d, Location %q, want 303 to /portal: %s", a.Status, a.Header.Get("Location"), a.Body)
			}
			u, ok := e.user("acme", "alice@acme.test")
			if !ok {
				t.Fatal("alice was not created just in time")
			}
			h := holds(u)
			for _, want := range []string{"essentials/saml", "qm/saml", "qm:supervisor/saml"} {
				if !h[want] {
					t.Errorf("alice holds %v, want %s", h, want)
				}
			}
			if h["qm:evaluator/saml"] || h["premium/saml"] {
				t.Errorf("alice holds %v: only the first matching rule of a section applies", h)
			}
			if got, want := u.DisplayName, "Alice A"; got != want {
				t.Errorf("display name %q, want %q", got, want)
			}
			if got, want := u.Email, "alice@acme.test"; got != want {
				t.Errorf("email %q, want %q", got, want)
			}
			var sessions struct {
				Items []seatkeeper.Session `json:"items"`
			}
			e.must(200, "GET", "/v1/accounts/acme/sessions?user=alice@acme.test", nil).JSON(t, &sessions)
			if len(sessions.Items) != 1 || sessions.Items[0].Kind != seatkeeper.KindPortal {
				t.Errorf("alice's live sessions: %+v, want one portal presence", sessions.Items)
			}
		})

		t.Run("PortalPresenceInPool", func(t *testing.T) {
			a := e.post("acme", p.signIn("bob", "acme", ""))
			if a.Status != 200 {
				t.Fatalf("status %d: %s", a.Status, a.Body)
			}
			var login seatkeeper.SAMLLogin
			a.JSON(t, &login)
			if !login.Created || login.Session == nil || login.Session.Kind != seatkeeper.KindPortal || login.Session.Pool != "premium" {
				t.Errorf("login %+v, want a created user with a portal session in the premium pool", login)
			}
			if h := holds(login.User); !h["premium/saml"] || h["essentials/saml"] {
				t.Errorf("bob holds %v, want premium (first match) and not essentials", h)
			}
			var pools struct {
				Items []seatkeeper.Pool `json:"items"`
			}
			e.must(200, "GET", "/v1/accounts/acme/pools", nil).JSON(t, &pools)
			if len(pools.Items) != 1 || pools.Items[0].InUse != 1 {
				t.Errorf("pools %+v, want premium with 1 in use", pools.Items)
			}
		})

		t.Run("PoolExhaustedIsAClearRefusal", func(t *testing.T) {
			a := e.post("acme", p.signIn("erin", "acme", ""))
			if code, _ := a.problem(t); a.Status != 409 || code != "pool_exhausted" {
				t.Fatalf("status %d code %s, want 409 pool_exhausted: %s", a.Status, code, a.Body)
			}
			var body struct {
				InUse int `json:"in_use"`
				Cap   int `json:"cap"`
			}
			a.JSON(t, &body)
			if body.InUse != 1 || body.Cap != 1 {
				t.Errorf("in_use %d cap %d, want 1 and 1", body.InUse, body.Cap)
			}
		})

		t.Run("NoneRuleRefusesAndCreatesNoUser", func(t *testing.T) {
			before := e.userCount("acme")
			a := e.post("acme", p.signIn("carol", "acme", ""))
			if code, _ := a.problem(t); a.Status != 403 || code != "forbidden" {
				t.Fatalf("status %d code %s, want 403 forbidden: %s", a.Status, code, a.Body)
			}
			if _, ok := e.user("acme", "carol@contractor.test"); ok {
				t.Error("a login refused by a none rule created the user")
			}
			if got := e.userCount("acme"); got != before {
				t.Errorf("%d users, want %d", got, before)
			}
		})

		t.Run("NoMatchChangesNothing", func(t *testing.T) {
			a := e.post("acme", p.signIn("dave", "acme", ""))
			if a.Status != 200 {
				t.Fatalf("status %d: %s", a.Status, a.Body)
			}
			u, ok := e.user("acme", "dave@acme.test")
			if !ok {
				t.Fatal("dave was not created")
			}
			if len(u.Licenses) != 0 {
				t.Errorf("dave holds %v, want nothing: no rule matched", u.Licenses)
			}
			for _, r := range u.Roles {
				if r.Source == seatkeeper.SourceSAML {
					t.Errorf("dave holds role %+v from SAML", r)
				}
			}
		})

		t.Run("JustInTimeUpdate", func(t *testing.T) {
			e.must(201, "PUT", "/v1/accounts/acme/users/alice@acme.test/licenses/wfm", nil)
			e.must(200, "DELETE", "/v1/accounts/acme/users/bob@acme.test/sessions", nil) // free the pool's one place
			p.putUser("alice", "alice@acme.test", "Alice B", "premium-agents")
			a := e.post("acme", p.signIn("alice", "acme", ""))
			if a.Status != 200 {
				t.Fatalf("status %d: %s", a.Status, a.Body)
			}
			var login seatkeeper.SAMLLogin
			a.JSON(t, &login)
			if login.Created {
				t.Error("created = true for a user who existed")
			}
			u, _ := e.user("acme", "alice@acme.test")
			h := holds(u)
			if !h["premium/saml"] || h["essentials/saml"] {
				t.Errorf("alice holds %v: the plan section should now give premium in place of essentials", h)
			}
			// The addons and roles sections matched nothing this time:
			// what SAML gave before stays; the manual wfm is untouched.
			for _, want := range []string{"qm/saml", "qm:supervisor/saml", "wfm/manual"} {
				if !h[want] {
					t.Errorf("alice holds %v, want %s kept", h, want)
				}
			}
			if u.DisplayName != "Alice B" {
				t.Errorf("display name %q, want the IdP's new one", u.DisplayName)
			}
		})

		t.Run("LicensesSection", func(t *testing.T) {
			e.must(201, "PUT", "/v1/accounts/wfoco", map[string]any{"name": "WFO Co", "region": "us", "catalog": "wfo"})
			for _, l := range []string{"cr", "qm"} {
				e.must(201, "PUT", "/v1/accounts/wfoco/subscriptions/"+l, map[string]any{"model": "named", "quantity": 5})
			}
			e.must(201, "PUT", "/v1/accounts/wfoco/saml", map[string]any{"idp_metadata": p.metadata(), "rules": []seatkeeper.SAMLRule{
				{Section: "licenses", Attribute: "eduPersonAffiliation", Contains: "qa", Assign: "qm"},
				{Section: "licenses", Attribute: "eduPersonAffiliation", Contains: "agents", Assign: "cr"},
			}})
			md, _ := e.spMetadata("wfoco")
			p.addSP("wfoco", md)
			p.putUser("frank", "frank@wfo.test", "Frank", "agents")
			resp := p.signIn("frank", "wfoco", "")

			// Posted to another account's ACS, it is refused there.
			a := e.post("acme", resp)
			if code, _ := a.problem(t); a.Status != 401 || code != "unauthenticated" {
				t.Errorf("wfoco's response at acme's ACS: status %d code %s, want 401 unauthenticated: %s", a.Status, code, a.Body)
			}
			if _, ok := e.user("acme", "frank@wfo.test"); ok {
				t.Error("a response for another account created a user")
			}

			if a := e.post("wfoco", resp); a.Status != 200 {
				t.Fatalf("status %d: %s", a.Status, a.Body)
			}
			u, _ := e.user("wfoco", "frank@wfo.test")
			if h := holds(u); !h["cr/saml"] || h["qm/saml"] {
				t.Errorf("frank holds %v, want cr from the licenses section", h)
			}
		})
	})
}

// TestSAML_SPInitiated: the browser starts at Seatkeeper, which sends it
// to the IdP with an AuthnRequest; the IdP's answer (InResponseTo set)
// signs the user in and the RelayState survives the round trip.
func TestSAML_SPInitiated(t *testing.T) {
	sqlstoretest.Each(t, func(t *testing.T, dsn string) {
		e, p := newEnv(t, dsn, t.TempDir(), ""), newIdP(t)
		setupAcme(e, p, "acme", acmeRules)
		p.putUser("alice", "alice@acme.test", "Alice", "agents")
		a := e.do("", "GET", "/saml/acme/login?RelayState=/desk", nil)
		if a.Status != 302 || !strings.HasPrefix(a.Header.Get("Location"), p.URL+"/sso?SAMLRequest=") {
			t.Fatalf("status %d Location %q, want 302 to the IdP's SSO with a SAMLRequest", a.Status, a.Header.Get("Location"))
		}
		form := p.browse("alice", e.URL+"/saml/acme/login?RelayState=/desk")
		if !strings.Contains(string(mustB64(t, form.Response)), "InResponseTo=\"id-") {
			t.Error("the IdP's response answers no request: not an SP-initiated flow")
		}
		a = e.post("acme", form)
		if a.Status != 303 || a.Header.Get("Location") != "/desk" {
			t.Fatalf("status %d Location %q, want 303 to /desk: %s", a.Status, a.Header.Get("Location"), a.Body)
		}
		if u, _ := e.user("acme", "alice@acme.test"); !holds(u)["essentials/saml"] {
			t.Errorf("alice holds %v, want essentials from SAML", holds(u))
		}
		// An unsafe RelayState is dropped, not followed.
		a = e.do("", "GET", "/saml/acme/login?RelayState=https://evil.example/", nil)
		if loc, _ := url.Parse(a.Header.Get("Location")); a.Status != 302 || loc.Query().Get("RelayState") != "" {
			t.Errorf("status %d, Location %q: an absolute RelayState must not be passed along", a.Status, a.Header.Get("Location"))
		}
		if a := e.do("", "GET", "/saml/nobody/login", nil); a.Status != 404 {
			t.Errorf("login for no account: status %d, want 404", a.Status)
		}
	})
}

// TestSAML_RefusedAssignmentChangesNothing: a login whose assignments the
// account's rules refuse (here the last seat is taken) creates no user and
// assigns nothing; a deactivated user is not signed in (R3).
func TestSAML_RefusedAssignmentChangesNothing(t *testing.T) {
	sqlstoretest.Each(t, func(t *testing.T, dsn string) {
		e, p := newEnv(t, dsn, t.TempDir(), ""), newIdP(t)
		setupAcme(e, p, "acme", acmeRules)
		e.must(200, "PUT", "/v1/accounts/acme/subscriptions/essentials", map[string]any{"model": "named", "quantity": 1})
		p.putUser("ann", "ann@acme.test", "Ann", "agents")
		p.putUser("ben", "ben@acme.test", "Ben", "agents", "qa")
		if a := e.post("acme", p.signIn("ann", "acme", "")); a.Status != 200 {
			t.Fatalf("ann: status %d: %s", a.Status, a.Body)
		}
		a := e.post("acme", p.signIn("ben", "acme", ""))
		if code, _ := a.problem(t); a.Status != 409 || code != "seat_limit_reached" {
			t.Fatalf("ben: status %d code %s, want 409 seat_limit_reached: %s", a.Status, code, a.Body)
		}
		if _, ok := e.user("acme", "ben@acme.test"); ok {
			t.Error("a login refused for its assignments created the user")
		}
		var lic struct {
			Items []seatkeeper.LicenseSummary `json:"items"`
		}
		e.must(200, "GET", "/v1/accounts/acme/licenses", nil).JSON(t, &lic)
		for _, l := range lic.Items {
			if l.License == "qm" && l.Assigned != 0 {
				t.Errorf("qm assigned %d, want 0: the refused login assigned it", l.Assigned)
			}
		}

		e.must(200, "PUT", "/v1/accounts/acme/users/ann@acme.test", map[string]any{"active": false})
		a = e.post("acme", p.signIn("ann", "acme", ""))
		if code, _ := a.problem(t); a.Status != 422 || code != "user_inactive" {
			t.Fatalf("deactivated ann: status %d code %s, want 422 user_inactive: %s", a.Status, code, a.Body)
		}
		if u, _ := e.user("acme", "ann@acme.test"); u.Active {
			t.Error("a SAML login reactivated a deactivated user")
		}
	})
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
