package httpapi_test

// The usage ledger import (SPEC §4.5) and the license usage report (SPEC
// §4.7, R17, R7) through the HTTP API, on every store: the seed's shift
// change, imported for a past day by the operator and reported per hour,
// quarter hour and day, as JSON and CSV, in the account's time zone.
//
// Two things come from the store, as the API has no route for them yet:
// its clock, so that the subscription predates the imported day (the
// report takes the quantity in force from the ledger), and CloseMonth, for
// period_closed. What was or was not imported is read back from the ledger
// too.

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
)

var (
	// subscribedAt is when the test accounts buy their pool; importedAt is
	// when the import and the reports happen, days after reportDay.
	subscribedAt = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	importedAt   = time.Date(2026, 11, 6, 12, 0, 0, 0, time.UTC)
)

// reportDay is the past day of the shift change: 2026-11-03, a November
// day, when Europe/Berlin is at +01:00.
const reportDay = "2026-11-03"

// ledgerAccount creates account acct in the time zone, with a concurrent
// essentials subscription of quantity 100 and overage allowance 10 (grace
// period 30 minutes by default), at the store's current time.
func (e *env) ledgerAccount(acct, tz string) {
	e.t.Helper()
	e.must(201, "PUT", "/v1/accounts/"+acct, map[string]string{"name": "Account " + acct, "region": "eu", "catalog": "contact-center", "time_zone": tz})
	e.must(201, "PUT", "/v1/accounts/"+acct+"/subscriptions/essentials",
		map[string]any{"model": "concurrent", "quantity": 100, "overage_allowance": 10})
}

// usageEvent is one event of an import body.
type usageEvent map[string]any

func presence(typ, user, session string, at time.Time) usageEvent {
	return usageEvent{"type": typ, "user": user, "license": "essentials", "kind": "work_session", "session": session, "at": at}
}

// shiftChange is R7's example for the day starting at midnight (local to
// the account): 100 agents signed in 08:00–16:00, 100 others from 16:00 to
// midnight, and five of the first shift staying `overlap` longer.
func shiftChange(midnight time.Time, overlap time.Duration) []usageEvent {
	var out []usageEvent
	for i := range 100 {
		u := fmt.Sprintf("early%03d", i)
		end := midnight.Add(16 * time.Hour)
		if i < 5 {
			end = end.Add(overlap)
		}
		out = append(out, presence("presence.start", u, u+"-s", midnight.Add(8*time.Hour)), presence("presence.end", u, u+"-s", end))
	}
	for i := range 100 {
		u := fmt.Sprintf("late%03d", i)
		out = append(out, presence("presence.start", u, u+"-s", midnight.Add(16*time.Hour)), presence("presence.end", u, u+"-s", midnight.Add(24*time.Hour)))
	}
	return out
}

// importEvents posts a batch with the token.
func (e *env) importEvents(token, acct string, events any, headers ...string) resp {
	e.t.Helper()
	return e.do(token, "POST", "/v1/accounts/"+acct+"/usage/events", map[string]any{"events": events}, headers...)
}

// usageRow is one row of the report, with interval_start as sent.
type usageRow struct {
	IntervalStart string  `json:"interval_start"`
	License       string  `json:"license"`
	Quantity      int     `json:"quantity"`
	Allowance     int     `json:"allowance"`
	Peak          int     `json:"peak"`
	Average       float64 `json:"average"`
	Sustained     int     `json:"sustained"`
	OverQuantity  int     `json:"over_quantity"`
	SignIns       int     `json:"sign_ins"`
	Denied        int     `json:"denied"`
}

var usageColumns = []string{"interval_start", "license", "quantity", "allowance", "peak", "average", "sustained", "over_quantity", "sign_ins", "denied"}

// report gets the license usage report with the token and query, failing
// unless 200, and checks that every row has exactly the documented members.
func (e *env) report(token, acct, query string, headers ...string) ([]usageRow, resp) {
	e.t.Helper()
	r := e.mustAs(token, 200, "GET", "/v1/accounts/"+acct+"/reports/license-usage?"+query, nil, headers...)
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		e.t.Fatalf("report content type %q, want application/json", ct)
	}
	var raw struct {
		Items []map[string]json.RawMessage `json:"items"`
	}
	r.JSON(e.t, &raw)
	if raw.Items == nil {
		e.t.Fatalf("report without an items list: %s", r.Body)
	}
	rows := make([]usageRow, len(raw.Items))
	for i, item := range raw.Items {
		keys := slices.Sorted(maps.Keys(item))
		if want := slices.Sorted(slices.Values(usageColumns)); !slices.Equal(keys, want) {
			e.t.Fatalf("row %d has members %v, want %v", i, keys, want)
		}
		data, _ := json.Marshal(item)
		if err := json.Unmarshal(data, &rows[i]); err != nil {
			e.t.Fatalf("row %d: %v", i, err)
		}
	}
	return rows, r
}

// csvRecord writes a JSON row the way the CSV export should show it, the
// average aside (compared as a number).
func csvRecord(r usageRow) []string {
	return []string{r.IntervalStart, r.License, strconv.Itoa(r.Quantity), strconv.Itoa(r.Allowance), strconv.Itoa(r.Peak), "",
		strconv.Itoa(r.Sustained), strconv.Itoa(r.OverQuantity), strconv.Itoa(r.SignIns), strconv.Itoa(r.Denied)}
}

// sameAsCSV checks that a CSV export is the header row and the JSON rows.
func sameAsCSV(t *testing.T, r resp, rows []usageRow) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("content type %q, want text/csv", ct)
	}
	records, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, r.Body)
	}
	if len(records) == 0 || !slices.Equal(records[0], usageColumns) {
		t.Fatalf("CSV header %v, want %v", records[:min(1, len(records))], usageColumns)
	}
	if len(records)-1 != len(rows) {
		t.Fatalf("CSV has %d rows, JSON %d", len(records)-1, len(rows))
	}
	for i, rec := range records[1:] {
		avg, err := strconv.ParseFloat(rec[5], 64)
		if err != nil || math.Abs(avg-rows[i].Average) > 0.0005 {
			t.Errorf("CSV row %d average %q, JSON %v", i, rec[5], rows[i].Average)
		}
		rec[5] = ""
		if want := csvRecord(rows[i]); !slices.Equal(rec, want) {
			t.Errorf("CSV row %d %v, JSON says %v", i, rec, want)
		}
	}
}

// fieldsOf lists the fields a problem's errors[] names, sorted.
func fieldsOf(t testing.TB, r resp) []string {
	var out []string
	for _, f := range r.Problem(t).Errors {
		out = append(out, f.Field)
	}
	slices.Sort(out)
	return out
}

// imported reads back from the ledger the imported events of an account.
func (e *env) imported(acct string) []seatkeeper.UsageEvent {
	e.t.Helper()
	events, err := e.Store.UsageEvents(context.Background(), acct, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		e.t.Fatal(err)
	}
	return slices.DeleteFunc(events, func(ev seatkeeper.UsageEvent) bool { return ev.Source != "import" })
}

// importAudits counts the account's usage.import audit records.
func (e *env) importAudits(acct string) int {
	e.t.Helper()
	var body struct {
		Items []seatkeeper.AuditRecord `json:"items"`
	}
	e.must(200, "GET", "/v1/accounts/"+acct+"/audit?from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z", nil).JSON(e.t, &body)
	n := 0
	for _, a := range body.Items {
		if a.Action == "usage.import" {
			n++
		}
	}
	return n
}

// R7, R17: the shift change of R7, imported and reported. 105 users on 100
// seats for 20 minutes is no overage; for 45 minutes it is 5. The 16:00
// row shows the raw peak of 105 either way.
func TestAPI_R7_ShiftChangeReport(t *testing.T) {
	for _, tc := range []struct {
		overlap time.Duration
		over    int
	}{{20 * time.Minute, 0}, {45 * time.Minute, 5}} {
		t.Run(tc.overlap.String(), func(t *testing.T) {
			forEachStore(t, func(t *testing.T, e *env) {
				clock := e.useClock(subscribedAt)
				e.ledgerAccount("acme", "UTC")
				reader, app, admin := e.token("acme", "reader"), e.token("acme", "app"), e.token("acme", "admin")
				clock.Set(importedAt)
				day := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
				r := e.importEvents(e.Operator, "acme", shiftChange(day, tc.overlap))
				if r.Status != 201 || strings.TrimSpace(string(r.Body)) != `{"imported":400}` {
					t.Fatalf("import: %d %s, want 201 {\"imported\":400}", r.Status, r.Body)
				}
				if got := len(e.imported("acme")); got != 400 {
					t.Errorf("the ledger holds %d imported events, want 400", got)
				}
				if got := e.importAudits("acme"); got != 1 {
					t.Errorf("%d usage.import audit records, want 1", got)
				}
				// overlapMinutes of 105 users in the 16:00 hour, 100 otherwise.
				ov := tc.overlap.Minutes()
				hour := func(i int) usageRow {
					r := usageRow{IntervalStart: day.Add(time.Duration(i) * time.Hour).Format(time.RFC3339), License: "essentials", Quantity: 100, Allowance: 10}
					switch {
					case i < 8:
					case i == 16:
						r.Peak, r.Average, r.Sustained, r.OverQuantity, r.SignIns = 105, (105*ov+100*(60-ov))/60, 100+tc.over, tc.over, 100
					default:
						r.Peak, r.Average, r.Sustained = 100, 100, 100
						if i == 8 {
							r.SignIns = 100
						}
					}
					return r
				}
				sameRows := func(t *testing.T, got, want []usageRow) {
					t.Helper()
					if len(got) != len(want) {
						t.Fatalf("%d rows, want %d", len(got), len(want))
					}
					for i := range got {
						g, w := got[i], want[i]
						if math.Abs(g.Average-w.Average) > 1e-9 {
							t.Errorf("row %d (%s): average %v, want %v", i, g.IntervalStart, g.Average, w.Average)
						}
						g.Average, w.Average = 0, 0
						if g != w {
							t.Errorf("row %d:\n got %+v\nwant %+v", i, g, w)
						}
					}
				}

				hourly, hourlyResp := e.report(e.Operator, "acme", "from=2026-11-03T00:00:00Z&to=2026-11-04T00:00:00Z&interval=1h")
				t.Run("hourly", func(t *testing.T) {
					var want []usageRow
					for i := range 24 {
						want = append(want, hour(i))
					}
					sameRows(t, hourly, want)
				})
				t.Run("same_report_other_ways", func(t *testing.T) {
					e := e.withT(t)
					for _, c := range []struct{ name, token, query string }{
						{"default_interval_is_1h", e.Operator, "from=2026-11-03T00:00:00Z&to=2026-11-04T00:00:00Z"},
						{"to_date_includes_that_day", e.Operator, "from=" + reportDay + "&to=" + reportDay + "&interval=1h"},
						{"offsets", e.Operator, "from=2026-11-03T01:00:00%2B01:00&to=2026-11-03T19:00:00-05:00&interval=1h"},
						{"license_filter", e.Operator, "from=" + reportDay + "&to=" + reportDay + "&license=essentials"},
						{"reader_token", reader, "from=" + reportDay + "&to=" + reportDay},
						{"app_token", app, "from=" + reportDay + "&to=" + reportDay},
						{"admin_token", admin, "from=" + reportDay + "&to=" + reportDay},
					} {
						if _, r := e.report(c.token, "acme", c.query); string(r.Body) != string(hourlyResp.Body) {
							t.Errorf("%s: %s\nwant the hourly report %s", c.name, r.Body, hourlyResp.Body)
						}
					}
					rows, _ := e.report(reader, "acme", "from="+reportDay+"&to=2026-11-04")
					if len(rows) != 48 || rows[24].IntervalStart != "2026-11-04T00:00:00Z" || rows[24].Peak != 0 {
						t.Errorf("two days: %d rows, want 48, the second day empty", len(rows))
					}
				})
				t.Run("quarter_hours", func(t *testing.T) {
					rows, _ := e.withT(t).report(e.Operator, "acme", "from="+reportDay+"&to="+reportDay+"&interval=15m")
					if len(rows) != 96 {
						t.Fatalf("%d rows, want 96", len(rows))
					}
					over, signIns := 0, 0
					for i, r := range rows {
						if want := day.Add(time.Duration(i) * 15 * time.Minute).Format(time.RFC3339); r.IntervalStart != want {
							t.Errorf("row %d starts %s, want %s", i, r.IntervalStart, want)
						}
						if r.Quantity != 100 || r.Allowance != 10 || r.Denied != 0 || r.License != "essentials" {
							t.Errorf("row %d: %+v", i, r)
						}
						over += r.OverQuantity
						signIns += r.SignIns
					}
					if r := rows[64]; r.Peak != 105 || r.SignIns != 100 || r.OverQuantity != 0 || r.Sustained != 100 {
						t.Errorf("16:00 row %+v, want peak 105, 100 sign-ins, sustained 100, over_quantity 0", r)
					}
					// m(t) reaches 105 only once 105 users have been signed in
					// for the whole grace period: from 16:30, for 45 minutes.
					if r := rows[66]; r.OverQuantity != tc.over || r.Sustained != 100+tc.over {
						t.Errorf("16:30 row %+v, want sustained %d, over_quantity %d", r, 100+tc.over, tc.over)
					}
					if over != tc.over || signIns != 200 || rows[32].SignIns != 100 {
						t.Errorf("over_quantity summed %d, sign-ins %d (08:00: %d), want %d, 200, 100", over, signIns, rows[32].SignIns, tc.over)
					}
				})
				t.Run("daily", func(t *testing.T) {
					rows, _ := e.withT(t).report(e.Operator, "acme", "from="+reportDay+"&to="+reportDay+"&interval=1d")
					avg := (100*16*60 + 5*ov) / (24 * 60)
					if len(rows) != 1 || rows[0].IntervalStart != "2026-11-03T00:00:00Z" || rows[0].Peak != 105 || rows[0].OverQuantity != tc.over ||
						rows[0].Sustained != 100+tc.over || rows[0].SignIns != 200 || math.Abs(rows[0].Average-avg) > 1e-9 {
						t.Errorf("daily rows %+v, want one of peak 105, over_quantity %d, 200 sign-ins, average %v", rows, tc.over, avg)
					}
				})
				t.Run("csv", func(t *testing.T) {
					e := e.withT(t)
					q := "from=" + reportDay + "&to=" + reportDay + "&interval=1h"
					byFormat := e.mustAs(reader, 200, "GET", "/v1/accounts/acme/reports/license-usage?"+q+"&format=csv", nil)
					sameAsCSV(t, byFormat, hourly)
					byAccept := e.mustAs(reader, 200, "GET", "/v1/accounts/acme/reports/license-usage?"+q, nil, "Accept: text/csv")
					if string(byAccept.Body) != string(byFormat.Body) {
						t.Errorf("Accept: text/csv answered\n%s\nformat=csv\n%s", byAccept.Body, byFormat.Body)
					}
					rec, _ := csv.NewReader(strings.NewReader(string(byFormat.Body))).ReadAll()
					if len(rec) != 25 || rec[17][0] != "2026-11-03T16:00:00Z" || rec[17][4] != "105" || rec[17][7] != strconv.Itoa(tc.over) || rec[17][8] != "100" {
						t.Errorf("CSV 16:00 row %v", rec[min(17, len(rec)-1)])
					}
				})
				t.Run("other_license", func(t *testing.T) {
					// No subscription to premium: nothing to report on.
					wantProblem(t, e.withT(t).do(reader, "GET", "/v1/accounts/acme/reports/license-usage?from="+reportDay+"&to="+reportDay+"&license=premium", nil), 404, "not_found")
				})
			})
		})
	}
}

// R17: the report's intervals are those of the account's time zone, and
// so are dates given as from and to: in Europe/Berlin, in November, every
// interval_start is at +01:00.
func TestAPI_R17_ReportInAccountTimeZone(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		clock := e.useClock(subscribedAt)
		e.ledgerAccount("berlin", "Europe/Berlin")
		clock.Set(importedAt)
		berlin, err := time.LoadLocation("Europe/Berlin")
		if err != nil {
			t.Skip("no time zone data:", err)
		}
		e.must(201, "POST", "/v1/accounts/berlin/usage/events", map[string]any{"events": shiftChange(time.Date(2026, 11, 3, 0, 0, 0, 0, berlin), 45*time.Minute)})

		rows, r := e.report(e.Operator, "berlin", "from="+reportDay+"&to="+reportDay+"&interval=1h")
		if len(rows) != 24 {
			t.Fatalf("%d rows, want 24", len(rows))
		}
		for i, row := range rows {
			if want := fmt.Sprintf("2026-11-03T%02d:00:00+01:00", i); row.IntervalStart != want {
				t.Errorf("row %d starts %s, want %s", i, row.IntervalStart, want)
			}
		}
		if r16, r8 := rows[16], rows[8]; r16.Peak != 105 || r16.OverQuantity != 5 || r16.SignIns != 100 || r8.SignIns != 100 || r8.Peak != 100 || rows[7].Peak != 0 {
			t.Errorf("16:00 row %+v, 08:00 row %+v: the shift change is not at local time", r16, r8)
		}
		// The same instants written in UTC give the same report.
		if _, utc := e.report(e.Operator, "berlin", "from=2026-11-02T23:00:00Z&to=2026-11-03T23:00:00Z&interval=1h"); string(utc.Body) != string(r.Body) {
			t.Errorf("the day as UTC instants:\n%s\nwant\n%s", utc.Body, r.Body)
		}
		sameAsCSV(t, e.mustAs(e.Operator, 200, "GET", "/v1/accounts/berlin/reports/license-usage?from="+reportDay+"&to="+reportDay+"&format=csv", nil), rows)

		daily, _ := e.report(e.Operator, "berlin", "from="+reportDay+"&to="+reportDay+"&interval=1d")
		if len(daily) != 1 || daily[0].IntervalStart != "2026-11-03T00:00:00+01:00" || daily[0].Peak != 105 || daily[0].SignIns != 200 {
			t.Errorf("daily rows %+v, want one starting 2026-11-03T00:00:00+01:00 with peak 105 and 200 sign-ins", daily)
		}

		// The day summer time ends has 25 hours, and 02:00 twice.
		dst, _ := e.report(e.Operator, "berlin", "from=2026-10-25&to=2026-10-25&interval=1h")
		if len(dst) != 25 || dst[2].IntervalStart != "2026-10-25T02:00:00+02:00" || dst[3].IntervalStart != "2026-10-25T02:00:00+01:00" || dst[24].IntervalStart != "2026-10-25T23:00:00+01:00" {
			t.Errorf("2026-10-25 in Berlin: %d rows, want 25 with 02:00 at +02:00 then +01:00", len(dst))
		}
		days, _ := e.report(e.Operator, "berlin", "from=2026-10-25&to=2026-10-26&interval=1d")
		if len(days) != 2 || days[0].IntervalStart != "2026-10-25T00:00:00+02:00" || days[1].IntervalStart != "2026-10-26T00:00:00+01:00" {
			t.Errorf("two days across the change: %+v", days)
		}
	})
}

// R17, R4: the report counts live presences too: sign-ins, and sign-ins
// refused with pool_exhausted as denied.
func TestAPI_R17_ReportCountsLiveSignIns(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		users := e.concurrentPool("acme", 1, 0, 3, "d")
		from := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
		e.startSession("acme", users[0], "work_session")
		e.startSession("acme", users[0], "portal") // the same user: no new sign-in
		poolExhausted(t, e.signIn(e.Operator, "acme", users[1], "work_session"), 1, 1, "essentials")
		poolExhausted(t, e.signIn(e.Operator, "acme", users[2], "api"), 1, 1, "essentials")
		to := time.Now().UTC().Add(time.Minute).Truncate(time.Second).Add(time.Second)
		rows, _ := e.report(e.token("acme", "reader"), "acme", "from="+from.Format(time.RFC3339)+"&to="+to.Format(time.RFC3339)+"&interval=1d")
		peak, signIns, denied := 0, 0, 0
		for _, r := range rows {
			peak, signIns, denied = max(peak, r.Peak), signIns+r.SignIns, denied+r.Denied
		}
		if len(rows) == 0 || peak != 1 || signIns != 1 || denied != 2 {
			t.Errorf("rows %+v: peak %d, sign-ins %d, denied %d, want 1, 1, 2", rows, peak, signIns, denied)
		}
	})
}

// SPEC §4.7, §4.8: a bad query is 400 invalid_request whose errors name
// each bad parameter; an unknown account is 404.
func TestAPI_R17_ReportBadQuery(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.ledgerAccount("acme", "UTC")
		reader := e.token("acme", "reader")
		day := "from=" + reportDay + "&to=" + reportDay
		for _, c := range []struct {
			name, query string
			fields      []string
		}{
			{"no_query", "", []string{"from", "to"}},
			{"no_from", "to=" + reportDay, []string{"from"}},
			{"no_to", "from=" + reportDay, []string{"to"}},
			{"from_not_a_time", "from=yesterday&to=" + reportDay, []string{"from"}},
			{"from_no_zone", "from=2026-11-03T00:00:00&to=" + reportDay, []string{"from"}},
			{"to_not_a_date", "from=" + reportDay + "&to=2026-11-31", []string{"to"}},
			{"to_bad_hour", "from=" + reportDay + "&to=2026-11-03T25:00:00Z", []string{"to"}},
			{"to_before_from", "from=2026-11-05&to=" + reportDay, []string{"to"}},
			{"to_equals_from", "from=2026-11-03T10:00:00Z&to=2026-11-03T10:00:00Z", []string{"to"}},
			{"to_date_is_from", "from=2026-11-04&to=" + reportDay, []string{"to"}},
			{"interval_2h", day + "&interval=2h", []string{"interval"}},
			{"interval_60m", day + "&interval=60m", []string{"interval"}},
			{"interval_upper_case", day + "&interval=1H", []string{"interval"}},
			{"interval_empty", day + "&interval=", []string{"interval"}},
			{"format_xml", day + "&format=xml", []string{"format"}},
			{"too_many_intervals", "from=2026-01-01&to=" + reportDay + "&interval=1m", []string{"interval"}},
			{"bad_license_id", day + "&license=a%20b", []string{"license"}},
			{"everything", "from=x&to=y&interval=z&license=a%20b", []string{"from", "interval", "license", "to"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				e := e.withT(t)
				r := e.do(reader, "GET", "/v1/accounts/acme/reports/license-usage?"+c.query, nil)
				wantProblem(t, r, 400, "invalid_request")
				if got := fieldsOf(t, r); !slices.Equal(got, c.fields) {
					t.Errorf("errors name %v, want %v: %s", got, c.fields, r.Body)
				}
				// CSV asked for or not, a bad query is a problem document.
				wantProblem(t, e.do(reader, "GET", "/v1/accounts/acme/reports/license-usage?"+c.query, nil, "Accept: text/csv"), 400, "invalid_request")
			})
		}
		wantProblem(t, e.do(e.Operator, "GET", "/v1/accounts/nope/reports/license-usage?"+day, nil), 404, "not_found")
		// The last day allowed (metering measures to February 2116) is
		// answered in full: before, a day there had no rows.
		if rows, _ := e.report(reader, "acme", "from=2115-12-31&to=2115-12-31&interval=1h"); len(rows) != 24 {
			t.Errorf("the last day allowed by the hour: %d rows, want 24", len(rows))
		}
		wantProblem(t, e.do(reader, "GET", "/v1/accounts/acme/reports/license-usage?from=2116-02-20T12:00:00Z&to=2116-02-21T12:00:00Z", nil), 400, "invalid_request")
		// A week by the minute is not too many intervals.
		if rows, _ := e.report(reader, "acme", "from=2026-11-02&to=2026-11-08&interval=1m"); len(rows) != 7*24*60 {
			t.Errorf("a week by the minute: %d rows, want %d", len(rows), 7*24*60)
		}
	})
}

// SPEC §4.5: an import is all or nothing: one bad event refuses the batch
// with 400 and errors naming events[i].field, and nothing is imported.
func TestAPI_UsageImportValidation(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		clock := e.useClock(subscribedAt)
		e.ledgerAccount("acme", "UTC")
		e.must(201, "PUT", "/v1/accounts/acme/subscriptions/premium", map[string]any{"model": "named", "quantity": 5})
		clock.Set(importedAt)
		at := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
		good := presence("presence.start", "ann", "ann-1", at)
		with := func(k string, v any) usageEvent {
			ev := usageEvent{}
			for key, val := range good {
				ev[key] = val
			}
			if v == nil {
				delete(ev, k)
			} else {
				ev[k] = v
			}
			return ev
		}
		assignment := usageEvent{"type": "assignment.add", "user": "ann", "at": at}
		for _, c := range []struct {
			name   string
			events any
			fields []string
			detail string
		}{
			{"bad_kind", []usageEvent{good, with("kind", "telepathy")}, []string{"events[1].kind"}, ""},
			{"no_kind", []usageEvent{with("kind", nil)}, []string{"events[0].kind"}, ""},
			{"bad_type", []usageEvent{with("type", "presence.pause")}, []string{"events[0].type"}, ""},
			{"bad_user", []usageEvent{with("user", "a b")}, []string{"events[0].user"}, ""},
			{"no_user", []usageEvent{with("user", nil)}, []string{"events[0].user"}, ""},
			{"no_at", []usageEvent{with("at", nil)}, []string{"events[0].at"}, ""},
			{"at_before_2000", []usageEvent{with("at", "1999-12-31T23:00:00Z")}, []string{"events[0].at"}, ""},
			{"at_more_than_a_day_ahead", []usageEvent{with("at", importedAt.Add(25*time.Hour))}, []string{"events[0].at"}, ""},
			{"no_session", []usageEvent{with("session", nil)}, []string{"events[0].session"}, ""},
			{"assignment_without_license", []usageEvent{assignment}, []string{"events[0].license"}, ""},
			{"presence_without_license", []usageEvent{with("license", nil)}, []string{"events[0].license"}, ""},
			{"user_event_with_license", []usageEvent{{"type": "user.deactivate", "user": "ann", "license": "essentials", "at": at}}, []string{"events[0].license"}, ""},
			{"one_session_two_users", []usageEvent{good, with("user", "bob")}, []string{"events[1].session"}, ""},
			{"one_session_two_pools", []usageEvent{good, with("license", "premium")}, []string{"events[1].license"}, ""},
			{"one_session_two_kinds", []usageEvent{good, with("kind", "api")}, []string{"events[1].kind"}, ""},
			{"bad_license_id", []usageEvent{with("license", "a b")}, []string{"events[0].license"}, ""},
			// Metered like live events: presences are of a concurrent
			// pool of the account; assignments of seats held per user
			// (R10). Before, all were stored, and stayed in the ledger.
			{"presence_not_subscribed", []usageEvent{with("license", "elite")}, []string{"events[0].license"}, ""},
			{"presence_of_a_named_subscription", []usageEvent{with("license", "premium")}, []string{"events[0].license"}, ""},
			{"presence_of_an_add_on", []usageEvent{with("license", "qm")}, []string{"events[0].license"}, ""},
			{"assignment_account_wide", []usageEvent{good, {"type": "assignment.add", "user": "ann", "license": "virtual_agent", "at": at}}, []string{"events[1].license"}, ""},
			{"assignment_quantity", []usageEvent{{"type": "assignment.add", "user": "ann", "license": "toll_free_numbers", "at": at}}, []string{"events[0].license"}, ""},
			{"several", []usageEvent{with("kind", "x"), good, with("type", "y")}, []string{"events[0].kind", "events[2].type"}, ""},
			{"license_not_in_catalog", []usageEvent{good, with("license", "nope")}, nil, "nope"},
			{"at_not_a_time", []usageEvent{with("at", "yesterday")}, nil, "RFC 3339"},
			{"at_a_number", []usageEvent{with("at", 12345)}, nil, "RFC 3339"},
			{"unknown_member", []usageEvent{with("device", "x")}, nil, "device"},
			{"no_events", []usageEvent{}, nil, "10000"},
			{"events_null", nil, nil, "10000"},
			{"events_not_a_list", good, nil, ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				e := e.withT(t)
				r := e.importEvents(e.Operator, "acme", c.events)
				p := wantProblem(t, r, 400, "invalid_request")
				if got := fieldsOf(t, r); !slices.Equal(got, c.fields) {
					t.Errorf("errors name %v, want %v: %s", got, c.fields, r.Body)
				}
				if !strings.Contains(p.Detail, c.detail) {
					t.Errorf("detail %q does not name %q", p.Detail, c.detail)
				}
			})
		}
		t.Run("more_than_10000", func(t *testing.T) {
			e := e.withT(t)
			// Valid events, small enough to fit in a 1 MiB body: only their
			// number is wrong.
			events := make([]usageEvent, 10001)
			for i := range events {
				events[i] = usageEvent{"type": "presence.start", "user": "u" + strconv.Itoa(i), "kind": "api", "session": "s" + strconv.Itoa(i), "at": "2026-11-03T09:00:00Z"}
			}
			p := wantProblem(t, e.importEvents(e.Operator, "acme", events), 400, "invalid_request")
			if !strings.Contains(p.Detail, "10000") {
				t.Errorf("detail %q does not say the limit", p.Detail)
			}
		})
		t.Run("nothing_imported", func(t *testing.T) {
			e := e.withT(t)
			if got := e.imported("acme"); len(got) != 0 {
				t.Errorf("refused batches imported %d events: %+v", len(got), got[0])
			}
			if got := e.importAudits("acme"); got != 0 {
				t.Errorf("%d usage.import audit records after refused batches", got)
			}
			rows, _ := e.report(e.Operator, "acme", "from="+reportDay+"&to="+reportDay)
			for _, r := range rows {
				if r.Peak != 0 || r.SignIns != 0 {
					t.Errorf("row %s: %+v after refused batches", r.IntervalStart, r)
				}
			}
		})
		t.Run("caps_do_not_refuse", func(t *testing.T) {
			// 120 users signed in at once, over the cap of 110: imported
			// events are metered, not refused (SPEC §4.5).
			e := e.withT(t)
			var events []usageEvent
			for i := range 120 {
				u := fmt.Sprintf("x%03d", i)
				events = append(events, presence("presence.start", u, u, at), presence("presence.end", u, u, at.Add(time.Hour)))
			}
			r := e.importEvents(e.Operator, "acme", events)
			if r.Status != 201 || strings.TrimSpace(string(r.Body)) != `{"imported":240}` {
				t.Fatalf("import: %d %s", r.Status, r.Body)
			}
			rows, _ := e.report(e.Operator, "acme", "from=2026-11-03T09:00:00Z&to=2026-11-03T10:00:00Z")
			if len(rows) != 1 || rows[0].Peak != 120 || rows[0].SignIns != 120 || rows[0].Denied != 0 {
				t.Errorf("rows %+v, want one with peak 120 and 120 sign-ins", rows)
			}
		})
		t.Run("session_of_an_earlier_batch", func(t *testing.T) {
			// A session is one user's, in later batches too: bob's events
			// for ann's session are refused, whatever the order of the
			// batch; ann's own end is taken.
			e := e.withT(t)
			e.must(201, "POST", "/v1/accounts/acme/usage/events", map[string]any{"events": []usageEvent{presence("presence.start", "ann", "ann-7", at)}})
			bobs := presence("presence.end", "bob", "ann-7", at.Add(time.Hour))
			r := e.importEvents(e.Operator, "acme", []usageEvent{presence("presence.start", "cy", "cy-7", at), bobs})
			wantProblem(t, r, 400, "invalid_request")
			if got := fieldsOf(t, r); !slices.Equal(got, []string{"events[1].session"}) || !strings.Contains(string(r.Body), `\"ann\"`) {
				t.Errorf("errors name %v, want events[1].session naming ann: %s", got, r.Body)
			}
			e.must(201, "POST", "/v1/accounts/acme/usage/events", map[string]any{"events": []usageEvent{presence("presence.end", "ann", "ann-7", at.Add(time.Hour))}})
			var users []string
			for _, ev := range e.imported("acme") {
				if ev.Session == "ann-7" || ev.Session == "cy-7" {
					users = append(users, ev.User)
				}
			}
			if !slices.Equal(users, []string{"ann", "ann"}) {
				t.Errorf("users of the imported events of ann-7 and cy-7: %v, want ann's start and end", users)
			}
		})
	})
}

// SPEC §4.5: only operator tokens import: every account token gets 403,
// an app token acting for the account's admin too, a token of another
// account 404; none of them imports anything.
func TestAPI_UsageImportAccess(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.ledgerAccount("acme", "UTC")
		e.ledgerAccount("other", "UTC")
		e.newUser("acme", "boss")
		e.grantRole("acme", "boss", "account", "admin")
		events := []usageEvent{presence("presence.start", "ann", "ann-1", time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC))}
		app := e.token("acme", "app")
		for _, c := range []struct {
			name, token string
			headers     []string
			status      int
			code        string
		}{
			{"admin", e.token("acme", "admin"), nil, 403, "forbidden"},
			{"app", app, nil, 403, "forbidden"},
			{"app_acting_admin", app, []string{"Seatkeeper-Acting-User: boss"}, 403, "forbidden"},
			{"reader", e.token("acme", "reader"), nil, 403, "forbidden"},
			{"other_account_admin", e.token("other", "admin"), nil, 404, "not_found"},
			{"none", "", nil, 401, "unauthenticated"},
		} {
			t.Run(c.name, func(t *testing.T) {
				wantProblem(t, e.withT(t).importEvents(c.token, "acme", events, c.headers...), c.status, c.code)
			})
		}
		if got := e.imported("acme"); len(got) != 0 {
			t.Errorf("refused imports wrote %d events", len(got))
		}
		e.must(201, "POST", "/v1/accounts/acme/usage/events", map[string]any{"events": events})
		if got := e.imported("acme"); len(got) != 1 {
			t.Errorf("%d events imported, want 1", len(got))
		}
		wantProblem(t, e.importEvents(e.Operator, "nope", events), 404, "not_found")
	})
}

// SPEC §4.5, §4.6: events in a closed month (of the account's time zone)
// refuse the whole batch with 409 period_closed; nothing is imported.
func TestAPI_UsageImportPeriodClosed(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		operator := seatkeeper.Actor{TokenID: "test", TokenKind: seatkeeper.TokenOperator}
		clock := e.useClock(subscribedAt)
		e.ledgerAccount("acme", "UTC")
		e.ledgerAccount("berlin", "Europe/Berlin")
		clock.Set(importedAt)
		for _, acct := range []string{"acme", "berlin"} {
			if _, err := e.Store.CloseMonth(ctx, operator, acct, "2026-10"); err != nil {
				t.Fatal(err)
			}
		}
		november := presence("presence.start", "ann", "ann-1", time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC))
		october := presence("presence.start", "bob", "bob-1", time.Date(2026, 10, 30, 9, 0, 0, 0, time.UTC))

		p := wantProblem(t, e.importEvents(e.Operator, "acme", []usageEvent{november, october}), 409, "period_closed")
		if !strings.Contains(p.Detail, "2026-10") {
			t.Errorf("detail %q does not name the month", p.Detail)
		}
		if got := e.imported("acme"); len(got) != 0 {
			t.Errorf("a refused batch imported %d events", len(got))
		}
		if rows, _ := e.report(e.Operator, "acme", "from="+reportDay+"&to="+reportDay); rows[9].SignIns != 0 {
			t.Errorf("09:00 row after a refused batch: %+v", rows[9])
		}
		e.must(201, "POST", "/v1/accounts/acme/usage/events", map[string]any{"events": []usageEvent{november}})
		if rows, _ := e.report(e.Operator, "acme", "from="+reportDay+"&to="+reportDay); rows[9].SignIns != 1 || rows[9].Peak != 1 {
			t.Errorf("09:00 row after the import: %+v, want one sign-in", rows[9])
		}

		// Months are the account's: 2026-10-31T23:30Z is November in Berlin,
		// 22:30Z is still October there.
		wantProblem(t, e.importEvents(e.Operator, "berlin", []usageEvent{presence("presence.start", "cy", "cy-1", time.Date(2026, 10, 31, 22, 30, 0, 0, time.UTC))}), 409, "period_closed")
		e.must(201, "POST", "/v1/accounts/berlin/usage/events", map[string]any{"events": []usageEvent{presence("presence.start", "cy", "cy-1", time.Date(2026, 10, 31, 23, 30, 0, 0, time.UTC))}})

		// Closing November too, once it has ended, refuses what was fine before.
		if _, err := e.Store.CloseMonth(ctx, operator, "acme", "2026-11"); seatkeeper.ErrorCode(err) != seatkeeper.EConflict {
			t.Errorf("closing a month that has not ended: %v, want conflict", err)
		}
		clock.Set(time.Date(2026, 12, 1, 0, 0, 1, 0, time.UTC))
		if _, err := e.Store.CloseMonth(ctx, operator, "acme", "2026-11"); err != nil {
			t.Fatal(err)
		}
		wantProblem(t, e.importEvents(e.Operator, "acme", []usageEvent{presence("presence.end", "ann", "ann-1", time.Date(2026, 11, 3, 17, 0, 0, 0, time.UTC))}), 409, "period_closed")
		if got := e.imported("acme"); len(got) != 1 {
			t.Errorf("%d imported events, want the one accepted", len(got))
		}
	})
}

// R14, R17: days and months are the account's, also where clocks skip
// midnight. In Santiago 2026-09-06 begins at 01:00 -03:00 (00:00 never
// happens), in Asunción 2023-10-01 too: the day and the month begin at the
// change, not an hour early on the day before.
func TestAPI_R17_DaysThatSkipMidnight(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		clock := e.useClock(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC))
		e.ledgerAccount("scl", "America/Santiago")
		clock.Set(time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC))
		// y on Sep 5 at 23:30 -04:00, x on Sep 6 at 23:30 -03:00.
		y, x := time.Date(2026, 9, 6, 3, 30, 0, 0, time.UTC), time.Date(2026, 9, 7, 2, 30, 0, 0, time.UTC)
		e.must(201, "POST", "/v1/accounts/scl/usage/events", map[string]any{"events": []usageEvent{
			presence("presence.start", "y", "y-1", y), presence("presence.end", "y", "y-1", y.Add(20*time.Minute)),
			presence("presence.start", "x", "x-1", x), presence("presence.end", "x", "x-1", x.Add(20*time.Minute)),
		}})
		for _, c := range []struct {
			day, start string
			peak       int
		}{
			{"2026-09-05", "2026-09-05T00:00:00-04:00", 1},
			{"2026-09-06", "2026-09-06T01:00:00-03:00", 1},
		} {
			rows, _ := e.report(e.Operator, "scl", "interval=1d&from="+c.day+"&to="+c.day)
			if len(rows) != 1 || rows[0].IntervalStart != c.start || rows[0].Peak != c.peak || rows[0].SignIns != 1 {
				t.Errorf("%s: rows %+v, want one from %s with peak %d and one sign-in", c.day, rows, c.start, c.peak)
			}
		}
		if rows, _ := e.report(e.Operator, "scl", "interval=1h&from=2026-09-06&to=2026-09-06"); len(rows) != 23 ||
			rows[0].IntervalStart != "2026-09-06T01:00:00-03:00" || rows[22].IntervalStart != "2026-09-06T23:00:00-03:00" || rows[22].Peak != 1 {
			t.Errorf("hours of 2026-09-06: %d rows, want 23 from 01:00 to 23:00 with x in the last: %+v", len(rows), rows)
		}

		// A month: Asunción's October 2023 began at 01:00 -03:00; two users
		// signed in at 23:05–23:59 -04:00 on September 30 are September's
		// usage: 54 minutes over a quantity of one, past the grace.
		e.must(201, "PUT", "/v1/accounts/asu", map[string]string{"name": "Asu", "region": "eu", "catalog": "contact-center", "time_zone": "America/Asuncion"})
		e.must(201, "PUT", "/v1/accounts/asu/subscriptions/essentials", map[string]any{"model": "concurrent", "quantity": 1, "starts_at": "2023-01-01T00:00:00Z"})
		at := time.Date(2023, 10, 1, 3, 5, 0, 0, time.UTC)
		var events []usageEvent
		for _, u := range []string{"x", "y"} {
			events = append(events, presence("presence.start", u, u+"-1", at), presence("presence.end", u, u+"-1", at.Add(54*time.Minute)))
		}
		e.must(201, "POST", "/v1/accounts/asu/usage/events", map[string]any{"events": events})
		var body struct {
			Items []seatkeeper.MonthUsage `json:"items"`
		}
		e.must(200, "GET", "/v1/accounts/asu/billing/usage?from=2023-09&to=2023-10", nil).JSON(t, &body)
		got := map[string][2]int{}
		for _, u := range body.Items {
			got[u.Month] = [2]int{u.Peak, u.Overage}
		}
		if want := map[string][2]int{"2023-09": {2, 1}, "2023-10": {0, 0}}; !maps.Equal(got, want) {
			t.Errorf("peak and overage by month: %v, want %v", got, want)
		}
	})
}

// TestAPI_R17_AllowanceAsItWas (SPEC §4.7): each row shows the overage
// allowance in force at its start, as it shows the quantity; none before
// the subscription's term. Before, every row showed today's allowance, so
// a pool full at Q + A under the old terms read as over its cap.
func TestAPI_R17_AllowanceAsItWas(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		nine := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
		clock := e.useClock(nine)
		e.newAccount("acme", "contact-center")
		sub := map[string]any{"model": "concurrent", "quantity": 2, "overage_allowance": 2, "starts_at": nine}
		e.must(201, "PUT", "/v1/accounts/acme/subscriptions/essentials", sub)
		for _, u := range e.newUsers("acme", "u", 4) {
			e.must(201, "PUT", "/v1/accounts/acme/users/"+u+"/licenses/essentials", nil)
			e.startSession("acme", u, "api")
		}
		clock.Set(nine.Add(time.Hour))
		sub["quantity"], sub["overage_allowance"] = 3, 0
		e.must(200, "PUT", "/v1/accounts/acme/subscriptions/essentials", sub)
		clock.Set(nine.Add(2 * time.Hour))
		rows, _ := e.report(e.Operator, "acme", "from=2026-11-03T08:00:00Z&to=2026-11-03T11:00:00Z&interval=1h")
		want := []struct{ quantity, allowance, peak int }{{0, 0, 0}, {2, 2, 4}, {3, 0, 4}}
		if len(rows) != len(want) {
			t.Fatalf("%d rows, want %d: %+v", len(rows), len(want), rows)
		}
		for i, w := range want {
			if r := rows[i]; r.Quantity != w.quantity || r.Allowance != w.allowance || r.Peak != w.peak {
				t.Errorf("%s: quantity %d allowance %d peak %d, want %d %d %d", r.IntervalStart, r.Quantity, r.Allowance, r.Peak, w.quantity, w.allowance, w.peak)
			}
		}
	})
}
