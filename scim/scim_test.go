package scim_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/seatkeeper/seatkeeper/scim"
)

func resource(t *testing.T, s string) scim.Resource {
	t.Helper()
	var r scim.Resource
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func ops(t *testing.T, s string) []scim.PatchOp {
	t.Helper()
	var o []scim.PatchOp
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestPatch(t *testing.T) {
	for _, c := range []struct {
		name, before, ops, after string
	}{
		{"okta_no_path_replace",
			`{"userName":"a","active":true}`,
			`[{"op":"replace","value":{"active":false}}]`,
			`{"userName":"a","active":false}`},
		{"entra_filtered_replace_creates",
			`{"userName":"a"}`,
			`[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"a@x"}]`,
			`{"userName":"a","emails":[{"type":"work","value":"a@x"}]}`},
		{"entra_filtered_replace_changes",
			`{"userName":"a","emails":[{"type":"work","value":"old"},{"type":"home","value":"h"}]}`,
			`[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new"}]`,
			`{"userName":"a","emails":[{"type":"work","value":"new"},{"type":"home","value":"h"}]}`},
		{"okta_member_removal",
			`{"displayName":"g","members":[{"value":"a"},{"value":"b"}]}`,
			`[{"op":"remove","path":"members[value eq \"a\"]"}]`,
			`{"displayName":"g","members":[{"value":"b"}]}`},
		{"entra_member_removal_by_value",
			`{"displayName":"g","members":[{"value":"a"},{"value":"b"}]}`,
			`[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"b"}]}]`,
			`{"displayName":"g","members":[{"value":"a"}]}`},
		{"add_member_once",
			`{"displayName":"g","members":[{"value":"a"}]}`,
			`[{"op":"add","path":"members","value":[{"value":"a"},{"value":"c"}]}]`,
			`{"displayName":"g","members":[{"value":"a"},{"value":"c"}]}`},
		{"sub_attribute",
			`{"userName":"a","name":{"givenName":"A","familyName":"B"}}`,
			`[{"op":"replace","path":"name.familyName","value":"C"},{"op":"remove","path":"name.givenName"}]`,
			`{"userName":"a","name":{"familyName":"C"}}`},
		{"extension_attribute",
			`{"userName":"a"}`,
			`[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m1"}]`,
			`{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m1"}}}`},
		{"no_path_with_extension",
			`{"userName":"a"}`,
			`[{"op":"add","value":{"urn:seatkeeper:params:scim:schemas:extension:2.0:User":{"plan":"premium"},"title":"T"}}]`,
			`{"userName":"a","title":"T","urn:seatkeeper:params:scim:schemas:extension:2.0:User":{"plan":"premium"}}`},
		{"okta_id_unchanged_is_ignored",
			`{"id":"x","displayName":"g"}`,
			`[{"op":"replace","value":{"id":"x","displayName":"h"}}]`,
			`{"id":"x","displayName":"h"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			rt := scim.Users
			if c.name == "okta_member_removal" || c.name == "entra_member_removal_by_value" || c.name == "add_member_once" || c.name == "okta_id_unchanged_is_ignored" {
				rt = scim.Groups
			}
			res := resource(t, c.before)
			if err := rt.Patch(res, ops(t, c.ops)); err != nil {
				t.Fatal(err)
			}
			if want := resource(t, c.after); !reflect.DeepEqual(res, want) {
				got, _ := json.Marshal(res)
				t.Errorf("got %s, want %s", got, c.after)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	res := resource(t, `{"id":"Ab","userName":"Bjensen","active":true,"emails":[{"type":"work","value":"b@Example.com"}],
		"meta":{"lastModified":"2020-05-01T00:00:00Z"},"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Ops"}}`)
	for f, want := range map[string]bool{
		`userName eq "bjensen"`:                       true,  // caseExact false
		`id eq "ab"`:                                  false, // caseExact
		`id eq "Ab"`:                                  true,
		`emails co "example.COM"`:                     true,
		`emails[type eq "home"]`:                      false,
		`active eq true and not (userName sw "x")`:    true,
		`meta.lastModified lt "2021-01-01T00:00:00Z"`: true,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "ops"`: true,
		`title pr`:              false,
		`userName ne "bjensen"`: false,
	} {
		e, err := scim.ParseFilter(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if got := scim.Users.Match(e, res); got != want {
			t.Errorf("%s: %v, want %v", f, got, want)
		}
	}
}

// TestMatch_CaselessInUnicode: attributes that are not caseExact compare
// as the store compares names (seatkeeper.NameKey): canonical caseless
// matching, so that a filter the store answers by a name's key and one
// evaluated here agree.
func TestMatch_CaselessInUnicode(t *testing.T) {
	res := resource(t, `{"id":"1","userName":"Jos\u00e9 Stra\u00dfe","displayName":"\u03a3\u0391\u03a3"}`)
	for f, want := range map[string]bool{
		"userName eq \"JOSE\u0301 STRASSE\"": true, // decomposed é, ß folded to ss
		`userName sw "josé s"`:               true,
		`userName ew "strasse"`:              true,
		`userName eq "jose strasse"`:         false,
		`displayName eq "σας"`:               true, // final sigma
	} {
		e, err := scim.ParseFilter(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if got := scim.Users.Match(e, res); got != want {
			t.Errorf("%s: %v, want %v", f, got, want)
		}
	}
}

func TestEquality(t *testing.T) {
	for f, want := range map[string][3]any{
		`userName eq "a"`:                    {"username", "a", true},
		`userName eq "a" and active eq true`: {"username", "a", false},
		`title eq "x" or userName eq "a"`:    {"", "", false},
		`emails.value eq "a@b"`:              {"emails.value", "a@b", true},
	} {
		e, err := scim.ParseFilter(f)
		if err != nil {
			t.Fatal(err)
		}
		p, v, exact := scim.Equality(e)
		if got := [3]any{p, v, exact}; got != want {
			t.Errorf("%s: %v, want %v", f, got, want)
		}
	}
}

func TestProject(t *testing.T) {
	res := resource(t, `{"id":"1","schemas":["s"],"userName":"a","password":"p","name":{"givenName":"A","familyName":"B"},"title":"T"}`)
	got := scim.Users.Project(res, "name.givenName", "")
	want := resource(t, `{"id":"1","schemas":["s"],"name":{"givenName":"A"}}`)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("attributes: %v", got)
	}
	got = scim.Users.Project(resource(t, `{"id":"1","userName":"a","title":"T","password":"p"}`), "", "title,id")
	if !reflect.DeepEqual(got, resource(t, `{"id":"1","userName":"a"}`)) {
		t.Errorf("excludedAttributes (id is always returned, password never): %v", got)
	}
}
