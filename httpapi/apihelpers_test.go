package httpapi_test

// Helpers shared by the API-level tests (rules_api_test.go,
// isolation_test.go, badinput_test.go, fuzz_test.go). They only speak HTTP.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/httpapi"
)

// withT returns a copy of the env that reports to t, for use inside
// subtests and fuzz functions (which must not call the parent's methods).
func (e *env) withT(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}

// mustAs sends a request with the token and fails unless the status is want.
func (e *env) mustAs(token string, want int, method, path string, body any, headers ...string) resp {
	e.t.Helper()
	r := e.do(token, method, path, body, headers...)
	if r.Status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// wantProblem checks that r is a problem+json answer with the status and
// code, and a status field and detail that agree.
func wantProblem(t testing.TB, r resp, status int, code string) httpapi.Problem {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	p := r.Problem(t)
	if got, want := p.Code, code; got != want {
		t.Errorf("code %q, want %q: %s", got, want, r.Body)
	}
	if got, want := p.Status, status; got != want {
		t.Errorf("problem status %d, want %d", got, want)
	}
	if p.Detail == "" {
		t.Errorf("problem without detail: %s", r.Body)
	}
	return p
}

// hasField reports whether a problem's errors[] names the field.
func hasField(p httpapi.Problem, field string) bool {
	return slices.ContainsFunc(p.Errors, func(f seatkeeper.FieldError) bool { return f.Field == field && f.Message != "" })
}

// newAccount creates an account on a catalog as the operator.
func (e *env) newAccount(id, cat string) {
	e.t.Helper()
	e.must(201, "PUT", "/v1/accounts/"+id, map[string]string{"name": "Account " + id, "region": "us", "catalog": cat})
}

// subscribe buys quantity seats of a license under a model.
func (e *env) subscribe(account, license, model string, quantity int) {
	e.t.Helper()
	r := e.do(e.Operator, "PUT", "/v1/accounts/"+account+"/subscriptions/"+license, map[string]any{"model": model, "quantity": quantity})
	if r.Status != 201 && r.Status != 200 {
		e.t.Fatalf("subscribe %s %s: %d %s", account, license, r.Status, r.Body)
	}
}

// newUser creates an active user.
func (e *env) newUser(account, id string) {
	e.t.Helper()
	e.must(201, "PUT", "/v1/accounts/"+account+"/users/"+id, map[string]any{"display_name": "User " + id, "email": id + "@example.com"})
}

// newUsers creates users prefix0 … prefix(n-1) and returns their ids.
func (e *env) newUsers(account, prefix string, n int) []string {
	e.t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s%03d", prefix, i)
		e.newUser(account, ids[i])
	}
	return ids
}

// assign assigns a license as the operator and returns the answer.
func (e *env) assign(account, user, license string) resp {
	e.t.Helper()
	return e.do(e.Operator, "PUT", "/v1/accounts/"+account+"/users/"+user+"/licenses/"+license, nil)
}

// grantRole gives a user a role as the operator, failing unless 201.
func (e *env) grantRole(account, user, service, role string) {
	e.t.Helper()
	e.must(201, "PUT", "/v1/accounts/"+account+"/users/"+user+"/roles/"+service+"/"+role, nil)
}

// newToken creates an account token and returns its id and secret.
func (e *env) newToken(account, kind string) (id, secret string) {
	e.t.Helper()
	var out struct {
		ID        string    `json:"id"`
		Kind      string    `json:"kind"`
		Token     string    `json:"token"`
		CreatedAt time.Time `json:"created_at"`
	}
	e.must(201, "POST", "/v1/accounts/"+account+"/tokens", map[string]string{"kind": kind, "name": kind + " token"}).JSON(e.t, &out)
	// Times are kept to the microsecond, as every other: the answer was
	// to the nanosecond, unlike what the store keeps.
	if out.ID == "" || out.Token == "" || out.Kind != kind || out.CreatedAt.IsZero() || out.CreatedAt.Nanosecond()%1000 != 0 {
		e.t.Fatalf("token answer %+v", out)
	}
	return out.ID, out.Token
}

// summary returns the license summary of an account by license.
func (e *env) summary(account string) map[string]seatkeeper.LicenseSummary {
	e.t.Helper()
	var body struct {
		Items []seatkeeper.LicenseSummary `json:"items"`
	}
	e.must(200, "GET", "/v1/accounts/"+account+"/licenses", nil).JSON(e.t, &body)
	out := map[string]seatkeeper.LicenseSummary{}
	for _, l := range body.Items {
		out[l.License] = l
	}
	return out
}

// line returns one license's summary line, failing if there is none.
func (e *env) line(account, license string) seatkeeper.LicenseSummary {
	e.t.Helper()
	l, ok := e.summary(account)[license]
	if !ok {
		e.t.Fatalf("no summary line for %s in account %s", license, account)
	}
	return l
}

// user returns a user as GET shows it.
func (e *env) user(account, id string) seatkeeper.User {
	e.t.Helper()
	var u seatkeeper.User
	e.must(200, "GET", "/v1/accounts/"+account+"/users/"+id, nil).JSON(e.t, &u)
	return u
}

func holds(u seatkeeper.User, license, source string) bool {
	return slices.Contains(u.Licenses, seatkeeper.HeldLicense{License: license, Source: source})
}

func hasRole(u seatkeeper.User, service, role, source string) bool {
	return slices.Contains(u.Roles, seatkeeper.HeldRole{Service: service, Role: role, Source: source})
}

// decision is the answer of GET …/check.
type decision struct {
	Allowed    bool     `json:"allowed"`
	Code       string   `json:"code"`
	Feature    string   `json:"feature"`
	Permission string   `json:"permission"`
	Via        []string `json:"via"`
	Roles      []string `json:"roles"`
}

// check asks a decision with the token and query ("feature=x" or "permission=y").
func (e *env) check(token, account, user, query string) decision {
	e.t.Helper()
	var d decision
	e.mustAs(token, 200, "GET", "/v1/accounts/"+account+"/users/"+user+"/check?"+query, nil).JSON(e.t, &d)
	return d
}

// auditRecords returns an account's audit trail.
func (e *env) auditRecords(account string) []seatkeeper.AuditRecord {
	e.t.Helper()
	var body struct {
		Items []seatkeeper.AuditRecord `json:"items"`
	}
	e.must(200, "GET", "/v1/accounts/"+account+"/audit", nil).JSON(e.t, &body)
	return body.Items
}

// state is everything the API shows of an account, read as the operator:
// comparing two states says whether anything was written in between. Live
// sessions (with their expiry, which a heartbeat moves) and pools are part
// of it.
func (e *env) state(account string) string {
	e.t.Helper()
	var b strings.Builder
	for _, p := range []string{"", "/users?limit=1000", "/subscriptions", "/settings", "/roles", "/licenses", "/audit", "/sessions", "/pools", "/group-mappings"} {
		r := e.must(200, "GET", "/v1/accounts/"+account+p, nil)
		fmt.Fprintf(&b, "%s: %s\n", p, r.Body)
	}
	for _, p := range []string{"/Users?count=1000", "/Groups"} {
		r := e.must(200, "GET", "/scim/v2/"+account+p, nil)
		fmt.Fprintf(&b, "scim %s: %s\n", p, r.Body)
	}
	return b.String()
}

// sameState fails the test, showing the first difference, if the account
// changed since before.
func (e *env) sameState(account, before string) {
	e.t.Helper()
	after := e.state(account)
	if after == before {
		return
	}
	bl, al := strings.Split(before, "\n"), strings.Split(after, "\n")
	for i := range min(len(bl), len(al)) {
		if bl[i] != al[i] {
			e.t.Fatalf("account %s changed:\nbefore %s\nafter  %s", account, bl[i], al[i])
		}
	}
	e.t.Fatalf("account %s changed", account)
}

// rawDo is a request without a testing.TB, safe in any goroutine.
func rawDo(url, token, method, path string, body any, headers ...string) (resp, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return resp{}, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url+path, rd)
	if err != nil {
		return resp{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return resp{Status: res.StatusCode, Header: res.Header, Body: data}, err
}
