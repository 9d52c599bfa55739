// Package samlsp is the SAML 2.0 adapter (SPEC §7): a service provider per
// account over github.com/crewjam/saml. It checks SAML responses
// (signature, addressing, lifetime, replay), maps their attributes to
// plans, add-ons, licenses and roles by the account's rules (mapping.go,
// pure), and applies the outcome in one change of the user (the store's
// SAMLSignIn, under the same rules as any assignment) before recording
// portal presence.
package samlsp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/crewjam/saml"

	"github.com/seatkeeper/seatkeeper"
)

// Store is what the provider needs of the store.
type Store interface {
	seatkeeper.SAMLStore
	Account(ctx context.Context, id string) (seatkeeper.Account, error)
	StartSession(ctx context.Context, by seatkeeper.Actor, account, user, kind, key, request string) (seatkeeper.Session, bool, error)
}

// Provider is the service provider of every account. It implements
// seatkeeper.SAMLService.
type Provider struct {
	Store Store
	// PublicURL, when set, is the base of every account's entity id and
	// ACS URL (e.g. https://seats.example.com); otherwise each request's
	// own scheme and host are used.
	PublicURL string

	keyMu sync.Mutex
	key   *rsa.PrivateKey
	cert  *x509.Certificate
}

// New returns a provider over the store.
func New(st Store, publicURL string) *Provider {
	return &Provider{Store: st, PublicURL: strings.TrimSuffix(publicURL, "/")}
}

// keyPair returns the deployment's key pair, made once and kept in the
// store so that every process signs and decrypts with the same one.
func (p *Provider) keyPair(ctx context.Context) (*rsa.PrivateKey, *x509.Certificate, error) {
	p.keyMu.Lock()
	defer p.keyMu.Unlock()
	if p.key != nil {
		return p.key, p.cert, nil
	}
	keyPEM, certPEM, err := p.Store.SAMLKeyPair(ctx, newKeyPair)
	if err != nil {
		return nil, nil, err
	}
	kb, _ := pem.Decode(keyPEM)
	cb, _ := pem.Decode(certPEM)
	if kb == nil || cb == nil {
		return nil, nil, errors.New("saml: the stored key pair is not PEM")
	}
	key, err := x509.ParsePKCS1PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("saml: stored key: %w", err)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("saml: stored certificate: %w", err)
	}
	p.key, p.cert = key, cert
	return key, cert, nil
}

// newKeyPair makes an RSA key and a self-signed certificate for it, good
// for 20 years: identity providers pin it from the metadata.
func newKeyPair() ([]byte, []byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "Seatkeeper SAML service provider"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(20, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// serviceProvider builds the account's service provider: entity id
// BASE/saml/ACCOUNT/metadata, ACS BASE/saml/ACCOUNT/acs.
func (p *Provider) serviceProvider(ctx context.Context, account, base string, idp *saml.EntityDescriptor) (*saml.ServiceProvider, error) {
	key, cert, err := p.keyPair(ctx)
	if err != nil {
		return nil, err
	}
	if p.PublicURL != "" {
		base = p.PublicURL
	}
	root, err := url.Parse(base + "/saml/" + url.PathEscape(account))
	if err != nil {
		return nil, seatkeeper.Errorf(seatkeeper.EInvalid, "cannot make this server's URL from %q", base)
	}
	metadata, acs := *root, *root
	metadata.Path += "/metadata"
	acs.Path += "/acs"
	return &saml.ServiceProvider{
		EntityID:          metadata.String(),
		Key:               key,
		Certificate:       cert,
		MetadataURL:       metadata,
		AcsURL:            acs,
		IDPMetadata:       idp,
		AllowIDPInitiated: true, // IdP-initiated and SP-initiated responses alike; replay is checked by assertion id
		AuthnNameIDFormat: saml.UnspecifiedNameIDFormat,
	}, nil
}

// configured is the account's service provider with its identity provider.
func (p *Provider) configured(ctx context.Context, cfg seatkeeper.SAMLConfig, base string) (*saml.ServiceProvider, error) {
	idp, err := ParseIDPMetadata([]byte(cfg.IDPMetadata))
	if err != nil {
		return nil, seatkeeper.Errorf(seatkeeper.EConflict, "the account's identity provider metadata is unusable: %v", err)
	}
	return p.serviceProvider(ctx, cfg.Account, base, idp)
}

// Metadata implements seatkeeper.SAMLService. It needs the account only:
// an admin gives it to the identity provider before configuring SAML here.
func (p *Provider) Metadata(ctx context.Context, account, base string) ([]byte, error) {
	if _, err := p.Store.Account(ctx, account); err != nil {
		return nil, err
	}
	sp, err := p.serviceProvider(ctx, account, base, nil)
	if err != nil {
		return nil, err
	}
	md := sp.Metadata()
	// Only the HTTP-POST binding is served: drop the artifact endpoint.
	for i := range md.SPSSODescriptors {
		d := &md.SPSSODescriptors[i]
		var post []saml.IndexedEndpoint
		for _, e := range d.AssertionConsumerServices {
			if e.Binding == saml.HTTPPostBinding {
				post = append(post, e)
			}
		}
		d.AssertionConsumerServices = post
	}
	out, err := xml.MarshalIndent(md, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), out...), nil
}

// PutSAMLConfig implements seatkeeper.SAMLService: the metadata must parse
// and name a certificate to check signatures with; the store checks the
// rules, all of them at once, against the account's catalog.
func (p *Provider) PutSAMLConfig(ctx context.Context, by seatkeeper.Actor, c seatkeeper.SAMLConfig) (seatkeeper.SAMLConfig, bool, error) {
	if _, err := ParseIDPMetadata([]byte(c.IDPMetadata)); err != nil && strings.TrimSpace(c.IDPMetadata) != "" {
		if _, err := p.Store.Account(ctx, c.Account); err != nil {
			return c, false, err // no account: not_found before field errors
		}
		fields := append([]seatkeeper.FieldError{{Field: "idp_metadata", Message: err.Error()}}, c.Check()...)
		return c, false, &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid SAML configuration", Fields: fields}
	}
	return p.Store.PutSAMLConfig(ctx, by, c)
}

// SAMLConfig implements seatkeeper.SAMLService.
func (p *Provider) SAMLConfig(ctx context.Context, account string) (seatkeeper.SAMLConfig, error) {
	return p.Store.SAMLConfig(ctx, account)
}

// ParseIDPMetadata reads an identity provider's metadata: an
// EntityDescriptor, or the first descriptor with an IdP role in an
// EntitiesDescriptor. It must have an SSO role with at least one
// certificate usable for signatures.
func ParseIDPMetadata(raw []byte) (*saml.EntityDescriptor, error) {
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(raw, &ed); err != nil {
		var set saml.EntitiesDescriptor
		if err2 := xml.Unmarshal(raw, &set); err2 != nil {
			return nil, fmt.Errorf("not SAML metadata: %v", err)
		}
		found := false
		for _, e := range set.EntityDescriptors {
			if len(e.IDPSSODescriptors) > 0 {
				ed, found = e, true
				break
			}
		}
		if !found {
			return nil, errors.New("the EntitiesDescriptor has no identity provider")
		}
	}
	if ed.EntityID == "" {
		return nil, errors.New("the metadata has no entityID")
	}
	if len(ed.IDPSSODescriptors) == 0 {
		return nil, errors.New("the metadata has no IDPSSODescriptor: it does not describe an identity provider")
	}
	certs := 0
	for _, d := range ed.IDPSSODescriptors {
		for _, kd := range d.KeyDescriptors {
			if kd.Use != "" && kd.Use != "signing" {
				continue
			}
			for _, c := range kd.KeyInfo.X509Data.X509Certificates {
				der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.Data), ""))
				if err != nil {
					return nil, fmt.Errorf("a signing certificate is not base64: %v", err)
				}
				if _, err := x509.ParseCertificate(der); err != nil {
					return nil, fmt.Errorf("a signing certificate does not parse: %v", err)
				}
				certs++
			}
		}
	}
	if certs == 0 {
		return nil, errors.New("the metadata has no signing certificate: responses could not be checked")
	}
	return &ed, nil
}

// LoginURL implements seatkeeper.SAMLService: an SP-initiated login, the
// identity provider's SSO URL with an AuthnRequest (HTTP-Redirect
// binding). The response comes back to the ACS and is checked like any
// other; the RelayState goes along when it is safe.
func (p *Provider) LoginURL(ctx context.Context, account, base, relayState string) (string, error) {
	cfg, err := p.Store.SAMLConfig(ctx, account)
	if err != nil {
		return "", err
	}
	sp, err := p.configured(ctx, cfg, base)
	if err != nil {
		return "", err
	}
	if !seatkeeper.SafeRelayState(relayState) {
		relayState = ""
	}
	if sp.GetSSOBindingLocation(saml.HTTPRedirectBinding) == "" {
		return "", seatkeeper.Errorf(seatkeeper.EConflict, "the identity provider offers no HTTP-Redirect single sign-on service")
	}
	u, err := sp.MakeRedirectAuthenticationRequest(relayState)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}
