package scim

import "strings"

// Attribute describes one attribute of a schema (RFC 7643 §7).
type Attribute struct {
	Name          string      `json:"name"`
	Type          string      `json:"type"`
	MultiValued   bool        `json:"multiValued"`
	Description   string      `json:"description,omitempty"`
	Required      bool        `json:"required"`
	CaseExact     bool        `json:"caseExact"`
	Mutability    string      `json:"mutability"`
	Returned      string      `json:"returned"`
	Uniqueness    string      `json:"uniqueness"`
	SubAttributes []Attribute `json:"subAttributes,omitempty"`
}

// Schema is one schema: its URN and attributes.
type Schema struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Attributes  []Attribute `json:"attributes"`
}

// Sub returns the sub-attribute named name (case-insensitively).
func (a *Attribute) Sub(name string) *Attribute { return find(a.SubAttributes, name) }

func find(attrs []Attribute, name string) *Attribute {
	for i := range attrs {
		if strings.EqualFold(attrs[i].Name, name) {
			return &attrs[i]
		}
	}
	return nil
}

func attr(name, typ string, opts ...func(*Attribute)) Attribute {
	a := Attribute{Name: name, Type: typ, Mutability: "readWrite", Returned: "default", Uniqueness: "none"}
	for _, o := range opts {
		o(&a)
	}
	return a
}

func multi(a *Attribute)     { a.MultiValued = true }
func required(a *Attribute)  { a.Required = true }
func caseExact(a *Attribute) { a.CaseExact = true }
func readOnly(a *Attribute)  { a.Mutability = "readOnly" }
func immutable(a *Attribute) { a.Mutability = "immutable" }
func unique(a *Attribute)    { a.Uniqueness = "server" }
func never(a *Attribute)     { a.Mutability, a.Returned = "writeOnly", "never" }
func subs(s ...Attribute) func(*Attribute) {
	return func(a *Attribute) { a.SubAttributes = s }
}

// multiComplex is a multi-valued attribute with value, display, type and
// primary (emails, phone numbers, …).
func multiComplex(name string, extra ...Attribute) Attribute {
	s := append([]Attribute{attr("value", "string"), attr("display", "string"), attr("type", "string"), attr("primary", "boolean")}, extra...)
	return attr(name, "complex", multi, subs(s...))
}

// common are the attributes of every resource (RFC 7643 §3.1).
var common = []Attribute{
	attr("id", "string", caseExact, readOnly, func(a *Attribute) { a.Returned, a.Uniqueness = "always", "server" }),
	attr("externalId", "string", caseExact),
	attr("meta", "complex", readOnly, subs(
		attr("resourceType", "string", readOnly, caseExact), attr("created", "dateTime", readOnly),
		attr("lastModified", "dateTime", readOnly), attr("location", "reference", readOnly, caseExact),
		attr("version", "string", readOnly, caseExact))),
}

// UserSchemaDef is the core User schema (RFC 7643 §4.1).
var UserSchemaDef = Schema{ID: UserSchema, Name: "User", Description: "User Account", Attributes: []Attribute{
	attr("userName", "string", required, unique),
	attr("name", "complex", subs(attr("formatted", "string"), attr("familyName", "string"), attr("givenName", "string"),
		attr("middleName", "string"), attr("honorificPrefix", "string"), attr("honorificSuffix", "string"))),
	attr("displayName", "string"), attr("nickName", "string"), attr("profileUrl", "reference"),
	attr("title", "string"), attr("userType", "string"), attr("preferredLanguage", "string"),
	attr("locale", "string"), attr("timezone", "string"), attr("active", "boolean"),
	attr("password", "string", never),
	multiComplex("emails"), multiComplex("phoneNumbers"), multiComplex("ims"), multiComplex("photos"),
	attr("addresses", "complex", multi, subs(attr("formatted", "string"), attr("streetAddress", "string"),
		attr("locality", "string"), attr("region", "string"), attr("postalCode", "string"),
		attr("country", "string"), attr("type", "string"), attr("primary", "boolean"))),
	attr("groups", "complex", multi, readOnly, subs(attr("value", "string", readOnly), attr("$ref", "reference", readOnly),
		attr("display", "string", readOnly), attr("type", "string", readOnly))),
	multiComplex("entitlements"), multiComplex("roles"), multiComplex("x509Certificates"),
}}

// EnterpriseUserSchemaDef is the enterprise extension (RFC 7643 §4.3).
var EnterpriseUserSchemaDef = Schema{ID: EnterpriseUserSchema, Name: "EnterpriseUser", Description: "Enterprise User", Attributes: []Attribute{
	attr("employeeNumber", "string"), attr("costCenter", "string"), attr("organization", "string"),
	attr("division", "string"), attr("department", "string"),
	attr("manager", "complex", subs(attr("value", "string"), attr("$ref", "reference"), attr("displayName", "string", readOnly))),
}}

// SeatkeeperUserSchemaDef is Seatkeeper's extension (SPEC §6): setting it
// replaces what the user holds with source scim.
var SeatkeeperUserSchemaDef = Schema{ID: SeatkeeperUserSchema, Name: "SeatkeeperUser", Description: "Seatkeeper licenses and roles given by the identity provider", Attributes: []Attribute{
	attr("plan", "string", caseExact, func(a *Attribute) { a.Description = "a license of kind plan" }),
	attr("addons", "string", multi, caseExact, func(a *Attribute) { a.Description = "licenses of kind addon" }),
	attr("licenses", "string", multi, caseExact, func(a *Attribute) { a.Description = "other per-user licenses (kind type)" }),
	attr("roles", "string", multi, caseExact, func(a *Attribute) { a.Description = "service:role" }),
	attr("region", "string", caseExact, func(a *Attribute) { a.Description = "the account's region (us or eu); another is refused" }),
}}

// GroupSchemaDef is the core Group schema (RFC 7643 §4.2).
var GroupSchemaDef = Schema{ID: GroupSchema, Name: "Group", Description: "Group", Attributes: []Attribute{
	attr("displayName", "string", required),
	attr("members", "complex", multi, subs(attr("value", "string", immutable, caseExact), attr("$ref", "reference", immutable),
		attr("display", "string"), attr("type", "string", immutable))),
}}

// ResourceType is a kind of resource: its schema and extensions.
type ResourceType struct {
	Name       string
	Endpoint   string
	Schema     *Schema
	Extensions []*Schema
}

// Users and Groups are the resource types served.
var (
	Users  = &ResourceType{Name: "User", Endpoint: "/Users", Schema: &UserSchemaDef, Extensions: []*Schema{&EnterpriseUserSchemaDef, &SeatkeeperUserSchemaDef}}
	Groups = &ResourceType{Name: "Group", Endpoint: "/Groups", Schema: &GroupSchemaDef}
)

// Schemas lists every schema served, for /Schemas.
func Schemas() []*Schema {
	return []*Schema{&UserSchemaDef, &GroupSchemaDef, &EnterpriseUserSchemaDef, &SeatkeeperUserSchemaDef}
}

// extension returns the extension schema with the URN, or nil.
func (rt *ResourceType) extension(urn string) *Schema {
	for _, e := range rt.Extensions {
		if strings.EqualFold(e.ID, urn) {
			return e
		}
	}
	return nil
}

// lookup finds an attribute: in the extension named by urn, in the core
// schema (urn "" or the core URN), or among the common attributes. It
// returns the key of the object holding it ("" for the top) and the
// attribute, or nil.
func (rt *ResourceType) lookup(urn, name string) (string, *Attribute) {
	if urn != "" && !strings.EqualFold(urn, rt.Schema.ID) {
		e := rt.extension(urn)
		if e == nil {
			return "", nil
		}
		return e.ID, find(e.Attributes, name)
	}
	if a := find(rt.Schema.Attributes, name); a != nil {
		return "", a
	}
	return "", find(common, name)
}
