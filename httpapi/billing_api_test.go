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
		wantProblem(t, e.do(reader, "GET", "/v1/accounts/acme/billing/close?month=2025-12", nil), 404, "not_found")
		var closed seatkeeper.ClosedMonth
		e.must(200, "POST", "/v1/accounts/acme/billing/close?month=2025-12", nil).JSON(t, &closed)
		if len(closed.Items) != 1 || closed.Items[0].Uncommitted != 50 || len(closed.Digest) != 64 || closed.Identical != nil {
			t.Errorf("close: %+v", closed)
		}
		late := map[string]any{"events": []map[string]any{{"type": "assignment.add", "user": "late", "license": "qm", "at": "2025-12-15T00:00:00Z"}}}
		wantProblem(t, e.do(e.Operator, "POST", "/v1/accounts/acme/usage/events", late), 409, "period_closed")
		var verified seatkeeper.ClosedMonth
		e.mustAs(reader, 200, "GET", "/v1/accounts/acme/billing/close?month=2025-12", nil).JSON(t, &verified)
		if verified.Identical == nil || !*verified.Identical || verified.Recomputed != closed.Digest || verified.Digest != closed.Digest {
			t.Errorf("verification: %+v, frozen %s", verified, closed.Digest)
		}
		wantProblem(t, e.do(e.Operator, "POST", "/v1/accounts/acme/billing/close?month=2099-01", nil), 409, "conflict")
		wantProblem(t, e.do(e.Operator, "POST", "/v1/accounts/acme/billing/close?month=12-2025", nil), 400, "invalid_request")
	})
}

// TestAPI_R14_Statements: statements over HTTP: the committed seats in
// advance every month, the uncommitted ones in arrears, one by id, and CSV.
func TestAPI_R14_Statements(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.must(201, "PUT", "/v1/accounts/acme", map[string]string{"name": "Acme", "region": "eu", "catalog": "wfo"})
		e.must(201, "PUT", "/v1/accounts/acme/subscriptions/qm", map[string]any{"model": "named", "enforcement": "commit", "quantity": 100,
			"unit_price": 3000, "overage_price": 4500, "currency": "EUR", "starts_at": "2025-02-01T00:00:00Z"})
		var events []map[string]any
		for i := range 150 {
			at := "2025-02-01T00:00:00Z"
			if i >= 100 {
				at = "2025-11-01T00:00:00Z"
				events = append(events, map[string]any{"type": "assignment.remove", "user": fmt.Sprintf("u%d", i), "license": "qm", "at": "2026-02-01T00:00:00Z"})
			}
			events = append(events, map[string]any{"type": "assignment.add", "user": fmt.Sprintf("u%d", i), "license": "qm", "at": at})
		}
		e.must(201, "POST", "/v1/accounts/acme/usage/events", map[string]any{"events": events})
		var body struct {
			Items []struct {
				ID    string `json:"id"`
				Total int64  `json:"total"`
				Lines []struct {
					Kind   string `json:"kind"`
					Amount int64  `json:"amount"`
				} `json:"lines"`
			} `json:"items"`
		}
		e.must(200, "GET", "/v1/accounts/acme/billing/statements?from=2025-11&to=2026-03", nil).JSON(t, &body)
		if len(body.Items) != 4 {
			t.Fatalf("%d statements, want 4", len(body.Items))
		}
		for i, st := range body.Items {
			want := int64(100*3000 + 50*4500)
			if i == 0 {
				want = 100 * 3000 // November bills October's usage: none
			}
			if st.Total != want {
				t.Errorf("statement %d total %d, want %d", i, st.Total, want)
			}
		}
		one := e.must(200, "GET", "/v1/accounts/acme/billing/statements/"+body.Items[1].ID, nil)
		if !strings.Contains(string(one.Body), `"id":"`+body.Items[1].ID+`"`) {
			t.Errorf("by id: %s", one.Body)
		}
		wantProblem(t, e.do(e.Operator, "GET", "/v1/accounts/acme/billing/statements/st_ffffffffffffffff", nil), 404, "not_found")
		csv := string(e.must(200, "GET", "/v1/accounts/acme/billing/statements?from=2025-12&to=2026-01&format=csv", nil).Body)
		if !strings.HasPrefix(csv, "statement_id,period_start,period_end,currency,license,description,service_month,quantity,unit_price,amount,kind\n") ||
			!strings.Contains(csv, ",EUR,qm,") || !strings.Contains(csv, ",225000,uncommitted") {
			t.Errorf("CSV:\n%s", csv)
		}
	})
}
