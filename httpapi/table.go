package httpapi

import (
	"encoding/csv"
	"net/http"
	"strings"
)

// wantsCSV reports whether the client asked for CSV, by Accept or ?format=csv.
func wantsCSV(r *http.Request) bool {
	return r.URL.Query().Get("format") == "csv" || strings.Contains(r.Header.Get("Accept"), "text/csv")
}

// writeTable answers body as JSON, or, when the client asked for CSV, the
// header row and the rows that rows emits: every report and export answers
// through it.
func writeTable(w http.ResponseWriter, r *http.Request, body any, header []string, rows func(emit func(cells ...string))) {
	if !wantsCSV(r) {
		writeJSON(w, http.StatusOK, body)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	cw := csv.NewWriter(w)
	cw.Write(header)
	rows(func(cells ...string) { cw.Write(cells) })
	cw.Flush()
}
