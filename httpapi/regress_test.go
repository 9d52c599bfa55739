package httpapi_test

import (
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
)

// TestPutAnswersWhatWasStored: the answer to a PUT is the resource as
// stored, timestamps included.
func TestPutAnswersWhatWasStored(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.must(201, "PUT", "/v1/accounts/acme", map[string]string{"name": "First", "region": "us"})
		var a seatkeeper.Account
		e.must(200, "PUT", "/v1/accounts/acme", map[string]string{"name": "Second", "time_zone": "Europe/Berlin"}).JSON(t, &a)
		if a.Name != "Second" || a.TimeZone != "Europe/Berlin" {
			t.Errorf("PUT account answered %+v", a)
		}
		var u seatkeeper.User
		e.must(201, "PUT", "/v1/accounts/acme/users/ann", map[string]string{"email": "ann@acme.example"}).JSON(t, &u)
		if time.Since(u.CreatedAt) > time.Minute || !u.CreatedAt.Equal(u.UpdatedAt) {
			t.Errorf("new user timestamps: created %v updated %v", u.CreatedAt, u.UpdatedAt)
		}
		time.Sleep(2 * time.Millisecond)
		var u2 seatkeeper.User
		e.must(200, "PUT", "/v1/accounts/acme/users/ann", map[string]string{"email": "ann@acme.test"}).JSON(t, &u2)
		if !u2.UpdatedAt.After(u.UpdatedAt) || !u2.CreatedAt.Equal(u.CreatedAt) {
			t.Errorf("updated user timestamps: %v → %v, created %v → %v", u.UpdatedAt, u2.UpdatedAt, u.CreatedAt, u2.CreatedAt)
		}
		if got := e.user("acme", "ann"); !got.UpdatedAt.Equal(u2.UpdatedAt) {
			t.Errorf("GET says updated_at %v, the PUT answered %v", got.UpdatedAt, u2.UpdatedAt)
		}
	})
}

// TestBadTextIsRefused: NUL, control characters and case-variant keys are
// refused with 400 on both stores, and change nothing.
func TestBadTextIsRefused(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.must(201, "PUT", "/v1/accounts/acme", map[string]string{"name": "Acme", "region": "us"})
		before := e.state("acme")
		wantProblem(t, e.do(e.Operator, "PUT", "/v1/accounts/acme", `{"name":"Th\u0000ird"}`), 400, "invalid_request")
		wantProblem(t, e.do(e.Operator, "POST", "/v1/accounts/acme/tokens", `{"kind":"reader","name":"a\u0000b"}`), 400, "invalid_request")
		wantProblem(t, e.do(e.Operator, "PATCH", "/v1/accounts/acme/settings", `{"QM":{"track_silence":true}}`), 400, "invalid_request")
		wantProblem(t, e.do(e.Operator, "PUT", "/v1/accounts/acme/users/u1", `{"DISPLAY_NAME":"x"}`), 400, "invalid_request")
		wantProblem(t, e.do(e.Operator, "PUT", "/v1/accounts/acme/users/u1", `{"display_name":"x"}}`), 400, "invalid_request")
		e.sameState("acme", before)
		// Invalid UTF-8 in a setting is stored as valid UTF-8, never a 500.
		r := e.do(e.Operator, "PATCH", "/v1/accounts/acme/settings", "{\"qm\":{\"topics\":[{\"name\":\"\xff\",\"phrases\":[]}]}}")
		if r.Status != 200 {
			t.Errorf("settings with invalid UTF-8: %d %s", r.Status, r.Body)
		}
	})
}

// TestR1_QuantityNeverBelowSeatsInUse: a hard subscription never has more
// assigned users than its quantity, so lowering the quantity below the
// seats in use, or ending the subscription, waits until they are freed.
func TestR1_QuantityNeverBelowSeatsInUse(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.must(201, "PUT", "/v1/accounts/acme", map[string]string{"name": "Acme", "region": "us"})
		e.must(201, "PUT", "/v1/accounts/acme/subscriptions/premium", map[string]any{"model": "named", "quantity": 3})
		for _, u := range []string{"a", "b"} {
			e.must(201, "PUT", "/v1/accounts/acme/users/"+u, map[string]any{})
			e.must(201, "PUT", "/v1/accounts/acme/users/"+u+"/licenses/premium", nil)
		}
		wantProblem(t, e.do(e.Operator, "PUT", "/v1/accounts/acme/subscriptions/premium", map[string]any{"model": "named", "quantity": 1}), 409, "conflict")
		wantProblem(t, e.do(e.Operator, "DELETE", "/v1/accounts/acme/subscriptions/premium", nil), 409, "conflict")
		if got := e.line("acme", "premium"); got.Purchased != 3 || got.Assigned != 2 {
			t.Errorf("after refused changes: %+v", got)
		}
		e.must(200, "PUT", "/v1/accounts/acme/subscriptions/premium", map[string]any{"model": "named", "quantity": 2})
		e.must(204, "DELETE", "/v1/accounts/acme/users/a/licenses/premium", nil)
		e.must(204, "DELETE", "/v1/accounts/acme/users/b/licenses/premium", nil)
		e.must(204, "DELETE", "/v1/accounts/acme/subscriptions/premium", nil)
	})
}
