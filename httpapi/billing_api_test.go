package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/seatkeeper/seatkeeper"
)

// TestAPI_R14_MonthlyUsageAndClose: the holiday-season commitment over
// HTTP, as JSON and CSV; closing a month refuses imports into it.
func TestAPI_R14_MonthlyUsageAndClose(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.must(201, "PUT", "/v1/accounts/acme", map[string]string{"name": "Acme", "region": "eu", "catalog": "wfo"})
		e.must(201, "PUT", "/v1/accounts/acme/subscriptions/qm", map[string]any{"model": "named", "enforcement": "commit", "quantity": 100, "starts_at": "2025-02-01T00:00:00Z"})
		var events []map[string]any
		for i := range 150 {
			ev := map[string]any{"type": "assignment.add", "user": fmt.Sprintf("u%d", i), "license": "qm", "at": "2025-02-01T00:00:00Z"}
			if i >= 100 {
				ev["at"] = "2025-11-01T00:00:00Z"
				events = append(events, map[string]any{"type": "assignment.remove", "user": fmt.Sprintf("u%d", i), "license": "qm", "at": "2026-02-01T00:00:00Z"})
			}
			events = append(events, ev)
		}
		e.must(201, "POST", "/v1/accounts/acme/usage/events", map[string]any{"events": events})
		reader := e.token("acme", "reader")
		var body struct {
			Items []seatkeeper.MonthUsage `json:"items"`
		}
		e.mustAs(reader, 200, "GET", "/v1/accounts/acme/billing/usage?from=2025-10&to=2026-02", nil).JSON(t, &body)
		got := map[string]int{}
		for _, u := range body.Items {
			got[u.Month] = u.Uncommitted
		}
		want := map[string]int{"2025-10": 0, "2025-11": 50, "2025-12": 50, "2026-01": 50, "2026-02": 0}
		for m, w := range want {
			if got[m] != w {
				t.Errorf("%s uncommitted %d, want %d (all: %v)", m, got[m], w, got)
			}
		}
		csv := string(e.mustAs(reader, 200, "GET", "/v1/accounts/acme/billing/usage?from=2025-11&format=csv", nil).Body)
		if !strings.HasPrefix(csv, "month,license,model,enforcement,quantity,peak,sustained_peak,used,committed,uncommitted,overage\n2025-11,qm,named,commit,100,150,0,150,100,50,0\n") {
			t.Errorf("CSV:\n%s", csv)
		}
		wantProblem(t, e.do(reader, "GET", "/v1/accounts/acme/billing/usage?from=2025-13", nil), 400, "invalid_request")
		wantProblem(t, e.do(reader, "POST", "/v1/accounts/acme/billing/close?month=2025-12", nil), 403, "forbidden")
		e.must(200, "POST", "/v1/accounts/acme/billing/close?month=2025-12", nil)
		late := map[string]any{"events": []map[string]any{{"type": "assignment.add", "user": "late", "license": "qm", "at": "2025-12-15T00:00:00Z"}}}
		wantProblem(t, e.do(e.Operator, "POST", "/v1/accounts/acme/usage/events", late), 409, "period_closed")
	})
}
