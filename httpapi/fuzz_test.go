package httpapi_test

// Fuzz targets for request bodies (SPEC §4.8: bad input never yields a 500;
// errors are problem+json with a stable code).
//
//	go test ./httpapi -run '^$' -fuzz FuzzRequestBodies -fuzztime 45s
//	go test ./httpapi -run '^$' -fuzz FuzzDecodeJSON -fuzztime 45s

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/httpapi"
)

// fuzzSeeds are valid bodies of each endpoint that takes one, and a few
// near misses.
var fuzzSeeds = []string{
	`{"name":"Fuzz Inc","region":"us","time_zone":"Europe/Berlin","catalog":"contact-center"}`,
	`{"model":"named","enforcement":"hard","quantity":5,"overage_allowance":0,"grace_period":"30m","billing_period":"monthly","currency":"USD","unit_price":1000,"overage_price":1500,"starts_at":"2026-01-01T00:00:00Z","ends_at":"2027-01-01T00:00:00Z"}`,
	`{"model":"concurrent","quantity":3,"overage_allowance":2,"grace_period":"0s"}`,
	`{"user_name":"ann","email":"ann@example.com","display_name":"Ann","external_id":"ext-1","active":true}`,
	`{"active":false}`,
	`{"permissions":["qm.reports.view","qm.interactions.access_own"],"licenses":[]}`,
	`{"qm":{"analyze_recordings":true,"silence_threshold_seconds":20,"voice_exclusion":"inbound","topics":[{"name":"billing","phrases":["invoice","refund"]}]},"concurrent":{"session_timeout":"5m"}}`,
	`{"qm":{"topics":null}}`,
	`{"kind":"reader","name":"dashboard"}`,
	`{}`,
	``,
	`null`,
	`{"name":"x"} {}`,
	`{"quantity":1e400}`,
}

// fuzzEndpoints are the endpoints that take a JSON body, on account fz.
var fuzzEndpoints = []struct{ method, path string }{
	{"PUT", "/v1/accounts/fz"},
	{"PUT", "/v1/accounts/fz/subscriptions/premium"},
	{"PUT", "/v1/accounts/fz/users/u1"},
	{"PUT", "/v1/accounts/fz/roles/qm/fuzzed"},
	{"PATCH", "/v1/accounts/fz/settings"},
	{"POST", "/v1/accounts/fz/tokens"},
}

// FuzzRequestBodies sends each input to every endpoint that takes a body:
// the answer is never a 500, a 4xx is problem+json with a code, and a 2xx
// is JSON.
func FuzzRequestBodies(f *testing.F) {
	e := newEnv(f, "")
	e.newAccount("fz", "contact-center")
	e.subscribe("fz", "essentials", "named", 10)
	e.subscribe("fz", "qm", "named", 10)
	e.newUser("fz", "u1")
	e.must(201, "PUT", "/v1/accounts/fz/users/u1/licenses/essentials", nil)
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e := e.withT(t)
		for _, ep := range fuzzEndpoints {
			r := e.do(e.Operator, ep.method, ep.path, string(body))
			checkAnswer(t, fmt.Sprintf("%s %s %q", ep.method, ep.path, body), r)
		}
	})
}

// checkAnswer fails the test unless r is a well-formed answer to bad or
// good input: never a 500; a 4xx is problem+json with a code, its status
// and a detail; a 2xx is JSON (CSV where asked for; nothing with 204).
func checkAnswer(t *testing.T, what string, r resp) {
	t.Helper()
	ct := r.Header.Get("Content-Type")
	switch {
	case r.Status >= 500:
		t.Fatalf("%s: status %d: %s", what, r.Status, r.Body)
	case r.Status >= 400:
		if ct != "application/problem+json" {
			t.Fatalf("%s: %d with content type %q", what, r.Status, ct)
		}
		var p httpapi.Problem
		if err := json.Unmarshal(r.Body, &p); err != nil {
			t.Fatalf("%s: problem is not JSON: %v", what, err)
		}
		if p.Code == "" || p.Status != r.Status || p.Detail == "" {
			t.Fatalf("%s: problem %+v for status %d", what, p, r.Status)
		}
	case r.Status == 204:
		if len(r.Body) != 0 {
			t.Fatalf("%s: 204 with a body: %s", what, r.Body)
		}
	case r.Status >= 200 && r.Status < 300:
		if strings.HasPrefix(ct, "text/csv") && utf8.Valid(r.Body) {
			return
		}
		if ct != "application/json" || !json.Valid(r.Body) {
			t.Fatalf("%s: %d %q %s", what, r.Status, ct, r.Body)
		}
	default:
		t.Fatalf("%s: unexpected status %d", what, r.Status)
	}
}

// The shapes of the API's request bodies (the handlers' own types are
// unexported).
type (
	fzAccount struct {
		Name     string `json:"name"`
		Region   string `json:"region"`
		TimeZone string `json:"time_zone"`
		Catalog  string `json:"catalog"`
	}
	fzSubscription struct {
		Model            string              `json:"model"`
		Enforcement      string              `json:"enforcement"`
		Quantity         int                 `json:"quantity"`
		OverageAllowance int                 `json:"overage_allowance"`
		GracePeriod      seatkeeper.Duration `json:"grace_period"`
		BillingPeriod    string              `json:"billing_period"`
		Currency         string              `json:"currency"`
		UnitPrice        int64               `json:"unit_price"`
		OveragePrice     int64               `json:"overage_price"`
		StartsAt         *time.Time          `json:"starts_at"`
		EndsAt           *time.Time          `json:"ends_at"`
	}
	fzUser struct {
		UserName    string `json:"user_name"`
		Email       string `json:"email"`
		DisplayName string `json:"display_name"`
		ExternalID  string `json:"external_id"`
		Active      *bool  `json:"active"`
	}
	fzRole struct {
		Permissions []string `json:"permissions"`
		Licenses    []string `json:"licenses"`
	}
	fzToken struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	}
)

// FuzzDecodeJSON calls httpapi.DecodeJSON into each body shape: it never
// panics; it fails only with an invalid_request *seatkeeper.Error; what it
// accepts is one JSON value (or nothing), and what it decodes survives a
// round trip.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"NAME":"case"}`))
	f.Add([]byte(`{"active":null,"user_name":"a\u0000b"}`))
	f.Add([]byte(`{"starts_at":"2026-01-01T00:00:00+01:00","grace_period":"1h30m"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		news := []func() any{
			func() any { return new(fzAccount) },
			func() any { return new(fzSubscription) },
			func() any { return new(fzUser) },
			func() any { return new(fzRole) },
			func() any { return new(fzToken) },
			func() any { return new(seatkeeper.Account) },
			func() any { return new(seatkeeper.CustomRole) },
			func() any { return new(map[string]any) },
		}
		for _, mk := range news {
			v := mk()
			err := httpapi.DecodeJSON(body, v)
			name := reflect.TypeOf(v).Elem().String()
			if err != nil {
				var se *seatkeeper.Error
				if !errors.As(err, &se) || se.Code != seatkeeper.EInvalid || se.Message == "" {
					t.Fatalf("%s %q: error %#v, want an invalid_request *seatkeeper.Error", name, body, err)
				}
				if !strings.HasPrefix(se.Message, "invalid JSON body: ") {
					t.Errorf("%s %q: message %q", name, body, se.Message)
				}
				continue
			}
			if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && !json.Valid(trimmed) {
				t.Fatalf("%s: accepted %q, which is not one JSON value", name, body)
			}
			// What was decoded encodes to a body that decodes to the same.
			data, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("%s %q: cannot encode the result %+v: %v", name, body, v, err)
			}
			w := mk()
			if err := httpapi.DecodeJSON(data, w); err != nil {
				t.Fatalf("%s %q: its own encoding %s is refused: %v", name, body, data, err)
			}
			again, _ := json.Marshal(w)
			if !bytes.Equal(data, again) {
				t.Fatalf("%s %q: round trip\n%s\n%s", name, body, data, again)
			}
		}
	})
}
