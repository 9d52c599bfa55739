package seatkeeper

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Sections of the SAML mapping rules (SPEC §7), in the order a login
// applies them: a plan before the add-ons that need it (R2).
const (
	SectionPlan     = "plan"
	SectionAddons   = "addons"
	SectionLicenses = "licenses"
	SectionRoles    = "roles"
)

// SAMLSections lists the sections in the order a login applies them.
var SAMLSections = []string{SectionPlan, SectionAddons, SectionLicenses, SectionRoles}

// SAMLRule is one mapping rule: when a value of Attribute contains
// Contains, the rule's section gets Assign (a comma-separated list of
// license keys, or of service:role pairs for roles); a None rule refuses
// the login instead.
type SAMLRule struct {
	Section   string `json:"section"`
	Attribute string `json:"attribute"`
	Contains  string `json:"contains"`
	Assign    string `json:"assign,omitempty"`
	None      bool   `json:"none,omitempty"`
}

// Values returns the rule's assignments, trimmed, without empty items.
func (r SAMLRule) Values() []string {
	var out []string
	for _, v := range strings.Split(r.Assign, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// SAMLConfig is an account's single sign-on: its identity provider's
// metadata (XML), the ordered mapping rules, and optionally the attribute
// that names the user (the NameID when empty).
type SAMLConfig struct {
	Account       string     `json:"-"`
	IDPMetadata   string     `json:"idp_metadata"`
	Rules         []SAMLRule `json:"rules"`
	UserAttribute string     `json:"user_attribute,omitempty"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// MaxSAMLRules bounds an account's mapping rules.
const MaxSAMLRules = 500

// Check returns the problems of the configuration's shape: sections,
// attributes, exactly one of assign and none. What the assignments name
// is checked against the account's catalog by the store.
func (c SAMLConfig) Check() []FieldError {
	var fields []FieldError
	bad := func(f, m string) { fields = append(fields, FieldError{Field: f, Message: m}) }
	if strings.TrimSpace(c.IDPMetadata) == "" {
		bad("idp_metadata", "required: the identity provider's SAML metadata (XML)")
	}
	if len(c.UserAttribute) > 256 || !PlainText(c.UserAttribute) {
		bad("user_attribute", "at most 256 characters, without control characters")
	}
	if len(c.Rules) > MaxSAMLRules {
		bad("rules", fmt.Sprintf("at most %d rules", MaxSAMLRules))
	}
	for i, r := range c.Rules {
		f := fmt.Sprintf("rules[%d].", i)
		switch r.Section {
		case SectionPlan, SectionAddons, SectionLicenses, SectionRoles:
		default:
			bad(f+"section", "must be plan, addons, licenses or roles")
		}
		if a := strings.TrimSpace(r.Attribute); a == "" || len(a) > 256 || !PlainText(a) {
			bad(f+"attribute", "required: 1 to 256 characters, without control characters")
		}
		if len(r.Contains) > 256 || !PlainText(r.Contains) {
			bad(f+"contains", "at most 256 characters, without control characters")
		}
		switch {
		case r.None && strings.TrimSpace(r.Assign) != "":
			bad(f+"assign", "a rule either assigns or is none, not both")
		case !r.None && len(r.Values()) == 0:
			bad(f+"assign", "required unless none is true")
		case r.Section == SectionPlan && len(r.Values()) > 1:
			bad(f+"assign", "a plan rule assigns one plan")
		}
	}
	return fields
}

// SAMLLogin is the outcome of a successful single sign-on.
type SAMLLogin struct {
	User    User     `json:"user"`
	Created bool     `json:"created"` // the user was created just in time
	Session *Session `json:"session,omitempty"`
	// RelayState is where the browser goes next: the identity provider's
	// RelayState when it is a relative URL of this server, else "".
	RelayState string `json:"relay_state,omitempty"`
}

// SafeRelayState reports whether a RelayState is a relative URL on this
// server (an absolute path, no scheme or host), so that redirecting to it
// cannot send the browser elsewhere.
func SafeRelayState(s string) bool {
	if s == "" || len(s) > 2048 || s[0] != '/' || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\") || !PlainText(s) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil
}

// SAMLStore keeps what single sign-on needs in the shared store, so that
// every server process agrees and restarts lose nothing.
type SAMLStore interface {
	// PutSAMLConfig validates and stores an account's configuration:
	// EInvalid with fields for bad rules (including licenses, plans, add-ons
	// and roles the account's catalog does not have), ENotFound for no
	// account.
	PutSAMLConfig(ctx context.Context, by Actor, c SAMLConfig) (SAMLConfig, bool, error)
	// SAMLConfig returns ENotFound if the account or its configuration
	// does not exist.
	SAMLConfig(ctx context.Context, account string) (SAMLConfig, error)
	// SAMLKeyPair returns the deployment's service-provider key and
	// certificate (PEM). The first caller's create makes them; every
	// process then reads the same pair.
	SAMLKeyPair(ctx context.Context, create func() (keyPEM, certPEM []byte, err error)) (keyPEM, certPEM []byte, err error)
	// ConsumeSAMLAssertion records an assertion id as used until it
	// expires; EConflict if it was already used (a replay).
	ConsumeSAMLAssertion(ctx context.Context, account, id string, until time.Time) error
	// SAMLSignIn creates the user just in time (active) or updates the
	// non-empty user_name, email and display_name of u, and makes each
	// section present in sections hold exactly those SAML assignments
	// (license keys; service:role for roles), all in one change:
	// EUserInactive for a deactivated user, and the errors of
	// AssignLicense, with nothing changed.
	SAMLSignIn(ctx context.Context, by Actor, u User, sections map[string][]string) (User, bool, error)
}

// SAMLService is single sign-on as the HTTP adapter sees it.
type SAMLService interface {
	// PutSAMLConfig also checks that the metadata parses and names a
	// signing certificate (EInvalid).
	PutSAMLConfig(ctx context.Context, by Actor, c SAMLConfig) (SAMLConfig, bool, error)
	SAMLConfig(ctx context.Context, account string) (SAMLConfig, error)
	// Metadata returns the account's service-provider metadata (XML);
	// base is this server's public URL as the request shows it, used when
	// no public URL is configured.
	Metadata(ctx context.Context, account, base string) ([]byte, error)
	// LoginURL starts an SP-initiated login: the identity provider's URL
	// with an authentication request (and relayState when it is safe).
	// ENotFound without a configuration.
	LoginURL(ctx context.Context, account, base, relayState string) (string, error)
	// Login consumes a POSTed SAML response. A response that is malformed
	// is EInvalid; unsigned, badly signed, expired, replayed or addressed
	// elsewhere is EUnauthenticated; refused by a none rule is EForbidden.
	// None of these changes anything.
	Login(ctx context.Context, account, base string, form url.Values) (SAMLLogin, error)
}
