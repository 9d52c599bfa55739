package samlsp_test

import (
	"bytes"
	"regexp"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore/sqlstoretest"
)

var signatureEl = regexp.MustCompile(`(?s)<ds:Signature .*?</ds:Signature>`)

// TestSAML_BadResponses: every response that must not sign anyone in is
// refused with a stable code, never a 500, and changes nothing.
func TestSAML_BadResponses(t *testing.T) {
	sqlstoretest.Each(t, func(t *testing.T, dsn string) {
		e, p := newEnv(t, dsn, t.TempDir(), ""), newIdP(t)
		rules := []seatkeeper.SAMLRule{{Section: "plan", Attribute: "eduPersonAffiliation", Contains: "agents", Assign: "essentials"}}
		setupAcme(e, p, "acme", rules)
		setupAcme(e, p, "other", rules) // the same IdP serves another account
		_, acme := e.spMetadata("acme")
		_, other := e.spMetadata("other")
		const who = "mallory@acme.test"
		valid := func() []byte { return p.craft(acme, who, []string{"agents"}, nil) }
		strangerKey, strangerCert := keyPair(t)

		cases := []struct {
			name     string
			response func() string
			status   int
			code     string
		}{
			{"Empty", func() string { return "" }, 400, "invalid_request"},
			{"NotBase64", func() string { return "%%% not base64 %%%" }, 400, "invalid_request"},
			{"NotXML", func() string { return b64([]byte("hello, world")) }, 400, "invalid_request"},
			{"NotAResponse", func() string { return b64([]byte(`<foo xmlns="urn:x"/>`)) }, 400, "invalid_request"},
			{"EntityExpansion", func() string {
				return b64([]byte(`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><r>&b;</r>`))
			}, 400, "invalid_request"},
			{"Unsigned", func() string { return b64(signatureEl.ReplaceAll(valid(), nil)) }, 401, "unauthenticated"},
			{"TamperedAttribute", func() string {
				b := valid()
				if !bytes.Contains(b, []byte(">agents<")) {
					t.Fatal("the crafted response carries no agents group to tamper with")
				}
				return b64(bytes.Replace(b, []byte(">agents<"), []byte(">admins<"), 1))
			}, 401, "unauthenticated"},
			{"TamperedNameID", func() string {
				return b64(bytes.ReplaceAll(valid(), []byte(who), []byte("boss@acme.test")))
			}, 401, "unauthenticated"},
			{"SignedByAStranger", func() string {
				return b64(p.craft(acme, who, []string{"agents"}, func(r *saml.IdpAuthnRequest) {
					r.IDP.Key, r.IDP.Certificate = strangerKey, strangerCert
				}))
			}, 401, "unauthenticated"},
			{"Expired", func() string {
				defer func(now func() time.Time) { saml.TimeNow = now }(saml.TimeNow)
				past := time.Now().Add(-time.Hour)
				saml.TimeNow = func() time.Time { return past }
				return b64(valid())
			}, 401, "unauthenticated"},
			{"NotYetValid", func() string {
				defer func(now func() time.Time) { saml.TimeNow = now }(saml.TimeNow)
				future := time.Now().Add(time.Hour)
				saml.TimeNow = func() time.Time { return future }
				return b64(valid())
			}, 401, "unauthenticated"},
			{"WrongAudience", func() string {
				return b64(p.craft(acme, who, []string{"agents"}, func(r *saml.IdpAuthnRequest) {
					r.ServiceProviderMetadata.EntityID = "https://elsewhere.example/saml/metadata"
				}))
			}, 401, "unauthenticated"},
			{"WrongDestination", func() string {
				return b64(p.craft(acme, who, []string{"agents"}, func(r *saml.IdpAuthnRequest) {
					r.ACSEndpoint.Location = "https://elsewhere.example/saml/acme/acs"
				}))
			}, 401, "unauthenticated"},
			{"AnotherAccountsResponse", func() string { return b64(p.craft(other, who, []string{"agents"}, nil)) }, 401, "unauthenticated"},
			// Signed, but without conditions (a nil dereference in the
			// library: a 500), or without an audience: addressed to no one.
			{"NoConditions", func() string {
				return b64(p.craft(acme, who, []string{"agents"}, nil, func(a *saml.Assertion) { a.Conditions = nil }))
			}, 401, "unauthenticated"},
			{"NoAudience", func() string {
				return b64(p.craft(acme, who, []string{"agents"}, nil, func(a *saml.Assertion) { a.Conditions.AudienceRestrictions = nil }))
			}, 401, "unauthenticated"},
			{"NoSubject", func() string {
				return b64(p.craft(acme, who, []string{"agents"}, nil, func(a *saml.Assertion) { a.Subject = nil }))
			}, 401, "unauthenticated"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				e := *e
				e.t = t
				a := e.post("acme", samlForm{Response: c.response()})
				code, _ := a.problem(t)
				if a.Status != c.status || code != c.code {
					t.Fatalf("status %d code %s, want %d %s: %s", a.Status, code, c.status, c.code, a.Body)
				}
				if n := e.userCount("acme"); n != 0 {
					t.Errorf("a refused response left %d users", n)
				}
			})
		}

		t.Run("UnknownAccount", func(t *testing.T) {
			a := e.post("nobody", samlForm{Response: b64(valid())})
			if code, _ := a.problem(t); a.Status != 404 || code != "not_found" {
				t.Errorf("status %d code %s, want 404 not_found", a.Status, code)
			}
		})

		t.Run("Replayed", func(t *testing.T) {
			resp := b64(valid())
			if a := e.post("acme", samlForm{Response: resp}); a.Status != 200 {
				t.Fatalf("first use: status %d: %s", a.Status, a.Body)
			}
			e.must(204, "DELETE", "/v1/accounts/acme/users/"+who+"/licenses/essentials", nil)
			a := e.post("acme", samlForm{Response: resp})
			if code, _ := a.problem(t); a.Status != 401 || code != "unauthenticated" {
				t.Fatalf("replay: status %d code %s, want 401 unauthenticated: %s", a.Status, code, a.Body)
			}
			if u, _ := e.user("acme", who); holds(u)["essentials/saml"] {
				t.Error("the replayed response assigned essentials again")
			}
			// A fresh response from the IdP signs in as usual.
			if a := e.post("acme", samlForm{Response: b64(valid())}); a.Status != 200 {
				t.Fatalf("a new response after the replay: status %d: %s", a.Status, a.Body)
			}
		})
	})
}
