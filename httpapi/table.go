package httpapi

import (
	"encoding/csv"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/seatkeeper/seatkeeper"
)

// wantsCSV reports whether the client asked for CSV: ?format=csv (or json),
// in any case, else an Accept header that prefers text/csv to
// application/json — by q-value, then by the more specific media range
// (RFC 9110 §12.5.1); a tie is JSON.
func wantsCSV(r *http.Request) (bool, error) {
	switch f := r.URL.Query().Get("format"); {
	case strings.EqualFold(f, "csv"):
		return true, nil
	case strings.EqualFold(f, "json"):
		return false, nil
	case f != "":
		return false, &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid format",
			Fields: []seatkeeper.FieldError{{Field: "format", Message: "must be csv or json"}}}
	}
	accept := r.Header.Values("Accept")
	csvQ, csvSpec := acceptQ(accept, "text", "csv")
	jsonQ, jsonSpec := acceptQ(accept, "application", "json")
	return csvQ > jsonQ || csvQ == jsonQ && csvQ > 0 && csvSpec > jsonSpec, nil
}

// acceptQ is the q-value that Accept gives the media type typ/sub, from
// the most specific range that matches it, and that range's specificity:
// 2 for typ/sub, 1 for typ/*, 0 for */*, -1 (and q 0) if none matches.
func acceptQ(accept []string, typ, sub string) (q float64, spec int) {
	spec = -1
	for _, h := range accept {
		for _, rng := range strings.Split(h, ",") {
			mt, params, err := mime.ParseMediaType(rng)
			if err != nil {
				continue
			}
			t, s, _ := strings.Cut(mt, "/")
			sp := -1
			switch {
			case t == typ && s == sub:
				sp = 2
			case t == typ && s == "*":
				sp = 1
			case t == "*" && s == "*":
				sp = 0
			}
			if sp < 0 || sp < spec {
				continue
			}
			rq := 1.0
			if v, ok := params["q"]; ok {
				if rq, err = strconv.ParseFloat(v, 64); err != nil || rq < 0 || rq > 1 {
					continue
				}
			}
			if sp > spec || rq > q {
				q, spec = rq, sp
			}
		}
	}
	return q, spec
}

// writeTable answers body as JSON, or, when the client asked for CSV, the
// header row and the rows that rows emits, as the attachment name.csv:
// every report and export answers through it.
func writeTable(w http.ResponseWriter, r *http.Request, name string, body any, header []string, rows func(emit func(cells ...string))) {
	asCSV, err := wantsCSV(r)
	if err != nil {
		writeError(w, r, slog.Default(), err)
		return
	}
	if !asCSV {
		writeJSON(w, http.StatusOK, body)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	cw := csv.NewWriter(w)
	cw.Write(header)
	rows(func(cells ...string) {
		for i, c := range cells {
			cells[i] = inert(c)
		}
		cw.Write(cells)
	})
	cw.Flush()
}

// inert keeps a cell from being read as a formula by a spreadsheet (CSV
// injection: a user id or name that begins with =, +, -, @, a tab or a
// carriage return): such a cell gets a leading apostrophe, unless it is a
// number.
func inert(cell string) string {
	if cell == "" || !strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return cell
	}
	if decimal(cell) {
		return cell
	}
	return "'" + cell
}

// decimal says whether a cell is a plain decimal number, as exports write
// them: a sign, digits, a point, an exponent (not Go's Inf, NaN or hex).
func decimal(cell string) bool {
	_, err := strconv.ParseFloat(cell, 64)
	return err == nil && !strings.ContainsFunc(cell, func(r rune) bool {
		return !strings.ContainsRune("+-.0123456789eE", r)
	})
}
