package samlsp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"net/url"
	"strings"
	"testing"

	"github.com/crewjam/saml"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/samlsp"
	"github.com/seatkeeper/seatkeeper/sqlstore/sqlstoretest"
)

// FuzzACS feeds the ACS arbitrary SAMLResponse form values: whatever
// comes, the answer is a clean refusal (invalid_request, unauthenticated,
// payload_too_large), never an internal error, and only a response the
// IdP really signed can sign anyone in. The seeds run as a normal test.
func FuzzACS(f *testing.F) {
	ctx := context.Background()
	st := sqlstoretest.Open(f, "")
	prov := samlsp.New(st, "https://seats.example")
	p := newIdP(f)
	op := seatkeeper.Actor{TokenID: "test", TokenKind: seatkeeper.TokenOperator}
	if _, _, err := st.PutAccount(ctx, op, seatkeeper.Account{ID: "acme", Name: "Acme", Region: "us"}); err != nil {
		f.Fatal(err)
	}
	if _, _, err := st.PutSubscription(ctx, op, seatkeeper.Subscription{Account: "acme", License: "essentials", Model: "named", Quantity: 1000}); err != nil {
		f.Fatal(err)
	}
	if _, _, err := prov.PutSAMLConfig(ctx, op, seatkeeper.SAMLConfig{Account: "acme", IDPMetadata: p.metadata(),
		Rules: []seatkeeper.SAMLRule{{Section: "plan", Attribute: "eduPersonAffiliation", Contains: "agents", Assign: "essentials"}}}); err != nil {
		f.Fatal(err)
	}
	md, err := prov.Metadata(ctx, "acme", "")
	if err != nil {
		f.Fatal(err)
	}
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(md, &ed); err != nil {
		f.Fatal(err)
	}
	valid := p.craft(&ed, "fuzz@acme.test", []string{"agents"}, nil)
	for _, seed := range []string{
		b64(valid),
		b64(signatureEl.ReplaceAll(valid, nil)),
		b64(bytes.Replace(valid, []byte(">agents<"), []byte(">admins<"), 1)),
		b64(valid[:len(valid)/2]),
		string(valid), // XML, not base64
		"", "=", "!!!!", "AAAA",
		b64([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`)),
		b64([]byte(`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><r>&a;</r>`)),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, err := prov.Login(ctx, "acme", "", url.Values{"SAMLResponse": {s}})
		switch code := seatkeeper.ErrorCode(err); code {
		case seatkeeper.EInvalid, seatkeeper.EUnauthenticated, seatkeeper.ETooLarge:
		case "":
			raw, _ := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
			if !bytes.Contains(raw, []byte("SignatureValue")) {
				t.Fatalf("an unsigned input signed someone in: %q", s)
			}
		default:
			t.Fatalf("code %s (%v) for input %q", code, err, s)
		}
	})
}
