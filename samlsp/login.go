package samlsp

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/crewjam/saml"

	"github.com/seatkeeper/seatkeeper"
)

// MaxResponse bounds a SAMLResponse form value (base64).
const MaxResponse = 512 << 10

// Login implements seatkeeper.SAMLService. In order: the account and its
// configuration; the response checked (nothing is written for a bad one);
// the assertion id consumed (a replay is refused, in every process); the
// rules mapped (a none rule refuses before any user exists); then the
// user created or updated, the sections' assignments made with source
// saml, and portal presence recorded.
func (p *Provider) Login(ctx context.Context, account, base string, form url.Values) (seatkeeper.SAMLLogin, error) {
	var out seatkeeper.SAMLLogin
	cfg, err := p.Store.SAMLConfig(ctx, account)
	if err != nil {
		return out, err
	}
	assertion, err := p.check(ctx, base, cfg, form.Get("SAMLResponse"))
	if err != nil {
		return out, err
	}
	attrs := Attributes{}
	for _, st := range assertion.AttributeStatements {
		for _, a := range st.Attributes {
			var vals []string
			for _, v := range a.Values {
				vals = append(vals, v.Value)
			}
			attrs.Add(a.Name, a.FriendlyName, vals...)
		}
	}
	id := ""
	if cfg.UserAttribute != "" {
		id = attrs.First(cfg.UserAttribute)
	} else if assertion.Subject != nil && assertion.Subject.NameID != nil {
		id = strings.TrimSpace(assertion.Subject.NameID.Value)
	}
	if id == "" {
		return out, seatkeeper.Errorf(seatkeeper.EUnauthenticated, "the assertion names no user (%s)", firstNonEmpty(cfg.UserAttribute, "NameID"))
	}
	until := assertion.IssueInstant.Add(saml.MaxIssueDelay + saml.MaxClockSkew)
	if err := p.Store.ConsumeSAMLAssertion(ctx, account, assertion.ID, until); err != nil {
		if seatkeeper.ErrorCode(err) == seatkeeper.EConflict {
			return out, seatkeeper.Errorf(seatkeeper.EUnauthenticated, "the SAML assertion was already used: a replay is refused")
		}
		return out, err
	}
	m := Map(cfg.Rules, attrs)
	if m.Refused >= 0 {
		r := cfg.Rules[m.Refused]
		return out, seatkeeper.Errorf(seatkeeper.EForbidden, "sign-in refused by rules[%d] of the account's SAML configuration (%s: %s contains %q)", m.Refused, r.Section, r.Attribute, r.Contains)
	}
	by := seatkeeper.Actor{TokenID: "saml", TokenKind: "saml", ActingUser: id}
	user, created, err := p.Store.SAMLSignIn(ctx, by, userFields(account, id, attrs), m.Sections)
	if err != nil {
		return out, err
	}
	s, _, err := p.Store.StartSession(ctx, by, account, id, seatkeeper.KindPortal, "", "")
	if err != nil {
		return out, err
	}
	out = seatkeeper.SAMLLogin{User: user, Created: created, Session: &s}
	if rs := form.Get("RelayState"); seatkeeper.SafeRelayState(rs) {
		out.RelayState = rs
	}
	return out, nil
}

// check decodes and verifies the response for the account's ACS.
// Malformed input is EInvalid; anything else the service provider refuses
// (signature, issuer, audience, destination, recipient, lifetime) is
// EUnauthenticated, with the reason.
func (p *Provider) check(ctx context.Context, base string, cfg seatkeeper.SAMLConfig, encoded string) (*saml.Assertion, error) {
	if encoded == "" {
		return nil, &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "no SAMLResponse",
			Fields: []seatkeeper.FieldError{{Field: "SAMLResponse", Message: "required: the base64 SAML response (HTTP-POST binding)"}}}
	}
	if len(encoded) > MaxResponse {
		return nil, seatkeeper.Errorf(seatkeeper.ETooLarge, "the SAMLResponse is larger than %d bytes", MaxResponse)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(encoded), ""))
	if err != nil {
		return nil, &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "the SAMLResponse is not base64",
			Fields: []seatkeeper.FieldError{{Field: "SAMLResponse", Message: "must be base64"}}}
	}
	sp, err := p.configured(ctx, cfg, base)
	if err != nil {
		return nil, err
	}
	assertion, err := parse(sp, raw)
	if err == nil {
		return assertion, nil
	}
	reason := err.Error()
	var ire *saml.InvalidResponseError
	if errors.As(err, &ire) && ire.PrivateErr != nil {
		reason = ire.PrivateErr.Error()
	}
	if len(reason) > 300 {
		reason = reason[:300] + "…"
	}
	if strings.HasPrefix(reason, "invalid xml") || strings.HasPrefix(reason, "XML syntax error") || strings.HasPrefix(reason, "cannot unmarshal response") {
		return nil, seatkeeper.Errorf(seatkeeper.EInvalid, "the SAMLResponse is not a SAML response: %s", reason)
	}
	return nil, seatkeeper.Errorf(seatkeeper.EUnauthenticated, "the SAML response was refused: %s", reason)
}

// parse has the service provider check a response, and then what it leaves
// unchecked: an assertion must say whom it is for, by its audience (SAML
// profiles §4.1.4.2). The library dereferences an assertion's conditions
// and subject unchecked: a signed response without them is refused, not a
// panic.
func parse(sp *saml.ServiceProvider, raw []byte) (a *saml.Assertion, err error) {
	defer func() {
		if r := recover(); r != nil {
			a, err = nil, fmt.Errorf("the assertion is incomplete (%v)", r)
		}
	}()
	if a, err = sp.ParseXMLResponse(raw, nil, sp.AcsURL); err != nil {
		return nil, err
	}
	if a.Conditions == nil || len(a.Conditions.AudienceRestrictions) == 0 {
		return nil, fmt.Errorf("the assertion names no audience: it must be restricted to %s", sp.EntityID)
	}
	return a, nil
}

// userFields reads the user's name, email and display name from the
// usual attributes (SAML names, LDAP OIDs' friendly names, Entra ID
// claims); what is missing is left as it is.
func userFields(account, id string, attrs Attributes) seatkeeper.User {
	u := seatkeeper.User{Account: account, ID: id}
	u.UserName = attrs.First("username", "uid", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name")
	u.Email = attrs.First("email", "mail", "emailaddress", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress")
	u.DisplayName = attrs.First("displayname", "http://schemas.microsoft.com/identity/claims/displayname", "cn")
	if u.DisplayName == "" {
		u.DisplayName = strings.TrimSpace(attrs.First("givenname") + " " + attrs.First("sn", "surname"))
	}
	return u
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
