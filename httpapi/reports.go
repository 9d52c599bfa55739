package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/metering"
)

var reportIntervals = map[string]time.Duration{"1m": time.Minute, "15m": 15 * time.Minute, "1h": time.Hour, "1d": 24 * time.Hour}

// maxBuckets bounds a report's rows per license.
const maxBuckets = 100_000

// reportTime reads from or to: RFC 3339, or a date (YYYY-MM-DD) in the
// account's time zone; a date given as `to` includes that day.
func reportTime(v, name string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return inYears(t, nil, name)
	}
	d, err := time.Parse("2006-01-02", v)
	if d, err = inYears(d, err, name); err != nil {
		return d, err
	}
	if name == "to" {
		d = d.AddDate(0, 0, 1) // the day after the last
	}
	return metering.StartOfDay(d.Year(), d.Month(), d.Day(), loc), nil
}

// inYears refuses what could not be parsed, and times outside
// seatkeeper.FirstYear to LastYear, the years metering measures.
func inYears(t time.Time, err error, name string) (time.Time, error) {
	if err != nil || t.Year() < seatkeeper.FirstYear || t.Year() > seatkeeper.LastYear {
		return time.Time{}, &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid " + name,
			Fields: []seatkeeper.FieldError{{Field: name, Message: fmt.Sprintf("must be an RFC 3339 time or a date such as 2026-11-01 (in the account's time zone), of %d to %d", seatkeeper.FirstYear, seatkeeper.LastYear)}}}
	}
	return t, nil
}

// licenseUsage is the license usage report (SPEC §4.7, R17).
func (s *Server) licenseUsage(w http.ResponseWriter, r *http.Request) {
	account := r.PathValue("account")
	a, err := s.Store.Account(r.Context(), account)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	loc := seatkeeper.Location(a.TimeZone)
	q := r.URL.Query()
	var fields []seatkeeper.FieldError
	interval, ok := reportIntervals[q.Get("interval")]
	if !ok {
		if q.Has("interval") { // given, even empty: not one of the four
			fields = append(fields, seatkeeper.FieldError{Field: "interval", Message: "must be 1m, 15m, 1h or 1d"})
		}
		interval = time.Hour
	}
	license := q.Get("license")
	if license != "" && !validID(license) {
		fields = append(fields, seatkeeper.FieldError{Field: "license", Message: "must match [A-Za-z0-9._@:-]{1,128}"})
	}
	var from, to time.Time
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		v := q.Get(p.name)
		if v == "" {
			fields = append(fields, seatkeeper.FieldError{Field: p.name, Message: "required"})
			continue
		}
		t, err := reportTime(v, p.name, loc)
		if err != nil {
			fields = append(fields, err.(*seatkeeper.Error).Fields...)
			continue
		}
		*p.dst = t
	}
	if len(fields) == 0 {
		switch {
		case !to.After(from):
			fields = append(fields, seatkeeper.FieldError{Field: "to", Message: "must be after from"})
		case to.Sub(from)/interval > maxBuckets:
			fields = append(fields, seatkeeper.FieldError{Field: "interval", Message: "too many intervals for the period: use a longer interval or a shorter period"})
		}
	}
	if len(fields) > 0 {
		s.fail(w, r, &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid report request", Fields: fields})
		return
	}
	rows, err := s.Store.LicenseUsage(r.Context(), account, from, to, interval, license)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeTable(w, r, "license-usage", map[string]any{"items": rows},
		[]string{"interval_start", "license", "quantity", "allowance", "peak", "average", "sustained", "over_quantity", "sign_ins", "denied"},
		func(emit func(...string)) {
			for _, x := range rows {
				emit(x.IntervalStart.Format(time.RFC3339), x.License, strconv.Itoa(x.Quantity), strconv.Itoa(x.Allowance),
					strconv.Itoa(x.Peak), strconv.FormatFloat(x.Average, 'f', 3, 64), strconv.Itoa(x.Sustained), strconv.Itoa(x.OverQuantity),
					strconv.Itoa(x.SignIns), strconv.Itoa(x.Denied))
			}
		})
}
