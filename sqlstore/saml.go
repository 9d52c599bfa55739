package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/entitlement"
)

// PutSAMLConfig implements seatkeeper.SAMLStore.
func (s *Store) PutSAMLConfig(ctx context.Context, by seatkeeper.Actor, c seatkeeper.SAMLConfig) (seatkeeper.SAMLConfig, bool, error) {
	if c.Rules == nil {
		c.Rules = []seatkeeper.SAMLRule{}
	}
	c.UserAttribute = strings.TrimSpace(c.UserAttribute)
	for i := range c.Rules {
		c.Rules[i].Attribute = strings.TrimSpace(c.Rules[i].Attribute)
	}
	created := false
	err := s.write(ctx, func(t *tx) error {
		st, err := t.state(c.Account)
		if err != nil {
			return err
		}
		fields := c.Check()
		fields = append(fields, samlAssignProblems(st, c.Rules)...)
		if len(fields) > 0 {
			return &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid SAML configuration", Fields: fields}
		}
		var n int
		if err := t.queryRow("SELECT count(*) FROM saml_configs WHERE account = ?", c.Account).Scan(&n); err != nil {
			return err
		}
		created = n == 0
		now := s.Now().UTC().Truncate(time.Microsecond)
		c.UpdatedAt = now
		rules, _ := json.Marshal(c.Rules)
		if _, err := t.exec(`INSERT INTO saml_configs (account, idp_metadata, rules, user_attribute, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (account) DO UPDATE SET idp_metadata = excluded.idp_metadata, rules = excluded.rules,
			user_attribute = excluded.user_attribute, updated_at = excluded.updated_at`,
			c.Account, c.IDPMetadata, string(rules), c.UserAttribute, micros(now), micros(now)); err != nil {
			return err
		}
		return t.audit(c.Account, by, "saml.put", c.Account, map[string]any{"rules": c.Rules, "user_attribute": c.UserAttribute})
	})
	return c, created, err
}

// samlAssignProblems checks what each rule assigns against the account's
// catalog and roles: a plan section names plans, addons add-ons, licenses
// license types (kind type), roles service:role pairs the account has. A
// section owns the SAML assignments of its kind, which is what lets a
// later login replace them.
func samlAssignProblems(st *acctState, rules []seatkeeper.SAMLRule) []seatkeeper.FieldError {
	var fields []seatkeeper.FieldError
	wantKind := map[string]catalog.Kind{
		seatkeeper.SectionPlan: catalog.KindPlan, seatkeeper.SectionAddons: catalog.KindAddon, seatkeeper.SectionLicenses: catalog.KindType,
	}
	for i, r := range rules {
		field := fmt.Sprintf("rules[%d].assign", i)
		for _, v := range r.Values() {
			if r.Section == seatkeeper.SectionRoles {
				service, role, ok := strings.Cut(v, ":")
				if !ok || !st.ent.HasRole(entitlement.RoleRef{Service: service, Role: role}) {
					fields = append(fields, seatkeeper.FieldError{Field: field, Message: fmt.Sprintf("%q is not a service:role of this account", v)})
				}
				continue
			}
			kind, ok := wantKind[r.Section]
			if !ok {
				continue // an unknown section is reported by Check
			}
			l, found := st.cat.License(v)
			switch {
			case !found:
				fields = append(fields, seatkeeper.FieldError{Field: field, Message: fmt.Sprintf("the %s catalog has no license %q", st.cat.Name, v)})
			case l.Kind != kind || l.Scope != catalog.ScopeUser:
				fields = append(fields, seatkeeper.FieldError{Field: field, Message: fmt.Sprintf("%s is a %s license, not one the %s section assigns (user licenses of kind %s)", v, l.Kind, r.Section, kind)})
			}
		}
	}
	return fields
}

// SAMLConfig implements seatkeeper.SAMLStore.
func (s *Store) SAMLConfig(ctx context.Context, account string) (seatkeeper.SAMLConfig, error) {
	c := seatkeeper.SAMLConfig{Account: account}
	err := s.read(ctx, func(t *tx) error {
		if _, err := t.state(account); err != nil {
			return err
		}
		var rules string
		var updated int64
		err := t.queryRow("SELECT idp_metadata, rules, user_attribute, updated_at FROM saml_configs WHERE account = ?", account).
			Scan(&c.IDPMetadata, &rules, &c.UserAttribute, &updated)
		if errors.Is(err, sql.ErrNoRows) {
			return seatkeeper.Errorf(seatkeeper.ENotFound, "account %s has no SAML configuration", account)
		}
		if err != nil {
			return err
		}
		c.UpdatedAt = fromMicros(updated)
		return json.Unmarshal([]byte(rules), &c.Rules)
	})
	return c, err
}

// SAMLKeyPair implements seatkeeper.SAMLStore. Two processes starting at
// once may both create a pair: the first insert wins and both read it.
func (s *Store) SAMLKeyPair(ctx context.Context, create func() ([]byte, []byte, error)) ([]byte, []byte, error) {
	read := func() (key, cert []byte, err error) {
		var k, c string
		err = s.db.QueryRowContext(ctx, "SELECT key_pem, cert_pem FROM saml_keys WHERE id = 'sp'").Scan(&k, &c)
		return []byte(k), []byte(c), err
	}
	key, cert, err := read()
	if !errors.Is(err, sql.ErrNoRows) {
		return key, cert, err
	}
	if key, cert, err = create(); err != nil {
		return nil, nil, err
	}
	err = s.write(ctx, func(t *tx) error {
		_, err := t.exec("INSERT INTO saml_keys (id, key_pem, cert_pem, created_at) VALUES ('sp', ?, ?, ?) ON CONFLICT (id) DO NOTHING",
			string(key), string(cert), micros(s.Now()))
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return read()
}

// ConsumeSAMLAssertion implements seatkeeper.SAMLStore. The primary key
// makes the check hold across processes; ids past their expiry are
// dropped on the way, since an expired assertion is refused anyway.
func (s *Store) ConsumeSAMLAssertion(ctx context.Context, account, id string, until time.Time) error {
	return s.write(ctx, func(t *tx) error {
		if _, err := t.exec("DELETE FROM saml_assertions WHERE expires_at < ?", micros(s.Now())); err != nil {
			return err
		}
		res, err := t.exec("INSERT INTO saml_assertions (account, id, expires_at) VALUES (?, ?, ?) ON CONFLICT (account, id) DO NOTHING",
			account, id, micros(until))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return seatkeeper.Errorf(seatkeeper.EConflict, "the assertion %s was already used", id)
		}
		return nil
	})
}

// SAMLSignIn implements seatkeeper.SAMLStore: the user just in time and
// the sections' assignments, in one change of the user, so that a login
// refused by a rule (a seat limit, a requirement) changes nothing. Within
// a matched section the SAML assignments of its kind that it no longer
// lists go first, so a plan can replace another; whether the result still
// meets every requirement is checked on the whole, at the end.
func (s *Store) SAMLSignIn(ctx context.Context, by seatkeeper.Actor, in seatkeeper.User, sections map[string][]string) (seatkeeper.User, bool, error) {
	given := in // validateUser fills an empty user name with the id: only a new user takes that
	if err := validateUser(&in); err != nil {
		return in, false, err
	}
	created := false
	out, err := s.changeUser(ctx, by, in.Account, in.ID, "saml.sign_in", seatkeeper.SourceSAML, func(st *acctState, u *userState) error {
		switch {
		case u.exists && !u.u.Active:
			return seatkeeper.Errorf(seatkeeper.EUserInactive, "user %s is deactivated and cannot sign in", in.ID)
		case !u.exists:
			created, u.exists, u.u.Active, u.u.UserName = true, true, true, in.UserName
		}
		if given.UserName != "" {
			u.u.UserName = given.UserName
		}
		if in.Email != "" {
			u.u.Email = in.Email
		}
		if in.DisplayName != "" {
			u.u.DisplayName = in.DisplayName
		}
		for _, section := range seatkeeper.SAMLSections {
			want, ok := sections[section]
			if !ok {
				continue
			}
			if err := applySection(st, u, section, want); err != nil {
				return err
			}
		}
		return nil
	})
	return out, created, err
}

var sectionKinds = map[string]catalog.Kind{
	seatkeeper.SectionPlan: catalog.KindPlan, seatkeeper.SectionAddons: catalog.KindAddon, seatkeeper.SectionLicenses: catalog.KindType,
}

// applySection makes the user's SAML assignments of one section exactly
// want; assignments from other sources are never touched.
func applySection(st *acctState, u *userState, section string, want []string) error {
	if section == seatkeeper.SectionRoles {
		for ref := range u.roles {
			if !slices.Contains(want, ref.Service+":"+ref.Role) {
				removeSource(u.roles, ref, seatkeeper.SourceSAML)
			}
		}
		for _, r := range want {
			service, role, _ := strings.Cut(r, ":")
			ref := entitlement.RoleRef{Service: service, Role: role}
			if !st.ent.HasRole(ref) {
				return seatkeeper.Errorf(seatkeeper.ENotFound, "account %s has no role %s (SAML rules)", st.account.ID, r)
			}
			addSource(u.roles, ref, seatkeeper.SourceSAML)
		}
		return nil
	}
	for l := range u.lic {
		if lic, ok := st.cat.License(l); ok && lic.Kind == sectionKinds[section] && !slices.Contains(want, l) {
			removeSource(u.lic, l, seatkeeper.SourceSAML)
		}
	}
	for _, l := range want {
		if len(u.lic[l]) == 0 {
			if err := st.ent.CanAssign(u.holding(), l); err != nil {
				return err
			}
		}
		addSource(u.lic, l, seatkeeper.SourceSAML)
	}
	return nil
}
