package scim_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/seatkeeper/seatkeeper/scim"
)

var filterSeeds = []string{
	`userName eq "bjensen"`,
	`name.familyName co "O'Malley"`,
	`userName sw "J"`,
	`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`,
	`title pr`,
	`meta.lastModified gt "2011-05-13T04:42:34Z"`,
	`title pr and userType eq "Employee"`,
	`title pr or userType eq "Intern"`,
	`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`,
	`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
	`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
	`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`,
	`active eq true`, `x eq 1.5`, `x eq null`, `(`, `userName eq`, `not`, `a[b[c eq 1]]`, "\x00", `userName eq "\u00e9"`,
}

// FuzzParseFilter: any input is parsed into a filter or refused with an
// invalidFilter error, never a panic; a parsed filter can be evaluated.
func FuzzParseFilter(f *testing.F) {
	for _, s := range filterSeeds {
		f.Add(s)
	}
	res := scim.Resource{"userName": "bjensen", "title": "x", "emails": []any{map[string]any{"type": "work", "value": "b@example.com"}},
		"meta": map[string]any{"lastModified": "2020-01-01T00:00:00Z"}}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := scim.ParseFilter(s)
		if err != nil {
			var se *scim.Error
			if !errors.As(err, &se) || se.Status != 400 || se.ScimType != scim.InvalidFilter {
				t.Fatalf("%q: error %v is not a 400 invalidFilter", s, err)
			}
			return
		}
		scim.Users.Match(e, res)
		scim.Groups.Match(e, res)
		scim.Equality(e)
	})
}

var pathSeeds = []string{
	"userName", "name.givenName", `emails[type eq "work"].value`, `members[value eq "2819c223"]`,
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
	"urn:seatkeeper:params:scim:schemas:extension:2.0:User:licenses",
	`addresses[type eq "work"].streetAddress`, "members", "active", "[", `emails[`, "a.b.c", "",
}

// FuzzParsePath: any PATCH path is parsed or refused with invalidPath.
func FuzzParsePath(f *testing.F) {
	for _, s := range pathSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, rt := range []*scim.ResourceType{scim.Users, scim.Groups} {
			if _, err := rt.ParsePath(s); err != nil {
				var se *scim.Error
				if !errors.As(err, &se) || se.Status != 400 || se.ScimType != scim.InvalidPath {
					t.Fatalf("%q: error %v is not a 400 invalidPath", s, err)
				}
			}
		}
	})
}

// FuzzPatch: any operation, applied to a user, either works or is a 400
// SCIM error, never a panic; what it makes is normalized or refused the
// same way.
func FuzzPatch(f *testing.F) {
	for _, p := range pathSeeds {
		f.Add("replace", p, `"x"`)
		f.Add("add", p, `[{"value":"v","type":"work"}]`)
		f.Add("remove", p, ``)
	}
	f.Add("Replace", "", `{"active":"False","name":{"givenName":"A"}}`)
	f.Add("remove", "members", `[{"value":"a"}]`)
	f.Fuzz(func(t *testing.T, op, path, value string) {
		res := scim.Resource{"userName": "bjensen", "name": map[string]any{"givenName": "B"},
			"emails": []any{map[string]any{"type": "work", "value": "b@example.com", "primary": true}}}
		err := scim.Users.Patch(res, []scim.PatchOp{{Op: op, Path: path, Value: json.RawMessage(value)}})
		if err == nil {
			_, err = scim.Users.Normalize(res)
		}
		if err != nil {
			var se *scim.Error
			if !errors.As(err, &se) || se.Status != 400 || se.ScimType == "" {
				t.Fatalf("%s %q %q: error %v is not a 400 with a scimType", op, path, value, err)
			}
		}
	})
}
