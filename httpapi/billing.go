package httpapi

import (
	"encoding/csv"
	"net/http"
	"strconv"
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
	if !wantsCSV(r) {
		writeJSON(w, http.StatusOK, map[string]any{"items": rows})
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	cw := csv.NewWriter(w)
	cw.Write([]string{"month", "license", "model", "enforcement", "quantity", "peak", "sustained_peak", "used", "committed", "uncommitted", "overage"})
	for _, u := range rows {
		cw.Write([]string{u.Month, u.License, u.Model, u.Enforcement, strconv.Itoa(u.Quantity), strconv.Itoa(u.Peak), strconv.Itoa(u.SustainedPeak),
			strconv.Itoa(u.Used), strconv.Itoa(u.Committed), strconv.Itoa(u.Uncommitted), strconv.Itoa(u.Overage)})
	}
	cw.Flush()
}

// closeMonth is POST …/billing/close?month=YYYY-MM (operator): the month is
// frozen, and ledger imports into it are refused (period_closed).
func (s *Server) closeMonth(w http.ResponseWriter, r *http.Request) {
	month := r.URL.Query().Get("month")
	if err := s.Store.CloseMonth(r.Context(), actorOf(r), r.PathValue("account"), month); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"month": month, "closed": true})
}
