package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/billing"
	"github.com/seatkeeper/seatkeeper/metering"
)

// monthlyUsage is GET …/billing/usage?from=YYYY-MM&to=YYYY-MM (SPEC §4.6).
func (s *Server) monthlyUsage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, to := q.Get("from"), q.Get("to")
	if to == "" {
		to = from
	}
	rows, err := s.Store.MonthlyUsage(r.Context(), r.PathValue("account"), from, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeTable(w, r, "billing-usage", map[string]any{"items": rows},
		[]string{"month", "license", "model", "enforcement", "quantity", "peak", "sustained_peak", "used", "committed", "uncommitted", "overage"},
		func(emit func(...string)) {
			for _, u := range rows {
				emit(u.Month, u.License, u.Model, u.Enforcement, strconv.Itoa(u.Quantity), strconv.Itoa(u.Peak), strconv.Itoa(u.SustainedPeak),
					strconv.Itoa(u.Used), strconv.Itoa(u.Committed), strconv.Itoa(u.Uncommitted), strconv.Itoa(u.Overage))
			}
		})
}

// closeMonth is POST …/billing/close?month=YYYY-MM (operator): the ledger
// is closed up to the month's end (imports before it get period_closed)
// and the month's usage is frozen; the answer is what was frozen.
func (s *Server) closeMonth(w http.ResponseWriter, r *http.Request) {
	c, err := s.Store.CloseMonth(r.Context(), actorOf(r), r.PathValue("account"), r.URL.Query().Get("month"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// closedMonth is GET …/billing/close?month=YYYY-MM: what the closed month
// froze, recomputed from the ledger to show that it has not changed.
func (s *Server) closedMonth(w http.ResponseWriter, r *http.Request) {
	c, err := s.Store.ClosedMonth(r.Context(), r.PathValue("account"), r.URL.Query().Get("month"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// advice is GET …/billing/advice?license=&months=12: the quantity of a
// commitment or pool that would have cost least over the last months.
func (s *Server) advice(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	months := 12
	if v := q.Get("months"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.fail(w, r, &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid months",
				Fields: []seatkeeper.FieldError{{Field: "months", Message: "must be a whole number of months"}}})
			return
		}
		months = n
	}
	license := q.Get("license")
	if !validID(license) {
		s.fail(w, r, &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid license",
			Fields: []seatkeeper.FieldError{{Field: "license", Message: "required, [A-Za-z0-9._@:-]{1,128}"}}})
		return
	}
	a, err := s.Store.Advice(r.Context(), r.PathValue("account"), license, months)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// billingTime reads from/to of statements: a month YYYY-MM (its first
// day), a date, or an RFC 3339 time, in the account's time zone.
func billingTime(v, name string, loc *time.Location) (time.Time, error) {
	if m, err := time.Parse("2006-01", v); err == nil {
		return inYears(metering.StartOfDay(m.Year(), m.Month(), 1, loc), nil, name)
	}
	if d, err := time.Parse("2006-01-02", v); err == nil {
		// For statements, a `to` date is the first day not asked for.
		return inYears(metering.StartOfDay(d.Year(), d.Month(), d.Day(), loc), nil, name)
	}
	return reportTime(v, name, loc)
}

// statements is GET …/billing/statements?from=&to= (SPEC §4.6): the
// statements whose billing period starts in [from, to).
func (s *Server) statements(w http.ResponseWriter, r *http.Request) {
	account := r.PathValue("account")
	a, err := s.Store.Account(r.Context(), account)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	loc := seatkeeper.Location(a.TimeZone)
	q := r.URL.Query()
	from, to := time.Now().In(loc).AddDate(-1, 0, 0), time.Now().In(loc).AddDate(0, 1, 0)
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(p.name); v != "" {
			t, err := billingTime(v, p.name, loc)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			*p.dst = t
		}
	}
	if !to.After(from) || to.Sub(from) > 10*366*24*time.Hour {
		s.fail(w, r, &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid period",
			Fields: []seatkeeper.FieldError{{Field: "to", Message: "must be after from, at most ten years later"}}})
		return
	}
	sts, err := s.Store.Statements(r.Context(), account, from, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if id := r.PathValue("statement"); id != "" {
		for _, st := range sts {
			if st.ID == id {
				s.writeStatements(w, r, []billing.Statement{st}, true)
				return
			}
		}
		s.fail(w, r, seatkeeper.Errorf(seatkeeper.ENotFound, "no statement %q", id))
		return
	}
	s.writeStatements(w, r, sts, false)
}

// statement is GET …/billing/statements/{statement}: one statement, looked
// up among those of the last nine years and the next one.
func (s *Server) statement(w http.ResponseWriter, r *http.Request) {
	if _, err := pathIDs(r, "account", "statement"); err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	q.Set("from", time.Now().AddDate(-9, 0, 0).UTC().Format(time.RFC3339))
	q.Set("to", time.Now().AddDate(1, 0, 0).UTC().Format(time.RFC3339))
	r.URL.RawQuery = q.Encode()
	s.statements(w, r)
}

func (s *Server) writeStatements(w http.ResponseWriter, r *http.Request, sts []billing.Statement, one bool) {
	var body any = map[string]any{"items": sts}
	if one {
		body = sts[0]
	}
	writeTable(w, r, "statements", body,
		[]string{"statement_id", "period_start", "period_end", "currency", "license", "description", "service_month", "quantity", "unit_price", "amount", "kind"},
		func(emit func(...string)) {
			for _, st := range sts {
				for _, l := range st.Lines {
					emit(st.ID, st.PeriodStart.Format(time.RFC3339), st.PeriodEnd.Format(time.RFC3339), st.Currency, l.License, l.Description,
						l.ServiceMonth, strconv.Itoa(l.Quantity), strconv.FormatInt(l.UnitPrice, 10), strconv.FormatInt(l.Amount, 10), l.Kind)
				}
			}
		})
}
