package httpapi_test

import (
	"testing"

	"github.com/seatkeeper/seatkeeper/httpapi"
)

func TestHealthAndReady(t *testing.T) {
	e := newEnv(t, "")
	for _, path := range []string{"/healthz", "/readyz"} {
		var body map[string]string
		r := e.do("", "GET", path, nil)
		if r.JSON(t, &body); r.Status != 200 || body["status"] == "" {
			t.Errorf("%s: %d %v", path, r.Status, body)
		}
	}
}

func TestListCatalogs(t *testing.T) {
	e := newEnv(t, "")
	var body struct {
		Items []struct {
			Name     string `json:"name"`
			Licenses int    `json:"licenses"`
		} `json:"items"`
	}
	e.must(200, "GET", "/v1/catalogs", nil).JSON(t, &body)
	if got, want := len(body.Items), 2; got != want {
		t.Fatalf("items = %d, want %d", got, want)
	}
	if body.Items[0].Name != "contact-center" || body.Items[1].Name != "wfo" {
		t.Errorf("names = %+v", body.Items)
	}
	if got, want := body.Items[1].Licenses, 17; got != want {
		t.Errorf("wfo licenses = %d, want %d", got, want)
	}
	if r := e.do("", "GET", "/v1/catalogs", nil); r.Status != 401 || r.Problem(t).Code != "unauthenticated" {
		t.Errorf("without a token: %d %s", r.Status, r.Body)
	}
}

func TestGetCatalog(t *testing.T) {
	e := newEnv(t, "")
	var body struct {
		Name     string `json:"name"`
		Licenses []struct {
			Key      string   `json:"key"`
			Kind     string   `json:"kind"`
			Sale     string   `json:"sale"`
			Features []string `json:"features"`
		} `json:"licenses"`
		Services []struct {
			Key   string `json:"key"`
			Roles []struct {
				Name     string   `json:"name"`
				Licenses []string `json:"licenses"`
			} `json:"roles"`
		} `json:"services"`
	}
	e.must(200, "GET", "/v1/catalogs/wfo", nil).JSON(t, &body)
	lic := map[string]int{}
	for i, l := range body.Licenses {
		lic[l.Key] = i
	}
	if got := body.Licenses[lic["performance_coaching"]].Sale; got != "not_for_sale" {
		t.Errorf("performance_coaching sale = %q", got)
	}
	// qm includes cr: the qm license lists cr's features too (R16).
	found := false
	for _, f := range body.Licenses[lic["qm"]].Features {
		found = found || f == "record_audio"
	}
	if !found {
		t.Errorf("qm features %v lack record_audio from cr", body.Licenses[lic["qm"]].Features)
	}
	for _, s := range body.Services {
		for _, r := range s.Roles {
			if s.Key == "wfo" && r.Name == "agent" && (len(r.Licenses) != 1 || r.Licenses[0] != "qm") {
				t.Errorf("wfo agent links %v, want [qm] (R15)", r.Licenses)
			}
		}
	}
}

func TestNotFoundIsProblemJSON(t *testing.T) {
	e := newEnv(t, "")
	for _, path := range []string{"/v1/catalogs/nope", "/v2/whatever"} {
		r := e.do(e.Operator, "GET", path, nil)
		p := r.Problem(t)
		if r.Status != 404 || p.Code != "not_found" || p.Status != 404 || p.Detail == "" {
			t.Errorf("%s: %d %+v", path, r.Status, p)
		}
	}
	var _ httpapi.Problem
}

// TestUncleanPathsNameNothing: a path with "." or ".." segments or "//" is
// answered 404 as it is, not redirected to its cleaned form, which a client
// would follow with the same method: DELETE …/sessions/.. (a session id of
// "..") deleted the account that way (found by FuzzPresenceInput).
func TestUncleanPathsNameNothing(t *testing.T) {
	e := newEnv(t, "")
	e.newAccount("acme", "contact-center")
	for _, r := range []struct{ method, path string }{
		{"DELETE", "/v1/accounts/acme/sessions/.."},
		{"DELETE", "/v1/accounts/acme/sessions/../"},
		{"DELETE", "/v1/accounts/acme/users/x/../.."},
		{"DELETE", "/v1/accounts//acme"},
		{"DELETE", "/v1/accounts/./acme"},
		{"GET", "/v1/accounts/acme/.."},
		{"POST", "/v1/accounts/acme/sessions/./"},
	} {
		res := e.do(e.Operator, r.method, r.path, nil)
		if p := res.Problem(t); res.Status != 404 || p.Code != "not_found" {
			t.Errorf("%s %s: %d %+v, want 404 not_found", r.method, r.path, res.Status, p)
		}
	}
	e.must(200, "GET", "/v1/accounts/acme", nil)
	// Escaped dots are a segment's value, not a path step: the handler
	// gets them, and ".." is no id.
	if res := e.do(e.Operator, "DELETE", "/v1/accounts/acme/sessions/%2E%2E", nil); res.Status != 400 || res.Problem(t).Code != "invalid_request" {
		t.Errorf("DELETE …/sessions/%%2E%%2E: %d %s", res.Status, res.Body)
	}
	e.must(200, "GET", "/v1/accounts/acme", nil)
}
