package billing_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/seatkeeper/seatkeeper/billing"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func ptr[T any](v T) *T { return &v }

func linesOf(st billing.Statement, kind string) []billing.Line {
	var out []billing.Line
	for _, l := range st.Lines {
		if l.Kind == kind {
			out = append(out, l)
		}
	}
	return out
}

func checkTotal(t *testing.T, st billing.Statement) {
	t.Helper()
	var sum int64
	for _, l := range st.Lines {
		sum += l.Amount
	}
	if sum != st.Total {
		t.Errorf("statement %s: total %d, lines sum to %d", st.ID, st.Total, sum)
	}
}

// TestStatements_R14_HolidaySeason: a commitment of 100 seats with 150 users
// from November to January bills 100 committed seats every month in
// advance, and 50 uncommitted seats for each of November, December and
// January in arrears, on the December, January and February statements.
func TestStatements_R14_HolidaySeason(t *testing.T) {
	const P, U = 3000, 4500
	plan := billing.Plan{
		License: "wfo_access", Currency: "USD", BillingPeriod: "monthly", Enforcement: "commit",
		UnitPrice: P, OveragePrice: U, StartsAt: day(2025, 1, 1),
		Quantity: []billing.QuantityChange{{At: day(2025, 1, 1), Quantity: 100}},
	}
	var usage []billing.Usage
	for _, m := range []string{"2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09", "2025-10"} {
		usage = append(usage, billing.Usage{Month: m, License: "wfo_access"})
	}
	for _, m := range []string{"2025-11", "2025-12", "2026-01"} {
		usage = append(usage, billing.Usage{Month: m, License: "wfo_access", Uncommitted: 50})
	}
	usage = append(usage, billing.Usage{Month: "2025-11", License: "other", Uncommitted: 7}) // another license

	sts := billing.Statements("acme", time.UTC, []billing.Plan{plan}, usage, day(2025, 1, 1), day(2026, 4, 1))
	if len(sts) != 15 {
		t.Fatalf("got %d statements, want 15 (Jan 2025 to Mar 2026)", len(sts))
	}
	wantUncommitted := map[string]string{"2025-12": "2025-11", "2026-01": "2025-12", "2026-02": "2026-01"}
	for i, st := range sts {
		checkTotal(t, st)
		start := day(2025, time.January+time.Month(i), 1)
		if !st.PeriodStart.Equal(start) || !st.PeriodEnd.Equal(start.AddDate(0, 1, 0)) {
			t.Errorf("statement %d: period %v–%v, want from %v", i, st.PeriodStart, st.PeriodEnd, start)
		}
		if st.Currency != "USD" || st.Account != "acme" {
			t.Errorf("statement %d: currency %q account %q", i, st.Currency, st.Account)
		}
		rec := linesOf(st, billing.KindRecurring)
		if len(rec) != 1 || rec[0].Quantity != 100 || rec[0].UnitPrice != P || rec[0].Amount != 100*P ||
			rec[0].ServiceMonth != start.Format("2006-01") {
			t.Errorf("statement %s: recurring %+v, want 100 × %d for %s", start.Format("2006-01"), rec, P, start.Format("2006-01"))
		}
		unc := linesOf(st, billing.KindUncommitted)
		if svc, ok := wantUncommitted[start.Format("2006-01")]; ok {
			if len(unc) != 1 || unc[0].Quantity != 50 || unc[0].UnitPrice != U || unc[0].Amount != 50*U || unc[0].ServiceMonth != svc {
				t.Errorf("statement %s: uncommitted %+v, want 50 × %d for %s", start.Format("2006-01"), unc, U, svc)
			}
			if st.Total != 100*P+50*U {
				t.Errorf("statement %s: total %d, want %d", start.Format("2006-01"), st.Total, 100*P+50*U)
			}
		} else if len(unc) != 0 || st.Total != 100*P {
			t.Errorf("statement %s: uncommitted %+v total %d, want none and %d", start.Format("2006-01"), unc, st.Total, 100*P)
		}
		if len(st.Lines) != 1+len(unc) {
			t.Errorf("statement %s: unexpected lines %+v", start.Format("2006-01"), st.Lines)
		}
	}
}

// TestStatements_R14_QuarterlyArrears: quarterly statements list each month,
// and usage months are billed on the next statement after they end.
func TestStatements_R14_QuarterlyArrears(t *testing.T) {
	plan := billing.Plan{
		License: "wfo_access", Currency: "EUR", BillingPeriod: "quarterly", Enforcement: "commit",
		UnitPrice: 1000, OveragePrice: 1500, StartsAt: day(2025, 1, 1),
		Quantity: []billing.QuantityChange{{At: day(2025, 1, 1), Quantity: 100}},
	}
	usage := []billing.Usage{
		{Month: "2025-11", License: "wfo_access", Uncommitted: 50},
		{Month: "2025-12", License: "wfo_access", Uncommitted: 50},
		{Month: "2026-01", License: "wfo_access", Uncommitted: 50},
	}
	sts := billing.Statements("acme", time.UTC, []billing.Plan{plan}, usage, day(2025, 10, 1), day(2026, 7, 1))
	if len(sts) != 3 {
		t.Fatalf("got %d statements, want 3", len(sts))
	}
	want := [][]string{nil, {"2025-11", "2025-12"}, {"2026-01"}}
	for i, st := range sts {
		var got []string
		for _, l := range linesOf(st, billing.KindUncommitted) {
			got = append(got, l.ServiceMonth)
			if l.Amount != 50*1500 {
				t.Errorf("uncommitted amount %d", l.Amount)
			}
		}
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("statement %v: uncommitted months %v, want %v", st.PeriodStart, got, want[i])
		}
		if n := len(linesOf(st, billing.KindRecurring)); n != 3 {
			t.Errorf("statement %v: %d recurring lines, want 3", st.PeriodStart, n)
		}
		checkTotal(t, st)
	}
}

// TestStatements_R7_Overage: 5 billable overage seats in March are billed in
// arrears on the April statement at the overage price.
func TestStatements_R7_Overage(t *testing.T) {
	plan := billing.Plan{
		License: "acd_elite", Currency: "USD", BillingPeriod: "monthly", Enforcement: "hard",
		UnitPrice: 12000, OveragePrice: 15000, StartsAt: day(2025, 1, 1),
		Quantity: []billing.QuantityChange{{At: day(2025, 1, 1), Quantity: 100}},
	}
	usage := []billing.Usage{{Month: "2025-03", License: "acd_elite", Overage: 5}}
	sts := billing.Statements("acme", time.UTC, []billing.Plan{plan}, usage, day(2025, 3, 1), day(2025, 6, 1))
	if len(sts) != 3 {
		t.Fatalf("got %d statements, want 3", len(sts))
	}
	for _, st := range sts {
		checkTotal(t, st)
		ov := linesOf(st, billing.KindOverage)
		if st.PeriodStart.Equal(day(2025, 4, 1)) {
			if len(ov) != 1 || ov[0].Quantity != 5 || ov[0].UnitPrice != 15000 || ov[0].Amount != 5*15000 || ov[0].ServiceMonth != "2025-03" {
				t.Errorf("April statement overage %+v, want 5 × 15000 for 2025-03", ov)
			}
			if st.Total != 100*12000+5*15000 {
				t.Errorf("April total %d", st.Total)
			}
		} else if len(ov) != 0 {
			t.Errorf("statement %v: unexpected overage %+v", st.PeriodStart, ov)
		}
	}
}

// TestStatements_ClosingStatement: usage of the last month of an ended plan
// is still billed, on a statement after the term with usage lines only.
func TestStatements_ClosingStatement(t *testing.T) {
	plan := billing.Plan{
		License: "acd_elite", Currency: "USD", BillingPeriod: "monthly",
		UnitPrice: 100, OveragePrice: 200, StartsAt: day(2025, 1, 1), EndsAt: ptr(day(2025, 3, 1)),
		Quantity: []billing.QuantityChange{{At: day(2025, 1, 1), Quantity: 10}},
	}
	usage := []billing.Usage{{Month: "2025-02", License: "acd_elite", Overage: 2}}
	sts := billing.Statements("acme", time.UTC, []billing.Plan{plan}, usage, day(2025, 1, 1), day(2026, 1, 1))
	if len(sts) != 3 {
		t.Fatalf("got %d statements, want 3: %+v", len(sts), sts)
	}
	last := sts[2]
	if !last.PeriodStart.Equal(day(2025, 3, 1)) || len(last.Lines) != 1 || last.Lines[0].Kind != billing.KindOverage || last.Total != 400 {
		t.Errorf("closing statement %+v", last)
	}
}

func periodStarts(sts []billing.Statement, loc *time.Location) []string {
	var out []string
	for _, st := range sts {
		out = append(out, st.PeriodStart.In(loc).Format("2006-01-02"))
	}
	return out
}

// TestStatements_QuarterlyAnnualInAdvance: each statement lists every month
// of its period as a recurring line, in advance.
func TestStatements_QuarterlyAnnualInAdvance(t *testing.T) {
	for _, tc := range []struct {
		period string
		months int
		starts []string
	}{
		{"quarterly", 3, []string{"2025-02-10", "2025-05-10", "2025-08-10", "2025-11-10"}},
		{"annual", 12, []string{"2025-02-10"}},
	} {
		t.Run(tc.period, func(t *testing.T) {
			plan := billing.Plan{
				License: "qm", Currency: "USD", BillingPeriod: tc.period, UnitPrice: 2500, StartsAt: day(2025, 2, 10),
				Quantity: []billing.QuantityChange{{At: day(2025, 2, 10), Quantity: 10}},
			}
			sts := billing.Statements("acme", time.UTC, []billing.Plan{plan}, nil, day(2025, 1, 1), day(2026, 1, 1))
			if got := periodStarts(sts, time.UTC); !reflect.DeepEqual(got, tc.starts) {
				t.Fatalf("period starts %v, want %v", got, tc.starts)
			}
			for _, st := range sts {
				if want := st.PeriodStart.AddDate(0, tc.months, 0); !st.PeriodEnd.Equal(want) {
					t.Errorf("period end %v, want %v", st.PeriodEnd, want)
				}
				if len(st.Lines) != tc.months {
					t.Fatalf("statement %v: %d lines, want %d", st.PeriodStart, len(st.Lines), tc.months)
				}
				for i, l := range st.Lines {
					want := st.PeriodStart.AddDate(0, i, 0).Format("2006-01")
					if l.Kind != billing.KindRecurring || l.ServiceMonth != want || l.Amount != 10*2500 || l.Quantity != 10 {
						t.Errorf("line %d: %+v, want recurring 10 × 2500 for %s", i, l, want)
					}
				}
				if st.Total != int64(tc.months)*10*2500 {
					t.Errorf("total %d", st.Total)
				}
			}
		})
	}
}

// TestStatements_Jan31Anchor: the anchor day is clamped to each month's last
// day, always from the original day, and leap years give Feb 29.
func TestStatements_Jan31Anchor(t *testing.T) {
	for _, tc := range []struct {
		period string
		start  time.Time
		want   []string
	}{
		{"monthly", day(2025, 1, 31), []string{"2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31", "2025-06-30"}},
		{"monthly", day(2024, 1, 31), []string{"2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31", "2024-06-30"}},
		{"quarterly", day(2025, 1, 31), []string{"2025-01-31", "2025-04-30", "2025-07-31", "2025-10-31"}},
		{"annual", day(2024, 2, 29), []string{"2024-02-29", "2025-02-28", "2026-02-28", "2027-02-28", "2028-02-29"}},
	} {
		plan := billing.Plan{
			License: "qm", Currency: "USD", BillingPeriod: tc.period, UnitPrice: 3100, StartsAt: tc.start,
			Quantity: []billing.QuantityChange{{At: tc.start, Quantity: 1}},
		}
		until := day(2025, 7, 1)
		if tc.period != "monthly" {
			until = day(2028, 12, 31)
		}
		if tc.start.Year() == 2024 && tc.period == "monthly" {
			until = day(2024, 7, 1)
		}
		sts := billing.Statements("acme", time.UTC, []billing.Plan{plan}, nil, tc.start, until)
		got := periodStarts(sts, time.UTC)
		if tc.period == "quarterly" && len(got) > 4 {
			got = got[:4]
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s from %v: period starts %v, want %v", tc.period, tc.start, got, tc.want)
		}
		for i, st := range sts {
			if i+1 < len(sts) && !st.PeriodEnd.Equal(sts[i+1].PeriodStart) {
				t.Errorf("period %d ends %v, next starts %v", i, st.PeriodEnd, sts[i+1].PeriodStart)
			}
			// Every anchored month is billed whole, whatever its length.
			for _, l := range st.Lines {
				if l.Kind != billing.KindRecurring || l.Amount != 3100 {
					t.Errorf("%s %v: line %+v, want a whole month", tc.period, st.PeriodStart, l)
				}
			}
		}
	}
}

// TestStatements_AnchorInAccountZone: the anchor is the calendar day of the
// start in the account's time zone, and periods start at local midnight.
func TestStatements_AnchorInAccountZone(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 1, 31, 20, 0, 0, 0, time.UTC) // Feb 1, 05:00 in Tokyo
	plan := billing.Plan{
		License: "qm", Currency: "JPY", BillingPeriod: "monthly", UnitPrice: 100, StartsAt: start,
		Quantity: []billing.QuantityChange{{At: start, Quantity: 1}},
	}
	sts := billing.Statements("acme", tokyo, []billing.Plan{plan}, nil, day(2025, 1, 1), time.Date(2025, 4, 1, 0, 0, 0, 0, tokyo))
	if got, want := periodStarts(sts, tokyo), []string{"2025-02-01", "2025-03-01"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("period starts %v, want %v", got, want)
	}
	if !sts[0].PeriodStart.Equal(time.Date(2025, 2, 1, 0, 0, 0, 0, tokyo)) {
		t.Errorf("period start %v, want Tokyo midnight", sts[0].PeriodStart)
	}
	if sts[0].Lines[0].Kind != billing.KindRecurring || sts[0].Lines[0].ServiceMonth != "2025-02" {
		t.Errorf("line %+v", sts[0].Lines[0])
	}
}

// TestStatements_ProrationEnd: a plan ending mid-month bills the days it
// covers, the day of EndsAt included when EndsAt is not a midnight.
func TestStatements_ProrationEnd(t *testing.T) {
	plan := billing.Plan{
		License: "qm", Currency: "USD", BillingPeriod: "monthly", UnitPrice: 3000, StartsAt: day(2025, 4, 1),
		EndsAt:   ptr(time.Date(2025, 5, 10, 12, 0, 0, 0, time.UTC)),
		Quantity: []billing.QuantityChange{{At: day(2025, 4, 1), Quantity: 2}},
	}
	sts := billing.Statements("acme", time.UTC, []billing.Plan{plan}, nil, day(2025, 1, 1), day(2026, 1, 1))
	if len(sts) != 2 {
		t.Fatalf("got %d statements, want 2", len(sts))
	}
	l := sts[1].Lines
	// May 1–10: 10 of 31 days: 2 × 3000 × 10 / 31 = 1935.48… → 1935.
	if len(l) != 1 || l[0].Kind != billing.KindProration || l[0].Amount != 1935 || l[0].Quantity != 2 {
		t.Errorf("May lines %+v", l)
	}
}

// TestDeterminism: the same inputs give the same statements, ids and bytes.
func TestDeterminism(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	plans := []billing.Plan{
		{License: "wfo_access", Currency: "USD", BillingPeriod: "monthly", Enforcement: "commit", UnitPrice: 3000, OveragePrice: 4500,
			StartsAt: time.Date(2025, 1, 15, 9, 0, 0, 0, ny),
			Quantity: []billing.QuantityChange{{At: time.Date(2025, 1, 15, 9, 0, 0, 0, ny), Quantity: 100}, {At: time.Date(2025, 3, 20, 0, 0, 0, 0, ny), Quantity: 120}}},
		{License: "acd_elite", Currency: "USD", BillingPeriod: "quarterly", UnitPrice: 12345, OveragePrice: 15000,
			StartsAt: time.Date(2025, 1, 31, 0, 0, 0, 0, ny), EndsAt: ptr(time.Date(2025, 11, 17, 0, 0, 0, 0, ny)),
			Quantity: []billing.QuantityChange{{At: time.Date(2025, 1, 31, 0, 0, 0, 0, ny), Quantity: 7}}},
	}
	usage := []billing.Usage{
		{Month: "2025-02", License: "acd_elite", Overage: 3},
		{Month: "2025-11", License: "acd_elite", Overage: 1},
		{Month: "2025-11", License: "wfo_access", Uncommitted: 50},
	}
	from, to := time.Date(2025, 1, 1, 0, 0, 0, 0, ny), time.Date(2026, 6, 1, 0, 0, 0, 0, ny)
	a := billing.Statements("acme", ny, plans, usage, from, to)
	b := billing.Statements("acme", ny, plans, usage, from, to)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two computations differ")
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Fatal("two computations give different JSON")
	}
	idRe := regexp.MustCompile(`^st_[0-9a-f]{16}$`)
	seen := map[string]bool{}
	for i, st := range a {
		if !idRe.MatchString(st.ID) {
			t.Errorf("id %q", st.ID)
		}
		if seen[st.ID] {
			t.Errorf("duplicate id %q", st.ID)
		}
		seen[st.ID] = true
		checkTotal(t, st)
		if i > 0 && st.PeriodStart.Before(a[i-1].PeriodStart) {
			t.Errorf("statements out of order")
		}
	}
	// A narrower window gives the same statements for the periods it keeps.
	c := billing.Statements("acme", ny, plans, usage, time.Date(2025, 6, 1, 0, 0, 0, 0, ny), to)
	for _, st := range c {
		found := false
		for _, x := range a {
			if x.ID == st.ID {
				found = reflect.DeepEqual(x, st)
			}
		}
		if !found {
			t.Errorf("statement %s differs in a narrower window", st.ID)
		}
	}
	// Another account gives other ids.
	d := billing.Statements("other", ny, plans, usage, from, to)
	if len(d) != len(a) || d[0].ID == a[0].ID {
		t.Errorf("ids do not depend on the account")
	}
}

// TestStatements_PriceChanges: each service month is billed at the prices
// in force on its first day, its overage too, whenever it is billed.
func TestStatements_PriceChanges(t *testing.T) {
	plan := billing.Plan{
		License: "acd_elite", Currency: "USD", BillingPeriod: "monthly", Enforcement: "hard",
		UnitPrice: 99999, OveragePrice: 99999, StartsAt: day(2025, 1, 1), // the current prices: not used with a history
		Quantity: []billing.QuantityChange{{At: day(2025, 1, 1), Quantity: 10}},
		Prices: []billing.PriceChange{
			{At: day(2025, 3, 1), UnitPrice: 1500, OveragePrice: 2500},
			{At: day(2025, 1, 1), UnitPrice: 1000, OveragePrice: 2000}, // any order
		},
	}
	usage := []billing.Usage{{Month: "2025-02", License: "acd_elite", Overage: 3}, {Month: "2025-03", License: "acd_elite", Overage: 4}}
	sts := billing.Statements("acme", time.UTC, []billing.Plan{plan}, usage, day(2025, 1, 1), day(2025, 5, 1))
	if len(sts) != 4 {
		t.Fatalf("got %d statements, want 4", len(sts))
	}
	want := map[string][2]int64{ // service month → unit price, overage price
		"2025-01": {1000, 0}, "2025-02": {1000, 2000}, "2025-03": {1500, 2500}, "2025-04": {1500, 0},
	}
	for _, st := range sts {
		checkTotal(t, st)
		for _, l := range st.Lines {
			w := want[l.ServiceMonth]
			switch {
			case l.Kind == billing.KindRecurring && l.UnitPrice != w[0]:
				t.Errorf("%s recurring at %d, want %d", l.ServiceMonth, l.UnitPrice, w[0])
			case l.Kind == billing.KindOverage && (l.UnitPrice != w[1] || l.Amount != int64(l.Quantity)*w[1]):
				t.Errorf("%s overage %+v, want at %d", l.ServiceMonth, l, w[1])
			}
		}
	}
}
