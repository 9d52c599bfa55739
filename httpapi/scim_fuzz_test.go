package httpapi_test

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/seatkeeper/seatkeeper/scim"
)

// scimFuzzSeeds are SCIM bodies as identity providers send them, and
// near misses.
var scimFuzzSeeds = []string{
	`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"fz@example.com","name":{"givenName":"F","familyName":"Z"},"emails":[{"primary":true,"value":"fz@example.com","type":"work"}],"active":true}`,
	`{"userName":"x","urn:seatkeeper:params:scim:schemas:extension:2.0:User":{"plan":"essentials","addons":["qm"],"roles":["qm:agent"]}}`,
	`{"userName":"x","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"m"}}`,
	`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`,
	`{"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"a@b"},{"op":"Replace","path":"active","value":"False"}]}`,
	`{"Operations":[{"op":"remove","path":"members[value eq \"u1\"]"},{"op":"add","path":"members","value":[{"value":"u1"}]}]}`,
	`{"Operations":[{"op":"add","path":"urn:seatkeeper:params:scim:schemas:extension:2.0:User:licenses","value":["qm"]}]}`,
	`{"displayName":"G","members":[{"value":"u1"}]}`,
	`{"Operations":[{"op":"replace","path":"name.givenName","value":{"x":1}}]}`,
	`{"userName":null}`, `[]`, `{"Operations":"x"}`, ``, `null`,
}

// FuzzSCIMBodies sends each input to every SCIM endpoint that takes a
// body: never a 500; a 4xx is a SCIM error document with its status as a
// string; a 2xx is application/scim+json.
//
//	go test ./httpapi -run '^$' -fuzz FuzzSCIMBodies -fuzztime 45s
func FuzzSCIMBodies(f *testing.F) {
	e := newEnv(f, "")
	e.newAccount("fz", "contact-center")
	e.subscribe("fz", "essentials", "named", 1000)
	e.subscribe("fz", "qm", "named", 1000)
	e.newUser("fz", "u1")
	var g struct{ ID string }
	e.must(201, "POST", "/scim/v2/fz/Groups", map[string]any{"displayName": "fuzz"}).JSON(f, &g)
	endpoints := []struct{ method, path string }{
		{"POST", "/scim/v2/fz/Users"},
		{"PUT", "/scim/v2/fz/Users/u1"},
		{"PATCH", "/scim/v2/fz/Users/u1"},
		{"POST", "/scim/v2/fz/Groups"},
		{"PUT", "/scim/v2/fz/Groups/" + g.ID},
		{"PATCH", "/scim/v2/fz/Groups/" + g.ID},
	}
	for _, s := range scimFuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e := e.withT(t)
		for _, ep := range endpoints {
			r := e.do(e.Operator, ep.method, ep.path, string(body))
			if ct := r.Header.Get("Content-Type"); ct != scim.ContentType {
				t.Fatalf("%s %s %q: %d with content type %q", ep.method, ep.path, body, r.Status, ct)
			}
			switch {
			case r.Status >= 500:
				t.Fatalf("%s %s %q: status %d: %s", ep.method, ep.path, body, r.Status, r.Body)
			case r.Status >= 400:
				var doc scim.ErrorBody
				if err := json.Unmarshal(r.Body, &doc); err != nil || doc.Status != strconv.Itoa(r.Status) || doc.Detail == "" ||
					len(doc.Schemas) != 1 || doc.Schemas[0] != scim.ErrorSchema {
					t.Fatalf("%s %s %q: error document %s (%v)", ep.method, ep.path, body, r.Body, err)
				}
			case r.Status < 200 || r.Status >= 300 || !json.Valid(r.Body):
				t.Fatalf("%s %s %q: %d %s", ep.method, ep.path, body, r.Status, r.Body)
			}
		}
	})
}
