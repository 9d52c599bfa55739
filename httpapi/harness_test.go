package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/httpapi"
	"github.com/seatkeeper/seatkeeper/scim"
	"github.com/seatkeeper/seatkeeper/snapshot"
	"github.com/seatkeeper/seatkeeper/sqlstore"
	"github.com/seatkeeper/seatkeeper/sqlstore/sqlstoretest"
)

// env is a running API on a fresh store, with an operator token.
type env struct {
	t        testing.TB
	URL      string
	Operator string // operator secret
	Store    *sqlstore.Store
	API      *httpapi.Server
}

// forEachStore runs fn against the API on SQLite and, when
// SEATKEEPER_TEST_POSTGRES is set, on PostgreSQL (a fresh schema each).
func forEachStore(t *testing.T, fn func(t *testing.T, e *env)) {
	sqlstoretest.Each(t, func(t *testing.T, dsn string) { fn(t, newEnv(t, dsn)) })
}

func newEnv(t testing.TB, dsn string) *env {
	t.Helper()
	cats := catalog.NewSet()
	st := sqlstoretest.Open(t, dsn)
	api := &httpapi.Server{Catalogs: cats, Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: httpapi.NewMetrics(st.SeatsInUse)}
	api.Decisions = snapshot.New(st, func() time.Time { return st.Now() })
	st.OnChange(func(c sqlstore.Change) {
		api.Decisions.Invalidate(c.Account, c.User)
		if c.User == "" {
			api.InvalidateTokens(c.Account)
		}
	})
	_, secret, err := st.CreateToken(context.Background(), seatkeeper.Actor{}, "", seatkeeper.TokenOperator, "test")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(api.Handler())
	t.Cleanup(ts.Close)
	return &env{t: t, URL: ts.URL, Operator: secret, Store: st, API: api}
}

// resp is an answer: status, headers and body.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it is not JSON.
func (r resp) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("body is not JSON (%v): %s", err, r.Body)
	}
}

// Problem decodes a problem+json answer, or a SCIM error document (under
// /scim/), whose detail starts with Seatkeeper's code.
func (r resp) Problem(t testing.TB) httpapi.Problem {
	t.Helper()
	if r.Header.Get("Content-Type") == scim.ContentType {
		var e scim.ErrorBody
		r.JSON(t, &e)
		if len(e.Schemas) != 1 || e.Schemas[0] != scim.ErrorSchema {
			t.Fatalf("SCIM error without the Error schema: %s", r.Body)
		}
		status, err := strconv.Atoi(e.Status)
		if err != nil {
			t.Fatalf("SCIM error status %q is not a number as a string: %s", e.Status, r.Body)
		}
		code, _, _ := strings.Cut(e.Detail, ": ")
		return httpapi.Problem{Status: status, Detail: e.Detail, Code: code}
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json; body %s", ct, r.Body)
	}
	var p httpapi.Problem
	r.JSON(t, &p)
	return p
}

// do sends a request with the token (may be "") and an optional body
// (a string is sent as is; anything else as JSON); headers are "Name: value".
func (e *env) do(token, method, path string, body any, headers ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	seen := map[string]bool{} // a header named twice is sent twice
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		if seen[k] {
			req.Header.Add(k, v)
		} else {
			req.Header.Set(k, v)
		}
		seen[k] = true
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return resp{Status: res.StatusCode, Header: res.Header, Body: data}
}

// must sends a request as the operator and fails the test unless the
// status is want.
func (e *env) must(want int, method, path string, body any) resp {
	e.t.Helper()
	r := e.do(e.Operator, method, path, body)
	if r.Status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// token creates an account token of the given kind and returns its secret.
func (e *env) token(account, kind string) string {
	e.t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	e.must(201, "POST", "/v1/accounts/"+account+"/tokens", map[string]string{"kind": kind, "name": kind}).JSON(e.t, &out)
	return out.Token
}
