package httpapi

import (
	"net/http/httptest"
	"testing"

	"github.com/seatkeeper/seatkeeper"
)

// TestR17_WantsCSV: ?format= decides, in any case, and refuses anything but
// csv and json; otherwise Accept does, by q-value and then by the more
// specific range, a tie and no preference being JSON (SPEC §4.7).
func TestR17_WantsCSV(t *testing.T) {
	for _, c := range []struct {
		query, accept string
		csv           bool
		code          string
	}{
		{"", "", false, ""},
		{"", "text/csv", true, ""},
		{"", "TEXT/CSV", true, ""},
		{"", "text/csv; charset=utf-8", true, ""},
		{"", "application/json", false, ""},
		{"", "*/*", false, ""},
		{"", "text/*", true, ""},
		{"", "application/json, text/csv", false, ""},
		{"", "text/csv, application/json", false, ""},
		{"", "text/csv;q=0.1, application/json", false, ""},
		{"", "text/csv, application/json;q=0.5", true, ""},
		{"", "text/csv, */*", true, ""},
		{"", "text/*;q=0.9, application/*;q=0.8", true, ""},
		{"", "text/csv;q=0, */*", false, ""},
		{"", "text/csv;q=2", false, ""}, // not a q-value: the range is ignored
		{"", "image/png", false, ""},
		{"format=csv", "application/json", true, ""},
		{"format=CSV", "", true, ""},
		{"format=json", "text/csv", false, ""},
		{"format=xml", "", false, seatkeeper.EInvalid},
	} {
		r := httptest.NewRequest("GET", "/x?"+c.query, nil)
		if c.accept != "" {
			r.Header.Set("Accept", c.accept)
		}
		got, err := wantsCSV(r)
		if got != c.csv || seatkeeper.ErrorCode(err) != c.code {
			t.Errorf("?%s Accept %q: csv %v, %v; want %v, %q", c.query, c.accept, got, err, c.csv, c.code)
		}
	}
}

// TestR17_CSVCellsAreNotFormulas: an exported cell that a spreadsheet
// would run as a formula (a user id such as "@evil" or "-1+1") is written
// with a leading apostrophe; numbers, negative ones too, and other text
// are written as they are.
func TestR17_CSVCellsAreNotFormulas(t *testing.T) {
	w := httptest.NewRecorder()
	writeTable(w, httptest.NewRequest("GET", "/x?format=csv", nil), "x", nil, []string{"a", "b", "c", "d", "e", "f"}, func(emit func(...string)) {
		emit("=cmd|' /C calc'!A0", "@evil", "-1+1", "-250", "+3.5", "ann")
		emit("\tx", "\rx", "", "a=b", "1e3", "-")
		emit("-Infinity", "-Inf", "+NaN", "-0x1p-2", "-0x_1p-2", "-1.5E-3")
	})
	want := "a,b,c,d,e,f\n" +
		"'=cmd|' /C calc'!A0,'@evil,'-1+1,-250,+3.5,ann\n" +
		"'\tx,\"'\rx\",,a=b,1e3,'-\n" +
		"'-Infinity,'-Inf,'+NaN,'-0x1p-2,'-0x_1p-2,-1.5E-3\n"
	if got := w.Body.String(); got != want {
		t.Errorf("CSV\n%q\nwant\n%q", got, want)
	}
}
