package samlsp_test

import (
	"encoding/xml"
	"slices"
	"testing"

	"github.com/crewjam/saml"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore/sqlstoretest"
)

func TestSAML_ConfigAPI(t *testing.T) {
	sqlstoretest.Each(t, func(t *testing.T, dsn string) {
		e, p := newEnv(t, dsn, t.TempDir(), ""), newIdP(t)
		e.must(201, "PUT", "/v1/accounts/acme", map[string]any{"name": "Acme", "region": "us"})
		e.must(404, "GET", "/v1/accounts/acme/saml", nil)

		t.Run("InvalidRules", func(t *testing.T) {
			a := e.do(e.Operator, "PUT", "/v1/accounts/acme/saml", map[string]any{"idp_metadata": p.metadata(), "rules": []seatkeeper.SAMLRule{
				{Section: "bogus", Attribute: "groups", Contains: "x", Assign: "essentials"},
				{Section: "plan", Attribute: "", Contains: "x", Assign: "essentials"},
				{Section: "plan", Attribute: "groups", Contains: "x", Assign: "essentials", None: true},
				{Section: "plan", Attribute: "groups", Contains: "x", Assign: "qm"},
				{Section: "addons", Attribute: "groups", Contains: "x", Assign: "no_such_license"},
				{Section: "roles", Attribute: "groups", Contains: "x", Assign: "qm:nope"},
				{Section: "licenses", Attribute: "groups", Contains: "x"},
				{Section: "plan", Attribute: "groups", Contains: "x", Assign: "essentials,premium"},
				{Section: "roles", Attribute: "groups", Contains: "x", Assign: "qm:supervisor"}, // fine
			}})
			code, fields := a.problem(t)
			if a.Status != 400 || code != "invalid_request" {
				t.Fatalf("status %d code %s, want 400 invalid_request", a.Status, code)
			}
			for _, want := range []string{"rules[0].section", "rules[1].attribute", "rules[2].assign", "rules[3].assign",
				"rules[4].assign", "rules[5].assign", "rules[6].assign", "rules[7].assign"} {
				if !slices.Contains(fields, want) {
					t.Errorf("errors %v lack %s", fields, want)
				}
			}
			if slices.Contains(fields, "rules[8].assign") {
				t.Errorf("errors %v name the valid rule 8", fields)
			}
			e.must(404, "GET", "/v1/accounts/acme/saml", nil)
		})

		t.Run("InvalidMetadata", func(t *testing.T) {
			noCert := p.srv.IDP.Metadata()
			for i := range noCert.IDPSSODescriptors {
				noCert.IDPSSODescriptors[i].KeyDescriptors = nil
			}
			noCertXML, _ := xml.Marshal(noCert)
			spOnly, _ := xml.Marshal(saml.EntityDescriptor{EntityID: "https://sp.example", SPSSODescriptors: []saml.SPSSODescriptor{{}}})
			for name, md := range map[string]string{"empty": "", "garbage": "<not metadata", "no_signing_certificate": string(noCertXML),
				"not_an_idp": string(spOnly)} {
				a := e.do(e.Operator, "PUT", "/v1/accounts/acme/saml", map[string]any{"idp_metadata": md})
				if code, fields := a.problem(t); a.Status != 400 || code != "invalid_request" || !slices.Contains(fields, "idp_metadata") {
					t.Errorf("%s: status %d code %s errors %v, want 400 on idp_metadata", name, a.Status, code, fields)
				}
			}
			a := e.do(e.Operator, "PUT", "/v1/accounts/acme/saml", map[string]any{"idp_metadata": p.metadata(), "unknown": 1})
			if code, _ := a.problem(t); a.Status != 400 || code != "invalid_request" {
				t.Errorf("unknown field: status %d code %s, want 400", a.Status, code)
			}
		})

		t.Run("PutGetAndAccess", func(t *testing.T) {
			rules := []seatkeeper.SAMLRule{{Section: "plan", Attribute: "groups", Contains: "agents", Assign: "essentials"},
				{Section: "addons", Attribute: "groups", Contains: "contractors", None: true}}
			md := p.metadata()
			body := map[string]any{"idp_metadata": md, "rules": rules, "user_attribute": "uid"}
			e.must(201, "PUT", "/v1/accounts/acme/saml", body)
			e.must(200, "PUT", "/v1/accounts/acme/saml", body)
			var got seatkeeper.SAMLConfig
			e.must(200, "GET", "/v1/accounts/acme/saml", nil).JSON(t, &got)
			if !slices.Equal(got.Rules, rules) || got.UserAttribute != "uid" || got.IDPMetadata != md {
				t.Errorf("GET answered %+v, want what was put", got)
			}
			var tok struct {
				Token string `json:"token"`
			}
			e.must(201, "POST", "/v1/accounts/acme/tokens", map[string]any{"kind": "reader", "name": "r"}).JSON(t, &tok)
			if a := e.do(tok.Token, "PUT", "/v1/accounts/acme/saml", body); a.Status != 403 {
				t.Errorf("a reader token may not configure SAML: status %d", a.Status)
			}
			if a := e.do(tok.Token, "GET", "/v1/accounts/acme/saml", nil); a.Status != 200 {
				t.Errorf("a reader token reads the configuration: status %d", a.Status)
			}
			if a := e.do("", "GET", "/saml/nobody/metadata", nil); a.Status != 404 {
				t.Errorf("metadata of no account: status %d, want 404", a.Status)
			}
		})
	})
}

// TestSAML_SharedAcrossProcesses: two server processes over one database
// share the service provider's key (a response encrypted to the one
// decrypts at the other, and a restart keeps it) and the consumed
// assertion ids (a replay at the other process is refused).
func TestSAML_SharedAcrossProcesses(t *testing.T) {
	sqlstoretest.Each(t, func(t *testing.T, dsn string) {
		const public = "https://seats.example"
		dir := t.TempDir()
		e1, e2, p := newEnv(t, dsn, dir, public), newEnv(t, dsn, dir, public), newIdP(t)
		setupAcme(e1, p, "acme", []seatkeeper.SAMLRule{{Section: "plan", Attribute: "eduPersonAffiliation", Contains: "agents", Assign: "essentials"}})
		md1, ed := e1.spMetadata("acme")
		md2, _ := e2.spMetadata("acme")
		if string(md1) != string(md2) && !sameCert(t, md1, md2) {
			t.Fatal("the two processes publish different certificates")
		}
		if got, want := ed.EntityID, public+"/saml/acme/metadata"; got != want {
			t.Errorf("entity id %q, want %q (from the public URL)", got, want)
		}

		p.putUser("alice", "alice@acme.test", "Alice", "agents")
		resp := p.signIn("alice", "acme", "") // encrypted to the published certificate
		if a := e2.post("acme", resp); a.Status != 200 {
			t.Fatalf("process 2: status %d: %s", a.Status, a.Body)
		}
		if a := e1.post("acme", resp); a.Status != 401 {
			t.Errorf("replay at process 1: status %d, want 401: %s", a.Status, a.Body)
		}

		e3 := newEnv(t, dsn, dir, public) // a restart
		md3, _ := e3.spMetadata("acme")
		if !sameCert(t, md1, md3) {
			t.Error("a new process made a new key pair")
		}
	})
}

// sameCert compares the certificates two SP metadata documents publish.
func sameCert(t *testing.T, a, b []byte) bool {
	t.Helper()
	cert := func(md []byte) string {
		var ed saml.EntityDescriptor
		if err := xml.Unmarshal(md, &ed); err != nil {
			t.Fatal(err)
		}
		return ed.SPSSODescriptors[0].KeyDescriptors[0].KeyInfo.X509Data.X509Certificates[0].Data
	}
	return cert(a) != "" && cert(a) == cert(b)
}
