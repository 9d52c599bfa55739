package httpapi_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/seatkeeper/seatkeeper"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestMetricsCountRequestsAndSeats(t *testing.T) {
	e := newEnv(t, "")
	e.must(201, "PUT", "/v1/accounts/acme", map[string]string{"name": "Acme", "region": "us"})
	e.must(201, "PUT", "/v1/accounts/acme/subscriptions/premium", map[string]any{"model": "named", "quantity": 5})
	e.must(201, "PUT", "/v1/accounts/acme/users/ann", map[string]any{})
	e.must(201, "PUT", "/v1/accounts/acme/users/ann/licenses/premium", nil)
	e.do(e.Operator, "GET", "/v1/accounts/nope", nil)
	body := string(e.must(200, "GET", "/metrics", nil).Body)
	for _, want := range []string{
		`seatkeeper_http_requests_total{code="201",route="PUT /v1/accounts/{account}/users/{user}/licenses/{license}"} 1`,
		`seatkeeper_http_requests_total{code="404",route="GET /v1/accounts/{account}"} 1`,
		`seatkeeper_http_request_duration_seconds_count{route="PUT /v1/accounts/{account}"} 1`,
		`seatkeeper_seats_in_use{license="premium"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestRequestIDsInAnswersAndLogs(t *testing.T) {
	e := newEnv(t, "")
	var logs syncBuffer
	e.API.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := e.do(e.Operator, "GET", "/v1/accounts/nope", nil, "X-Request-Id: req-123")
	if got := r.Header.Get("X-Request-Id"); got != "req-123" {
		t.Errorf("echoed request id %q", got)
	}
	if got := e.do(e.Operator, "GET", "/v1/catalogs", nil).Header.Get("X-Request-Id"); len(got) != 16 {
		t.Errorf("made-up request id %q", got)
	}
	found := false
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["request_id"] == "req-123" && rec["status"] == float64(404) && rec["route"] == "GET /v1/accounts/{account}" {
			found = true
		}
	}
	if !found {
		t.Errorf("no JSON log line for request req-123:\n%s", logs.String())
	}
}

// TestWrongMethod: a path that exists, asked with a method it does not
// take, answers 405 method_not_allowed with an Allow header naming the
// methods it takes (RFC 9110 §15.5.6), and changes nothing; a path that
// does not exist answers 404. Before, both answered 404.
func TestWrongMethod(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.newAccount("acme", "contact-center")
		before := e.state("acme")
		for _, c := range []struct{ method, path, allow string }{
			{"DELETE", "/v1/catalogs", "GET, HEAD"},
			{"POST", "/healthz", "GET, HEAD"},
			{"POST", "/v1/accounts/acme", "GET, HEAD, PUT, DELETE"},
			{"OPTIONS", "/v1/accounts/acme/sessions", "GET, HEAD, POST"},
			{"PUT", "/v1/accounts/acme/sessions/s1/heartbeat", "POST"},
			{"PATCH", "/scim/v2/acme/Users", "GET, HEAD, POST"},
		} {
			r := e.do(e.Operator, c.method, c.path, nil)
			p := wantProblem(t, r, http.StatusMethodNotAllowed, seatkeeper.EMethodNotAllowed)
			if got := r.Header.Get("Allow"); got != c.allow {
				t.Errorf("%s %s: Allow %q, want %q (%s)", c.method, c.path, got, c.allow, p.Detail)
			}
		}
		for _, path := range []string{"/v1/nothing", "/v1/accounts/acme/nothing", "/scim/v2/acme/Nothing"} {
			r := e.do(e.Operator, "DELETE", path, nil)
			wantProblem(t, r, http.StatusNotFound, seatkeeper.ENotFound)
			if a := r.Header.Get("Allow"); a != "" {
				t.Errorf("DELETE %s: Allow %q on a 404", path, a)
			}
		}
		e.sameState("acme", before)
	})
}
