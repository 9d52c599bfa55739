package httpapi_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The OpenAPI document served at /v1/openapi.json is kept true by these
// tests: its operations are exactly the registered routes, each is
// complete, and who may call each one is what the server enforces.

// oasMethods are the operation keys of an OpenAPI path item.
var oasMethods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

type oasParameter struct {
	Ref      string `json:"$ref"`
	Name     string `json:"name"`
	In       string `json:"in"`
	Required bool   `json:"required"`
}

type oasResponse struct {
	Ref     string                     `json:"$ref"`
	Content map[string]json.RawMessage `json:"content"`
}

type oasOperation struct {
	OperationID string                 `json:"operationId"`
	Summary     string                 `json:"summary"`
	Description string                 `json:"description"`
	Parameters  []oasParameter         `json:"parameters"`
	Security    *[]map[string][]string `json:"security"`
	Responses   map[string]oasResponse `json:"responses"`
	Access      string                 `json:"x-seatkeeper-access"`
}

// oasOp is one operation with what it inherits from its path item and the
// document.
type oasOp struct {
	Method, Path string
	oasOperation
	PathParams []oasParameter // the path item's parameters, then the operation's
	NeedsToken bool           // effective security requires a token
}

func (o oasOp) route() string { return strings.ToUpper(o.Method) + " " + o.Path }

type oasDocument struct {
	OpenAPI    string                                `json:"openapi"`
	Security   []map[string][]string                 `json:"security"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
		Parameters      map[string]oasParameter    `json:"parameters"`
		Responses       map[string]oasResponse     `json:"responses"`
		Schemas         map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

// fetchOpenAPI gets the document from the running server and parses it.
func fetchOpenAPI(t *testing.T, e *env) (*oasDocument, []byte) {
	t.Helper()
	r := e.do("", "GET", "/v1/openapi.json", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /v1/openapi.json: status %d: %s", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET /v1/openapi.json: content type %q, want application/json", ct)
	}
	var doc oasDocument
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatalf("the OpenAPI document is not valid JSON: %v", err)
	}
	return &doc, r.Body
}

// parameter resolves a parameter or a reference to components/parameters.
func (d *oasDocument) parameter(p oasParameter) (oasParameter, error) {
	if p.Ref == "" {
		return p, nil
	}
	name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/")
	if !ok {
		return p, fmt.Errorf("parameter $ref %q is not to #/components/parameters/", p.Ref)
	}
	q, ok := d.Components.Parameters[name]
	if !ok {
		return p, fmt.Errorf("parameter $ref %q names no parameter", p.Ref)
	}
	return q, nil
}

// response resolves a response or a reference to components/responses.
func (d *oasDocument) response(r oasResponse) (oasResponse, error) {
	if r.Ref == "" {
		return r, nil
	}
	name, ok := strings.CutPrefix(r.Ref, "#/components/responses/")
	if !ok {
		return r, fmt.Errorf("response $ref %q is not to #/components/responses/", r.Ref)
	}
	q, ok := d.Components.Responses[name]
	if !ok {
		return r, fmt.Errorf("response $ref %q names no response", r.Ref)
	}
	return q, nil
}

// operations lists every operation of the document, sorted by route.
func (d *oasDocument) operations(t *testing.T) []oasOp {
	t.Helper()
	var out []oasOp
	for path, item := range d.Paths {
		var shared []oasParameter
		if raw, ok := item["parameters"]; ok {
			if err := json.Unmarshal(raw, &shared); err != nil {
				t.Errorf("%s: parameters: %v", path, err)
			}
		}
		for key, raw := range item {
			switch {
			case key == "parameters" || key == "summary" || key == "description":
				continue
			case !slices.Contains(oasMethods, key):
				t.Errorf("%s: unexpected path item member %q", path, key)
				continue
			}
			op := oasOp{Method: key, Path: path}
			if err := json.Unmarshal(raw, &op.oasOperation); err != nil {
				t.Errorf("%s %s: %v", key, path, err)
				continue
			}
			op.PathParams = append(slices.Clone(shared), op.Parameters...)
			security := d.Security
			if op.Security != nil {
				security = *op.Security
			}
			// A requirement that is empty ({}) makes the token optional.
			op.NeedsToken = len(security) > 0 && !slices.ContainsFunc(security, func(s map[string][]string) bool { return len(s) == 0 })
			out = append(out, op)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].route() < out[j].route() })
	return out
}

var oasTemplateParam = regexp.MustCompile(`{([^}]+)}`)

// templateParams returns the parameter names of a path template; a Go
// wildcard such as {rest...} counts as {rest}.
func templateParams(path string) []string {
	var out []string
	for _, m := range oasTemplateParam.FindAllStringSubmatch(path, -1) {
		out = append(out, strings.TrimSuffix(m[1], "..."))
	}
	return out
}

// normalizeRoute writes a mux pattern the way an OpenAPI path is written.
func normalizeRoute(pattern string) string {
	pattern = strings.ReplaceAll(pattern, "...}", "}")
	return strings.TrimSuffix(pattern, "{$}")
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t, "")
	doc, raw := fetchOpenAPI(t, e)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if len(doc.Components.SecuritySchemes) == 0 || len(doc.Security) == 0 {
		t.Errorf("the document has no global bearer security")
	}

	routes := map[string]bool{}
	for _, p := range e.API.Routes() {
		routes[normalizeRoute(p)] = true
	}
	if len(routes) == 0 {
		t.Fatal("the server registered no routes")
	}
	ops := doc.operations(t)
	documented := map[string]oasOp{}
	for _, op := range ops {
		documented[op.route()] = op
	}

	// (a) every registered route is documented, (b) and nothing else is.
	for r := range routes {
		if _, ok := documented[r]; !ok {
			t.Errorf("route %q is registered but not in openapi.json", r)
		}
	}
	for r := range documented {
		if !routes[r] {
			t.Errorf("openapi.json documents %q, which is not a registered route", r)
		}
	}

	ids := map[string]string{}
	for _, op := range ops {
		r := op.route()
		// (c) operationId, a 2xx (or 3xx) answer, and 401 where a token is needed.
		switch {
		case op.OperationID == "":
			t.Errorf("%s: no operationId", r)
		case ids[op.OperationID] != "":
			t.Errorf("%s: operationId %q is also used by %s", r, op.OperationID, ids[op.OperationID])
		}
		ids[op.OperationID] = r
		if op.Summary == "" || op.Description == "" {
			t.Errorf("%s: needs a summary and a description", r)
		}
		success := false
		for code, resp := range op.Responses {
			success = success || (len(code) == 3 && (code[0] == '2' || code[0] == '3')) // a redirect is a success too
			res, err := doc.response(resp)
			if err != nil {
				t.Errorf("%s %s: %v", r, code, err)
				continue
			}
			if code[0] == '4' {
				// SCIM answers its own error documents (RFC 7644 §3.12).
				want := "application/problem+json"
				if strings.HasPrefix(op.Path, "/scim/") {
					want = "application/scim+json"
				}
				if _, ok := res.Content[want]; !ok || len(res.Content) != 1 {
					t.Errorf("%s %s: a 4xx answer is %s only, got %v", r, code, want, slices.Collect(maps.Keys(res.Content)))
				}
			}
		}
		if !success {
			t.Errorf("%s: no 2xx or 3xx response", r)
		}
		if _, ok := op.Responses["401"]; op.NeedsToken && !ok {
			t.Errorf("%s: needs a token but documents no 401 response", r)
		}

		// (d) every parameter of the path template is declared, as a
		// required path parameter, and no undeclared one is.
		declared := map[string]bool{}
		for _, p := range op.PathParams {
			p, err := doc.parameter(p)
			if err != nil {
				t.Errorf("%s: %v", r, err)
				continue
			}
			if p.In != "path" {
				continue
			}
			if !p.Required {
				t.Errorf("%s: path parameter %q must be required", r, p.Name)
			}
			declared[p.Name] = true
		}
		inTemplate := templateParams(op.Path)
		for _, name := range inTemplate {
			if !declared[name] {
				t.Errorf("%s: path parameter {%s} is not declared in parameters", r, name)
			}
		}
		for name := range declared {
			if !slices.Contains(inTemplate, name) {
				t.Errorf("%s: declares path parameter %q, which is not in the path", r, name)
			}
		}

		// Whether a route needs a token is what the server does: without
		// one it answers 401 exactly where the document says a token is
		// needed.
		status := e.do("", strings.ToUpper(op.Method), samplePath(op.Path, "acme"), nil).Status
		switch {
		case op.NeedsToken && status != http.StatusUnauthorized:
			t.Errorf("%s: documented as needing a token, but answers %d without one", r, status)
		case !op.NeedsToken && status == http.StatusUnauthorized:
			t.Errorf("%s: documented as public (security: []), but answers 401 without a token", r)
		}
	}

	// Every $ref points at something.
	for _, m := range regexp.MustCompile(`"\$ref":\s*"([^"]*)"`).FindAllSubmatch(raw, -1) {
		if !doc.refExists(string(m[1])) {
			t.Errorf("$ref %q points at nothing", m[1])
		}
	}
}

func (d *oasDocument) refExists(ref string) bool {
	rest, ok := strings.CutPrefix(ref, "#/components/")
	if !ok {
		return false
	}
	kind, name, _ := strings.Cut(rest, "/")
	switch kind {
	case "schemas":
		_, ok = d.Components.Schemas[name]
	case "parameters":
		_, ok = d.Components.Parameters[name]
	case "responses":
		_, ok = d.Components.Responses[name]
	case "securitySchemes":
		_, ok = d.Components.SecuritySchemes[name]
	default:
		ok = false
	}
	return ok
}

// samplePath fills a path template: {account} with account, every other
// parameter with an id that names nothing.
func samplePath(path, account string) string {
	return oasTemplateParam.ReplaceAllStringFunc(path, func(m string) string {
		if m == "{account}" {
			return account
		}
		return "openapi-test-none"
	})
}

// needsPermission returns the permission an access of the document needs
// of an app token's acting user: permission:<key> and view:<key>.
func needsPermission(access string) (string, bool) {
	if p, ok := strings.CutPrefix(access, "permission:"); ok {
		return p, true
	}
	return strings.CutPrefix(access, "view:")
}

// TestOpenAPIAccessMatchesRoutes checks who may call each operation, as
// its x-seatkeeper-access (and so its description) says, against what the
// server does with each kind of token. Every request either is refused
// before its handler runs or names nothing and carries a body with an
// unknown field, so none of them changes anything.
func TestOpenAPIAccessMatchesRoutes(t *testing.T) {
	e := newEnv(t, "")
	doc, _ := fetchOpenAPI(t, e)
	const acct = "acme"
	e.must(http.StatusCreated, "PUT", "/v1/accounts/"+acct, map[string]any{"name": "Acme", "region": "us"})
	admin, reader, app := e.token(acct, "admin"), e.token(acct, "reader"), e.token(acct, "app")
	e.must(http.StatusCreated, "PUT", "/v1/accounts/other", map[string]any{"name": "Other", "region": "eu"})
	otherAdmin := e.token("other", "admin")

	// For each permission a route needs: a user whose account role grants
	// only it, and one whose role grants every other account permission.
	var accountPerms []string
	var cat struct {
		Services []struct {
			Key         string `json:"key"`
			Permissions []struct {
				Key string `json:"key"`
			} `json:"permissions"`
		} `json:"services"`
	}
	e.must(http.StatusOK, "GET", "/v1/catalogs/contact-center", nil).JSON(t, &cat)
	for _, s := range cat.Services {
		if s.Key == "account" {
			for _, p := range s.Permissions {
				accountPerms = append(accountPerms, p.Key)
			}
		}
	}
	actingUsers := map[string][2]string{} // permission -> {has it, lacks it}
	ops := doc.operations(t)
	for _, op := range ops {
		perm, ok := needsPermission(op.Access)
		if !ok || actingUsers[perm] != [2]string{} {
			continue
		}
		if !slices.Contains(accountPerms, perm) {
			t.Errorf("%s: %s is not an account permission of the catalog", op.route(), perm)
			continue
		}
		role := strings.NewReplacer(".", "_").Replace(perm)
		others := slices.DeleteFunc(slices.Clone(accountPerms), func(p string) bool { return p == perm })
		e.must(http.StatusCreated, "PUT", "/v1/accounts/"+acct+"/roles/account/only_"+role, map[string]any{"permissions": []string{perm}})
		e.must(http.StatusCreated, "PUT", "/v1/accounts/"+acct+"/roles/account/but_"+role, map[string]any{"permissions": others})
		with, without := "with-"+role, "without-"+role
		e.must(http.StatusCreated, "PUT", "/v1/accounts/"+acct+"/users/"+with, nil)
		e.must(http.StatusCreated, "PUT", "/v1/accounts/"+acct+"/users/"+without, nil)
		e.must(http.StatusCreated, "PUT", "/v1/accounts/"+acct+"/users/"+with+"/roles/account/only_"+role, nil)
		e.must(http.StatusCreated, "PUT", "/v1/accounts/"+acct+"/users/"+without+"/roles/account/but_"+role, nil)
		actingUsers[perm] = [2]string{with, without}
	}

	for _, op := range ops {
		if !op.NeedsToken {
			if op.Access != "public" {
				t.Errorf("%s: needs no token, so x-seatkeeper-access must be public, not %q", op.route(), op.Access)
			}
			continue
		}
		perm, acted := needsPermission(op.Access)
		isPerm := strings.HasPrefix(op.Access, "permission:")
		restricted := isPerm || op.Access == "operator" || op.Access == "admin"
		// presence: operator, admin and app tokens (an app token needs no
		// acting user); reader tokens are refused.
		presence := op.Access == "presence"
		// view: any token of the account, but an app token acting for a
		// user only with the user's permission.
		view := acted && !isPerm
		if !restricted && !presence && !view && op.Access != "any_token" && op.Access != "account_token" {
			t.Errorf("%s: unknown x-seatkeeper-access %q", op.route(), op.Access)
			continue
		}
		if _, ok := op.Responses["403"]; ok != (restricted || presence || view) {
			t.Errorf("%s: access %s: documents a 403 response: %v, want %v", op.route(), op.Access, ok, restricted || presence || view)
		}
		if !strings.Contains(op.Description, "Who may call it") {
			t.Errorf("%s: the description does not say who may call it", op.route())
		}

		type try struct {
			who    string
			token  string
			acting string
			want   int // 403, 404, or 0 for allowed: neither 401 nor 403
		}
		refused := func(yes bool) int {
			if yes {
				return http.StatusForbidden
			}
			return 0
		}
		tries := []try{
			{"a reader token", reader, "", refused(restricted || presence)},
			{"an app token", app, "", refused(restricted)},
			{"an admin token", admin, "", refused(op.Access == "operator")},
		}
		if presence {
			// The acting user is neither needed nor checked: not even one
			// that does not exist makes a difference, for either kind.
			tries = append(tries,
				try{"an app token acting for a user that does not exist", app, "openapi-test-nobody", 0},
				try{"a reader token acting for a user that does not exist", reader, "openapi-test-nobody", http.StatusForbidden})
		}
		if acted {
			u := actingUsers[perm]
			tries = append(tries,
				try{"an app token acting for a user granted " + perm, app, u[0], 0},
				try{"an app token acting for a user lacking " + perm, app, u[1], http.StatusForbidden})
		}
		if slices.Contains(templateParams(op.Path), "account") {
			if _, ok := op.Responses["404"]; !ok {
				t.Errorf("%s: names an account but documents no 404 response", op.route())
			}
			tries = append(tries, try{"an admin token of another account", otherAdmin, "", http.StatusNotFound})
		}
		path := samplePath(op.Path, acct)
		for _, tr := range tries {
			var headers []string
			if tr.acting != "" {
				headers = append(headers, "Seatkeeper-Acting-User: "+tr.acting)
			}
			r := e.do(tr.token, strings.ToUpper(op.Method), path, `{"openapi_test_unknown_field": true}`, headers...)
			switch {
			case tr.want != 0 && r.Status != tr.want:
				t.Errorf("%s with %s: status %d, want %d (access %s): %s", op.route(), tr.who, r.Status, tr.want, op.Access, r.Body)
			case tr.want == 0 && (r.Status == http.StatusForbidden || r.Status == http.StatusUnauthorized):
				t.Errorf("%s with %s: status %d, want it allowed (access %s): %s", op.route(), tr.who, r.Status, op.Access, r.Body)
			}
		}
	}
}
