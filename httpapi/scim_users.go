package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/scim"
)

// scimAccount is what rendering an account's SCIM users needs: its
// catalog (to tell plans from add-ons) and region.
type scimAccount struct {
	id, region, base string
	cat              *catalog.Catalog
}

func (s *Server) scimAccountOf(r *http.Request) (scimAccount, error) {
	id := r.PathValue("account")
	a, err := s.Store.Account(r.Context(), id)
	if err != nil {
		return scimAccount{}, err
	}
	return scimAccount{id: id, region: a.Region, base: scimBase(r, id), cat: s.Catalogs[a.Catalog]}, nil
}

// userResource renders a user: the SCIM attributes as stored, with the
// user's own fields (which the API may have changed since) on top, the
// Seatkeeper extension from what the user holds with source scim, and meta.
func (a scimAccount) userResource(p seatkeeper.ProvisionedUser) scim.Resource {
	res := scim.Resource{}
	_ = json.Unmarshal(p.Attributes, &res)
	schemas := []any{scim.UserSchema}
	res["id"], res["userName"], res["active"] = p.ID, p.UserName, p.Active
	delete(res, "externalId")
	if p.ExternalID != "" {
		res["externalId"] = p.ExternalID
	}
	// display_name is displayName, or else made from name: shown as
	// displayName unless it is only what name makes (so that a client gets
	// back what it sent).
	_, hasDisplay := res["displayName"]
	delete(res, "displayName")
	if p.DisplayName != "" && (hasDisplay || p.DisplayName != nameDisplay(res["name"])) {
		res["displayName"] = p.DisplayName
	}
	res["emails"] = emailsWith(res["emails"], p.Email)
	if res["emails"] == nil {
		delete(res, "emails")
	}
	_, enterprise := res[scim.EnterpriseUserSchema]
	if enterprise || slices.Contains(asStrings(res["schemas"]), scim.EnterpriseUserSchema) {
		schemas = append(schemas, scim.EnterpriseUserSchema)
	}
	ext, _ := res[scim.SeatkeeperUserSchema].(map[string]any)
	if ext == nil {
		ext = map[string]any{}
	}
	var addons, others []any
	for _, l := range p.Granted.Licenses {
		kind := catalog.KindType
		if lic, ok := a.cat.License(l); ok {
			kind = lic.Kind
		}
		switch kind {
		case catalog.KindPlan:
			ext["plan"] = l
		case catalog.KindAddon:
			addons = append(addons, l)
		default:
			others = append(others, l)
		}
	}
	var roles []any
	for _, r := range p.Granted.Roles {
		roles = append(roles, r)
	}
	for k, v := range map[string][]any{"addons": addons, "licenses": others, "roles": roles} {
		if len(v) > 0 {
			ext[k] = v
		}
	}
	if len(ext) > 0 {
		res[scim.SeatkeeperUserSchema] = ext
		schemas = append(schemas, scim.SeatkeeperUserSchema)
	}
	res["schemas"] = schemas
	res["meta"] = map[string]any{
		"resourceType": "User", "created": p.CreatedAt.UTC().Format(time.RFC3339Nano),
		"lastModified": p.UpdatedAt.UTC().Format(time.RFC3339Nano),
		"location":     a.base + "/Users/" + p.ID, "version": p.ETag(),
	}
	return res
}

// emailsWith keeps the stored emails, with the user's email (which the API
// may have changed) as the primary one's value.
func emailsWith(stored any, email string) any {
	list, _ := stored.([]any)
	if email == "" {
		return stored
	}
	for _, el := range list {
		if m, ok := el.(map[string]any); ok {
			if v, _ := m["value"].(string); strings.EqualFold(v, email) {
				return list
			}
		}
	}
	for _, el := range list {
		if m, ok := el.(map[string]any); ok && (m["primary"] == true || len(list) == 1) {
			m["value"] = email
			return list
		}
	}
	return append(list, map[string]any{"value": email, "primary": true})
}

// provisionOf turns a normalized User resource into a store write.
func (a scimAccount) provisionOf(res scim.Resource, id string) (seatkeeper.Provision, error) {
	u := seatkeeper.User{Account: a.id, ID: id, Active: true}
	u.UserName, _ = res["userName"].(string)
	u.ExternalID, _ = res["externalId"].(string)
	if b, ok := res["active"].(bool); ok {
		u.Active = b
	}
	u.DisplayName, _ = res["displayName"].(string)
	if u.DisplayName == "" {
		u.DisplayName = nameDisplay(res["name"])
	}
	u.Email = primaryEmail(res["emails"])
	if len(u.DisplayName) > 256 {
		u.DisplayName = u.DisplayName[:256]
	}
	p := seatkeeper.Provision{User: u}
	attrs := scim.Resource{}
	for k, v := range res {
		switch k {
		case "userName", "externalId", "active", "id", "meta":
		case scim.SeatkeeperUserSchema:
			ext := v.(map[string]any)
			g, region, err := grantsOf(ext)
			if err != nil {
				return p, err
			}
			if region != "" && region != a.region {
				return p, scim.Errorf(scim.InvalidValue, "region %q: account %s lives in region %s (R18)", region, a.id, a.region)
			}
			p.Grants = &g
			if region != "" {
				attrs[k] = map[string]any{"region": region}
			}
		default:
			attrs[k] = v
		}
	}
	raw, err := json.Marshal(attrs)
	if err != nil {
		return p, err
	}
	p.Attributes = raw
	return p, nil
}

// grantsOf reads the Seatkeeper extension: plan, addons and licenses are
// all licenses with source scim; roles are "service:role".
func grantsOf(ext map[string]any) (seatkeeper.Grants, string, error) {
	g := seatkeeper.Grants{Licenses: []string{}, Roles: []string{}}
	if plan, _ := ext["plan"].(string); plan != "" {
		g.Licenses = append(g.Licenses, plan)
	}
	for _, k := range []string{"addons", "licenses"} {
		for _, v := range asStrings(ext[k]) {
			g.Licenses = append(g.Licenses, v)
		}
	}
	g.Roles = append(g.Roles, asStrings(ext["roles"])...)
	for _, n := range slices.Concat(g.Licenses, g.Roles) {
		if !validID(n) {
			return g, "", scim.Errorf(scim.InvalidValue, "%q is not a license or role name", n)
		}
	}
	region, _ := ext["region"].(string)
	return g, region, nil
}

// nameDisplay is the display name a SCIM name makes: formatted, or the
// given and family names.
func nameDisplay(v any) string {
	name, _ := v.(map[string]any)
	if f, _ := name["formatted"].(string); f != "" {
		return f
	}
	var parts []string
	for _, k := range []string{"givenName", "familyName"} {
		if v, _ := name[k].(string); v != "" {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, " ")
}

func asStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func primaryEmail(v any) string {
	list, _ := v.([]any)
	first := ""
	for _, el := range list {
		m, _ := el.(map[string]any)
		val, _ := m["value"].(string)
		if m["primary"] == true {
			return val
		}
		if first == "" {
			first = val
		}
	}
	return first
}

// decodeUser reads a User resource from the body and normalizes it.
func decodeUser(w http.ResponseWriter, r *http.Request) (scim.Resource, error) {
	var in scim.Resource
	if err := readSCIMBody(w, r, &in); err != nil {
		return nil, err
	}
	return scim.Users.Normalize(in)
}

func (s *Server) scimCreateUser(w http.ResponseWriter, r *http.Request) error {
	a, err := s.scimAccountOf(r)
	if err != nil {
		return err
	}
	res, err := decodeUser(w, r)
	if err != nil {
		return err
	}
	p, err := a.provisionOf(res, "")
	if err != nil {
		return err
	}
	u, _, err := s.Store.ProvisionUser(r.Context(), actorOf(r), p)
	if err != nil {
		return err
	}
	w.Header().Set("Location", a.base+"/Users/"+u.ID)
	answerResource(w, http.StatusCreated, a.userResource(u), u.ETag())
	return nil
}

// scimUser reads the user of the path, and checks If-Match.
func (s *Server) scimUser(r *http.Request) (scimAccount, seatkeeper.ProvisionedUser, error) {
	return scimRead(s, r, "user", s.Store.ProvisionedUser, seatkeeper.ProvisionedUser.ETag)
}

func (s *Server) scimGetUser(w http.ResponseWriter, r *http.Request) error {
	a, u, err := s.scimUser(r)
	if err != nil {
		return err
	}
	answerRead(w, r, scim.Users, a.userResource(u), u.ETag())
	return nil
}

func (s *Server) scimReplaceUser(w http.ResponseWriter, r *http.Request) error {
	if _, _, err := s.scimUser(r); err != nil {
		return err // an unknown user before a bad body
	}
	res, err := decodeUser(w, r)
	if err != nil {
		return err
	}
	return s.scimChangeUser(w, r, func(a scimAccount, cur seatkeeper.ProvisionedUser) (seatkeeper.Provision, error) {
		return a.provisionOf(res, cur.ID)
	})
}

func (s *Server) scimPatchUser(w http.ResponseWriter, r *http.Request) error {
	var req scim.PatchRequest
	if err := readSCIMBody(w, r, &req); err != nil {
		return err
	}
	return s.scimChangeUser(w, r, func(a scimAccount, cur seatkeeper.ProvisionedUser) (seatkeeper.Provision, error) {
		res := a.userResource(cur)
		formatted := formattedName(res)
		if err := scim.Users.Patch(res, req.Operations); err != nil {
			return seatkeeper.Provision{}, err
		}
		refreshFormatted(res, formatted)
		norm, err := scim.Users.Normalize(res)
		if err != nil {
			return seatkeeper.Provision{}, err
		}
		p, err := a.provisionOf(norm, cur.ID)
		if !patchesExtension(req.Operations) {
			p.Grants = nil // leave the SCIM grants as they are
		}
		return p, err
	})
}

// scimChangeUser reads the user, lets change make the write, and makes it
// on condition that the user has not changed meanwhile.
func (s *Server) scimChangeUser(w http.ResponseWriter, r *http.Request, change func(a scimAccount, cur seatkeeper.ProvisionedUser) (seatkeeper.Provision, error)) error {
	return untilUnchanged(func() error {
		a, cur, err := s.scimUser(r)
		if err != nil {
			return err
		}
		p, err := change(a, cur)
		if err != nil {
			return err
		}
		p.IfMatch = cur.ETag()
		u, _, err := s.Store.ProvisionUser(r.Context(), actorOf(r), p)
		if err != nil {
			return err
		}
		answerResource(w, http.StatusOK, a.userResource(u), u.ETag())
		return nil
	})
}

// patchesExtension reports whether a PATCH touches the Seatkeeper
// extension; only then does it replace the user's SCIM grants.
func patchesExtension(ops []scim.PatchOp) bool {
	for _, op := range ops {
		if strings.HasPrefix(strings.ToLower(op.Path), strings.ToLower(scim.SeatkeeperUserSchema)) ||
			op.Path == "" && strings.Contains(strings.ToLower(string(op.Value)), strings.ToLower(scim.SeatkeeperUserSchema)) {
			return true
		}
	}
	return false
}

// formattedName is name.formatted, if the user has one.
func formattedName(res scim.Resource) string {
	name, _ := res["name"].(map[string]any)
	f, _ := name["formatted"].(string)
	return f
}

// refreshFormatted keeps name.formatted in step with the parts a PATCH
// changed, when it was the parts joined (as Entra ID expects).
func refreshFormatted(res scim.Resource, before string) {
	name, _ := res["name"].(map[string]any)
	if name == nil || before == "" || name["formatted"] != before {
		return
	}
	var parts []string
	for _, k := range []string{"honorificPrefix", "givenName", "middleName", "familyName", "honorificSuffix"} {
		if v, _ := name[k].(string); v != "" {
			parts = append(parts, v)
		}
	}
	if len(parts) > 0 {
		name["formatted"] = strings.Join(parts, " ")
	}
}

func (s *Server) scimDeleteUser(w http.ResponseWriter, r *http.Request) error {
	a, cur, err := s.scimUser(r)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteUser(r.Context(), actorOf(r), a.id, cur.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) scimListUsers(w http.ResponseWriter, r *http.Request) error {
	return scimList(s, w, r, scim.Users, scimAccount.userResource,
		func(ctx context.Context, a scimAccount, path, value string, offset, limit int) ([]seatkeeper.ProvisionedUser, int, error) {
			var m seatkeeper.UserMatch
			switch path {
			case "username":
				m.UserName = value
			case "externalid":
				m.ExternalID = value
			case "id":
				m.ID = value
			}
			return s.Store.ProvisionedUsers(ctx, a.id, m, offset, limit)
		})
}
