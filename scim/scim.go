// Package scim is the SCIM 2.0 protocol (RFC 7643, RFC 7644) without I/O:
// the schemas Seatkeeper serves, resources as JSON objects, the filter
// grammar (parsed by github.com/scim2/filter-parser/v2) evaluated on them,
// PATCH operations, attribute projection and the SCIM error document. The
// HTTP adapter (httpapi/scim*.go) maps resources to and from the store.
package scim

import (
	"fmt"
	"net/http"
)

// Schema and message URNs.
const (
	UserSchema           = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupSchema          = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseUserSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	// SeatkeeperUserSchema is Seatkeeper's extension: plan, add-ons,
	// licenses and roles given over SCIM (SPEC §6).
	SeatkeeperUserSchema        = "urn:seatkeeper:params:scim:schemas:extension:2.0:User"
	ListResponseSchema          = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	PatchOpSchema               = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	ErrorSchema                 = "urn:ietf:params:scim:api:messages:2.0:Error"
	ServiceProviderConfigSchema = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	ResourceTypeSchema          = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	SchemaSchema                = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// ContentType is the media type of every SCIM body.
const ContentType = "application/scim+json"

// The scimType values of RFC 7644 §3.12.
const (
	InvalidFilter = "invalidFilter"
	TooMany       = "tooMany"
	Uniqueness    = "uniqueness"
	Mutability    = "mutability"
	InvalidSyntax = "invalidSyntax"
	InvalidPath   = "invalidPath"
	NoTarget      = "noTarget"
	InvalidValue  = "invalidValue"
	InvalidVers   = "invalidVers"
	Sensitive     = "sensitive"
)

// Error is a SCIM error: an HTTP status, a scimType for 400s (and 409
// uniqueness) and a detail for people.
type Error struct {
	Status   int
	ScimType string
	Detail   string
}

func (e *Error) Error() string { return fmt.Sprintf("scim %d %s: %s", e.Status, e.ScimType, e.Detail) }

// Errorf is a 400 with the given scimType.
func Errorf(scimType, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// ErrorBody is the error document of RFC 7644 §3.12; status is a string.
type ErrorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail"`
}

// Body returns the error document of e.
func (e *Error) Body() ErrorBody {
	return ErrorBody{Schemas: []string{ErrorSchema}, Status: fmt.Sprint(e.Status), ScimType: e.ScimType, Detail: e.Detail}
}

// ListResponse is a page of resources (RFC 7644 §3.4.2).
type ListResponse struct {
	Schemas      []string   `json:"schemas"`
	TotalResults int        `json:"totalResults"`
	StartIndex   int        `json:"startIndex"`
	ItemsPerPage int        `json:"itemsPerPage"`
	Resources    []Resource `json:"Resources"`
}

// Resource is a SCIM resource as a JSON object. Core attributes are at the
// top; an extension's attributes are in an object under its URN.
type Resource = map[string]any
