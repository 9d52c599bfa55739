package samlsp_test

import (
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
