package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/billing"
)

// holidaySeason is R14's example as ledger events: 100 QM seats assigned
// from February 2025, 50 more from November to January.
func holidaySeason() []map[string]any {
	var events []map[string]any
	for i := range 150 {
		ev := map[string]any{"type": "assignment.add", "user": fmt.Sprintf("u%d", i), "license": "qm", "at": "2025-02-01T00:00:00Z"}
		if i >= 100 {
			ev["at"] = "2025-11-01T00:00:00Z"
			events = append(events, map[string]any{"type": "assignment.remove", "user": fmt.Sprintf("u%d", i), "license": "qm", "at": "2026-02-01T00:00:00Z"})
		}
		events = append(events, ev)
	}
	return events
}

// TestAPI_R14_MonthlyUsageAndClose: the holiday-season commitment over
// HTTP, as JSON and CSV; closing a month refuses imports into it.
func TestAPI_R14_MonthlyUsageAndClose(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.must(201, "PUT", "/v1/accounts/acme", map[string]string{"name": "Acme", "region": "eu", "catalog": "wfo"})
		e.must(201, "PUT", "/v1/accounts/acme/subscriptions/qm", map[string]any{"model": "named", "enforcement": "commit", "quantity": 100, "starts_at": "2025-02-01T00:00:00Z"})
		events := holidaySeason()
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

		// Billed in a closed month, the subscription cannot be deleted:
		// its statements would go with it. One begun since can.
		p := wantProblem(t, e.do(e.Operator, "DELETE", "/v1/accounts/acme/subscriptions/qm", nil), 409, "conflict")
		if !strings.Contains(p.Detail, "ends_at") {
			t.Errorf("detail %q does not say to end it instead", p.Detail)
		}
		e.must(201, "PUT", "/v1/accounts/acme/subscriptions/cr", map[string]any{"model": "named", "quantity": 1, "starts_at": "2026-02-01T00:00:00Z"})
		e.must(204, "DELETE", "/v1/accounts/acme/subscriptions/cr", nil)
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
		// Times after 2115, which metering does not measure (it answered
		// a short report, or none), and before 1970 are refused.
		for _, q := range []string{"from=2116-01-01&to=2116-01-31T23:59:59Z", "from=2116-01&to=2116-02", "from=9999-01&to=9999-02", "from=1969-12-31&to=2026-01"} {
			wantProblem(t, e.do(e.Operator, "GET", "/v1/accounts/acme/billing/statements?"+q, nil), 400, "invalid_request")
			wantProblem(t, e.do(e.Operator, "GET", "/v1/accounts/acme/reports/license-usage?interval=1d&"+q, nil), 400, "invalid_request")
		}
		for _, m := range []string{"0000-01", "0001-01", "1969-12", "2116-01", "9999-12"} {
			wantProblem(t, e.do(e.Operator, "GET", "/v1/accounts/acme/billing/usage?from="+m, nil), 400, "invalid_request")
			wantProblem(t, e.do(e.Operator, "GET", "/v1/accounts/acme/billing/close?month="+m, nil), 400, "invalid_request")
			wantProblem(t, e.do(e.Operator, "POST", "/v1/accounts/acme/billing/close?month="+m, nil), 400, "invalid_request")
		}
		e.must(200, "GET", "/v1/accounts/acme/billing/usage?from=2115-12", nil)
		csv := string(e.must(200, "GET", "/v1/accounts/acme/billing/statements?from=2025-12&to=2026-01&format=csv", nil).Body)
		if !strings.HasPrefix(csv, "statement_id,period_start,period_end,currency,license,description,service_month,quantity,unit_price,amount,kind\n") ||
			!strings.Contains(csv, ",EUR,qm,") || !strings.Contains(csv, ",225000,uncommitted") {
			t.Errorf("CSV:\n%s", csv)
		}
	})
}

// TestAPI_Advice (SPEC §4.6, issue 5): commitment advice for R14's holiday
// season and for R7's shift change, exact to the minor unit.
func TestAPI_Advice(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		clock := e.useClock(time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC))
		e.must(201, "PUT", "/v1/accounts/acme", map[string]string{"name": "Acme", "region": "eu", "catalog": "wfo"})
		e.must(201, "PUT", "/v1/accounts/acme/subscriptions/qm", map[string]any{"model": "named", "enforcement": "commit", "quantity": 100,
			"unit_price": 3000, "overage_price": 4500, "currency": "EUR", "starts_at": "2025-02-01T00:00:00Z"})
		wantProblem(t, e.do(e.Operator, "GET", "/v1/accounts/acme/billing/advice?license=qm", nil), 409, "conflict")
		events := holidaySeason()
		clock.Set(time.Date(2026, 2, 15, 0, 0, 0, 0, time.UTC))
		e.must(201, "POST", "/v1/accounts/acme/usage/events", map[string]any{"events": events})
		reader := e.token("acme", "reader")
		var a billing.Advice
		e.mustAs(reader, 200, "GET", "/v1/accounts/acme/billing/advice?license=qm&months=12", nil).JSON(t, &a)
		if len(a.Months) != 12 || a.Months[0].Month != "2025-02" || a.Months[11].Month != "2026-01" || a.Months[9].Usage != 150 {
			t.Fatalf("months %+v", a.Months)
		}
		// The 50 holiday seats are used 3 months of 12, fewer than
		// 12 × 3000 / 4500 = 8: cheaper uncommitted. 100 is best.
		if a.Advised != 100 || a.AdvisedCost != 12*100*3000+3*50*4500 || a.Saving != 0 || a.Currency != "EUR" {
			t.Errorf("advice at 100: %+v", a)
		}
		e.must(200, "PUT", "/v1/accounts/acme/subscriptions/qm", map[string]any{"model": "named", "enforcement": "commit", "quantity": 150,
			"unit_price": 3000, "overage_price": 4500, "currency": "EUR", "starts_at": "2025-02-01T00:00:00Z"})
		e.mustAs(reader, 200, "GET", "/v1/accounts/acme/billing/advice?license=qm", nil).JSON(t, &a)
		if a.Current != 150 || a.Advised != 100 || a.Saving != 12*150*3000-(12*100*3000+3*50*4500) || !strings.Contains(a.Explanation, "1125000 less") {
			t.Errorf("advice at 150: %+v", a)
		}
		e.mustAs(reader, 200, "GET", "/v1/accounts/acme/billing/advice?license=qm&months=3", nil).JSON(t, &a)
		if len(a.Months) != 3 || a.Advised != 150 { // three holiday months: all 150 pay
			t.Errorf("three months: %+v", a)
		}
		for _, q := range []string{"months=0", "months=37", "months=x", "license=", "license=a%20b"} {
			query := q
			if !strings.HasPrefix(q, "license") {
				query = "license=qm&" + q
			}
			wantProblem(t, e.do(reader, "GET", "/v1/accounts/acme/billing/advice?"+query, nil), 400, "invalid_request")
		}
		wantProblem(t, e.do(reader, "GET", "/v1/accounts/acme/billing/advice?license=wfm", nil), 404, "not_found")

		// R7: a pool of 100 with an allowance of 10; the shift change runs
		// 45 minutes over: a sustained peak of 105. At 50.00 a seat and
		// 70.00 over, 105 seats cost least, and 95 would have refused.
		e.ledgerAccount("pool", "UTC")
		e.must(200, "PUT", "/v1/accounts/pool/subscriptions/essentials", map[string]any{"model": "concurrent", "quantity": 100, "overage_allowance": 10,
			"unit_price": 5000, "overage_price": 7000, "currency": "USD", "starts_at": "2026-01-01T00:00:00Z"})
		e.must(201, "POST", "/v1/accounts/pool/usage/events", map[string]any{"events": shiftChange(time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC), 45*time.Minute)})
		e.mustAs(e.Operator, 200, "GET", "/v1/accounts/pool/billing/advice?license=essentials", nil).JSON(t, &a)
		if len(a.Months) != 1 || a.Months[0].Usage != 105 || a.MinimumSafe != 95 || a.Advised != 105 || a.CurrentCost != 100*5000+5*7000 || a.Saving != 10000 {
			t.Errorf("pool advice: %+v", a)
		}
	})
}

// TestAPI_R7_ShiftChangeBilled is the seed's shift change over HTTP: 100
// seats, five agents of the first shift staying on. Twenty minutes over is
// within the grace period: no overage. Forty-five minutes bills 5 overage
// seats for January, on February's statement, at the overage price.
func TestAPI_R7_ShiftChangeBilled(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for _, c := range []struct {
			account string
			overlap time.Duration
			overage int
		}{{"short", 20 * time.Minute, 0}, {"long", 45 * time.Minute, 5}} {
			e.ledgerAccount(c.account, "UTC")
			e.must(200, "PUT", "/v1/accounts/"+c.account+"/subscriptions/essentials", map[string]any{"model": "concurrent", "quantity": 100, "overage_allowance": 10,
				"unit_price": 5000, "overage_price": 7000, "currency": "USD", "starts_at": "2026-01-01T00:00:00Z"})
			e.must(201, "POST", "/v1/accounts/"+c.account+"/usage/events", map[string]any{"events": shiftChange(time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC), c.overlap)})
			var usage struct {
				Items []seatkeeper.MonthUsage `json:"items"`
			}
			e.must(200, "GET", "/v1/accounts/"+c.account+"/billing/usage?from=2026-01", nil).JSON(t, &usage)
			if len(usage.Items) != 1 || usage.Items[0].Peak != 105 || usage.Items[0].Overage != c.overage || usage.Items[0].Quantity != 100 {
				t.Errorf("%s: January %+v, want peak 105 and overage %d", c.account, usage.Items, c.overage)
			}
			var sts struct {
				Items []billing.Statement `json:"items"`
			}
			e.must(200, "GET", "/v1/accounts/"+c.account+"/billing/statements?from=2026-01&to=2026-03", nil).JSON(t, &sts)
			if len(sts.Items) != 2 {
				t.Fatalf("%s: %d statements, want January's and February's", c.account, len(sts.Items))
			}
			var overage []billing.Line
			for i, st := range sts.Items {
				for _, l := range st.Lines {
					if l.Kind == "overage" {
						if i != 1 {
							t.Errorf("%s: an overage line on statement %d: %+v", c.account, i, l)
						}
						overage = append(overage, l)
					}
				}
			}
			switch {
			case c.overage == 0 && len(overage) != 0:
				t.Errorf("%s: overage billed: %+v", c.account, overage)
			case c.overage > 0 && (len(overage) != 1 || overage[0].Quantity != 5 || overage[0].ServiceMonth != "2026-01" || overage[0].Amount != 5*7000):
				t.Errorf("%s: overage lines %+v, want 5 seats of January at 7000", c.account, overage)
			}
		}
	})
}

// TestAPI_R7_UsageWithinTheTerm (SPEC §4.6): a month counts the usage
// within the subscription's term only. Ten agents signed in for two hours
// before starts_at, or after ends_at, are no overage of a pool of 5 (before
// the term its quantity was 0, and they were billed 10 overage seats); the
// two in the term are its peak.
func TestAPI_R7_UsageWithinTheTerm(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.useClock(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC))
		e.must(201, "PUT", "/v1/accounts/acme", map[string]string{"name": "Acme", "region": "eu", "catalog": "contact-center"})
		e.must(201, "PUT", "/v1/accounts/acme/subscriptions/essentials", map[string]any{"model": "concurrent", "quantity": 5,
			"starts_at": "2026-11-15T00:00:00Z", "ends_at": "2026-11-25T00:00:00Z"})
		var events []usageEvent
		crowd := func(n int, at time.Time, d time.Duration) {
			for i := range n {
				id := fmt.Sprintf("%s-%d", at.Format("0102"), i)
				events = append(events, presence("presence.start", "u"+id, id, at), presence("presence.end", "u"+id, id, at.Add(d)))
			}
		}
		crowd(10, time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), 2*time.Hour)
		crowd(2, time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), 2*time.Hour)
		crowd(10, time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC), 2*time.Hour)
		// Seven more from 23:40 the night before the term to 00:20 into
		// it: 20 minutes of the term, within the grace period of 30 (the
		// 20 minutes before it once counted towards the grace period).
		crowd(7, time.Date(2026, 11, 14, 23, 40, 0, 0, time.UTC), 40*time.Minute)
		e.must(201, "POST", "/v1/accounts/acme/usage/events", map[string]any{"events": events})
		var usage struct {
			Items []seatkeeper.MonthUsage `json:"items"`
		}
		e.must(200, "GET", "/v1/accounts/acme/billing/usage?from=2026-10&to=2026-12", nil).JSON(t, &usage)
		if len(usage.Items) != 3 || usage.Items[1].Quantity != 5 || usage.Items[1].Peak != 7 || usage.Items[1].SustainedPeak != 2 || usage.Items[1].Overage != 0 {
			t.Errorf("November %+v, want quantity 5, peak 7 (at the term's start), sustained peak 2 and no overage", usage.Items)
		}
		// The report shows the crowds outside the term, but nothing over
		// a quantity there: the quantity is 0, and none of it is billed.
		for _, c := range []struct {
			day            string
			quantity, peak int
		}{{"2026-11-02", 0, 10}, {"2026-11-20", 5, 2}, {"2026-11-27", 0, 10}} {
			rows, _ := e.report(e.Operator, "acme", "interval=1d&from="+c.day+"&to="+c.day)
			if len(rows) != 1 || rows[0].Quantity != c.quantity || rows[0].Peak != c.peak || rows[0].Sustained > c.peak || rows[0].OverQuantity != 0 {
				t.Errorf("report of %s: %+v, want quantity %d, peak %d, nothing over", c.day, rows, c.quantity, c.peak)
			}
		}
		// October and December are wholly outside the term: nothing, not
		// even a quantity.
		for _, i := range []int{0, 2} {
			if u := usage.Items[i]; u.Quantity != 0 || u.Peak != 0 || u.Overage != 0 {
				t.Errorf("%s, outside the term: %+v, want nothing", u.Month, u)
			}
		}
	})
}

// TestAPI_PricesOfClosedMonthsStay (SPEC §4.6): a closed month is frozen,
// its price too. A price change after closing December 2025 applies from
// January: December's seats and its uncommitted seats (billed in
// January, in arrears) keep the old prices, January's take the new ones.
func TestAPI_PricesOfClosedMonthsStay(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		clock := e.useClock(time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC))
		e.must(201, "PUT", "/v1/accounts/acme", map[string]string{"name": "Acme", "region": "eu", "catalog": "wfo"})
		sub := map[string]any{"model": "named", "enforcement": "commit", "quantity": 100,
			"unit_price": 3000, "overage_price": 4500, "currency": "EUR", "starts_at": "2025-02-01T00:00:00Z"}
		e.must(201, "PUT", "/v1/accounts/acme/subscriptions/qm", sub)
		clock.Set(time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)) // the ledger reaches February 1
		e.must(201, "POST", "/v1/accounts/acme/usage/events", map[string]any{"events": holidaySeason()})
		statements := func() map[string]map[string]int64 { // service month → kind → unit price
			var body struct {
				Items []billing.Statement `json:"items"`
			}
			e.must(200, "GET", "/v1/accounts/acme/billing/statements?from=2025-12&to=2026-03", nil).JSON(t, &body)
			out := map[string]map[string]int64{}
			for _, st := range body.Items {
				for _, l := range st.Lines {
					if out[l.ServiceMonth] == nil {
						out[l.ServiceMonth] = map[string]int64{}
					}
					out[l.ServiceMonth][l.Kind] = l.UnitPrice
				}
			}
			return out
		}
		before := statements()
		if before["2025-12"]["recurring"] != 3000 || before["2026-01"]["recurring"] != 3000 || before["2025-12"]["uncommitted"] != 4500 {
			t.Fatalf("before the change: %v", before)
		}
		e.must(200, "POST", "/v1/accounts/acme/billing/close?month=2025-12", nil)
		sub["unit_price"], sub["overage_price"] = 3500, 5000
		e.must(200, "PUT", "/v1/accounts/acme/subscriptions/qm", sub)
		after := statements()
		for _, c := range []struct {
			month, kind string
			want        int64
		}{{"2025-12", "recurring", 3000}, {"2025-12", "uncommitted", 4500}, {"2026-01", "recurring", 3500}, {"2026-01", "uncommitted", 5000}, {"2026-02", "recurring", 3500}} {
			if got := after[c.month][c.kind]; got != c.want {
				t.Errorf("%s %s at %d, want %d (all: %v)", c.month, c.kind, got, c.want, after)
			}
		}
	})
}

// TestAPI_ServiceMonthKeepsItsPrice (SPEC §4.6): a service month is billed
// at the prices in force on its first day, every part of it. Service
// months run from the 15th; November is closed, so a new price applies
// from December 1; seats added on December 4, in the service month of
// November 15, are billed at that month's old price.
func TestAPI_ServiceMonthKeepsItsPrice(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		clock := e.useClock(time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC))
		e.must(201, "PUT", "/v1/accounts/acme", map[string]string{"name": "Acme", "region": "eu", "catalog": "contact-center"})
		e.must(201, "PUT", "/v1/accounts/acme/subscriptions/premium", map[string]any{"model": "named", "quantity": 10, "unit_price": 3000, "starts_at": "2026-10-15T00:00:00Z"})
		clock.Set(time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC))
		e.must(200, "POST", "/v1/accounts/acme/billing/close?month=2026-11", nil)
		e.must(200, "PUT", "/v1/accounts/acme/subscriptions/premium", map[string]any{"model": "named", "quantity": 20, "unit_price": 6000})
		var body struct {
			Items []billing.Statement `json:"items"`
		}
		e.must(200, "GET", "/v1/accounts/acme/billing/statements?from=2026-11&to=2027-01", nil).JSON(t, &body)
		prices := map[string][]int64{} // service month → unit prices of its lines
		for _, st := range body.Items {
			for _, l := range st.Lines {
				prices[l.ServiceMonth] = append(prices[l.ServiceMonth], l.UnitPrice)
			}
		}
		if got := prices["2026-11"]; len(got) != 2 || got[0] != 3000 || got[1] != 3000 {
			t.Errorf("lines of the service month from November 15 at %v, want two (10 seats, then 20 from December 4) at 3000", got)
		}
		if got := prices["2026-12"]; len(got) != 1 || got[0] != 6000 {
			t.Errorf("lines of the service month from December 15 at %v, want one at 6000", got)
		}
	})
}

// TestAPI_ArrearsWhateverTheWindow (SPEC §4.6): a statement is the same
// however it is asked for. December 2023's overage is billed in arrears on
// the statement of January 2024, asked for alone, over three years, or by
// its id (usage was read for the last 36 months of the window only).
func TestAPI_ArrearsWhateverTheWindow(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.useClock(time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC))
		e.must(201, "PUT", "/v1/accounts/acme", map[string]string{"name": "Acme", "region": "eu", "catalog": "contact-center"})
		e.must(201, "PUT", "/v1/accounts/acme/subscriptions/essentials", map[string]any{"model": "concurrent", "quantity": 1,
			"unit_price": 1000, "overage_price": 500, "grace_period": "0s", "starts_at": "2023-11-01T00:00:00Z"})
		at := time.Date(2023, 12, 5, 10, 0, 0, 0, time.UTC)
		e.must(201, "POST", "/v1/accounts/acme/usage/events", map[string]any{"events": []usageEvent{
			presence("presence.start", "u1", "x1", at), presence("presence.end", "u1", "x1", at.Add(time.Hour)),
			presence("presence.start", "u2", "x2", at), presence("presence.end", "u2", "x2", at.Add(time.Hour)),
		}})
		january := func(query string) billing.Statement {
			var body struct {
				Items []billing.Statement `json:"items"`
			}
			e.must(200, "GET", "/v1/accounts/acme/billing/statements?"+query, nil).JSON(t, &body)
			for _, st := range body.Items {
				if st.PeriodStart.Equal(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) {
					return st
				}
			}
			t.Fatalf("%s: no statement of January 2024 in %+v", query, body.Items)
			return billing.Statement{}
		}
		alone := january("from=2024-01&to=2024-02")
		if alone.Total != 1500 {
			t.Fatalf("January 2024 alone: total %d, want 1000 for the month and 500 of December's overage: %+v", alone.Total, alone)
		}
		if long := january("from=2024-01&to=2027-01"); long.Total != alone.Total || len(long.Lines) != len(alone.Lines) {
			t.Errorf("over three years: %+v, want %+v", long, alone)
		}
		var byID billing.Statement
		e.must(200, "GET", "/v1/accounts/acme/billing/statements/"+alone.ID, nil).JSON(t, &byID)
		if byID.Total != alone.Total {
			t.Errorf("by id: total %d, want %d", byID.Total, alone.Total)
		}
	})
}

// TestAPI_TimeZoneFixedOnceClosed (SPEC §4.6, R17): months and billing
// periods are cut in the account's time zone, so once a month is closed
// the zone can no longer change (409 period_closed): statements already
// issued keep their periods, prices and ids. Before, a change moved the
// periods to the 31st and re-priced the closed month.
func TestAPI_TimeZoneFixedOnceClosed(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.useClock(time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC))
		acct := map[string]string{"name": "Acme", "region": "us", "time_zone": "Pacific/Kiritimati"}
		e.must(201, "PUT", "/v1/accounts/acme", acct)
		e.must(201, "PUT", "/v1/accounts/acme/subscriptions/premium", map[string]any{"model": "named", "quantity": 2,
			"unit_price": 1000, "currency": "USD", "starts_at": "2026-09-30T10:00:00Z"})
		statements := func() string {
			return string(e.must(200, "GET", "/v1/accounts/acme/billing/statements?from=2026-10&to=2026-12", nil).Body)
		}
		// Before any month is closed the zone may change, and back.
		acct["time_zone"] = "America/Los_Angeles"
		e.must(200, "PUT", "/v1/accounts/acme", acct)
		acct["time_zone"] = "Pacific/Kiritimati"
		e.must(200, "PUT", "/v1/accounts/acme", acct)
		e.must(200, "POST", "/v1/accounts/acme/billing/close?month=2026-10", nil)
		before := statements()
		if !strings.Contains(before, `"period_start":"2026-10-01T00:00:00+14:00"`) {
			t.Fatalf("statements before: %s", before)
		}
		acct["time_zone"] = "America/Los_Angeles"
		wantProblem(t, e.do(e.Operator, "PUT", "/v1/accounts/acme", acct), 409, "period_closed")
		var a struct {
			TimeZone string `json:"time_zone"`
		}
		e.must(200, "GET", "/v1/accounts/acme", nil).JSON(t, &a)
		if a.TimeZone != "Pacific/Kiritimati" {
			t.Errorf("time zone %q after the refusal", a.TimeZone)
		}
		if after := statements(); after != before {
			t.Errorf("statements changed:\nbefore %s\nafter  %s", before, after)
		}
		// The name may still change, the zone staying.
		acct["time_zone"], acct["name"] = "Pacific/Kiritimati", "Acme Pacific"
		e.must(200, "PUT", "/v1/accounts/acme", acct)
	})
}

// TestAPI_StatementsAtTheLastYear: statements asked up to the end of 2115
// read the months in arrears within the years there is usage of. Before,
// a `to` late on December 31, 2115 in a zone far from UTC asked for
// January 2116's usage and was refused with a 400 about months.
func TestAPI_StatementsAtTheLastYear(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.must(201, "PUT", "/v1/accounts/kiri", map[string]string{"name": "Kiri", "region": "us", "time_zone": "Pacific/Kiritimati"})
		e.must(201, "PUT", "/v1/accounts/kiri/subscriptions/premium", map[string]any{"model": "named", "quantity": 2,
			"unit_price": 1000, "currency": "USD", "starts_at": "2115-11-01T00:00:00+14:00"})
		var body struct {
			Items []billing.Statement `json:"items"`
		}
		e.must(200, "GET", "/v1/accounts/kiri/billing/statements?from=2115-12&to=2115-12-31T23:00:00-12:00", nil).JSON(t, &body)
		// to is January 2, 2116, 01:00 in Kiritimati: the periods of
		// December and January begin before it.
		if len(body.Items) != 2 {
			t.Errorf("%d statements, want December 2115's and January 2116's", len(body.Items))
		}
	})
}
