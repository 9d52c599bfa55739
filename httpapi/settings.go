package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/seatkeeper/seatkeeper"
)

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request) {
	st, err := s.Store.Settings(r.Context(), r.PathValue("account"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// patchSettings applies a JSON merge patch (R13: account.settings.edit).
func (s *Server) patchSettings(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err == nil {
		_, err = uniqueNames(body)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.Store.PatchSettings(r.Context(), actorOf(r), r.PathValue("account"), body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// timeRange reads from/to (RFC 3339); by default the last 30 days.
func timeRange(r *http.Request, loc *time.Location) (from, to time.Time, err error) {
	q := r.URL.Query()
	to = time.Now().Add(time.Second)
	from = to.AddDate(0, 0, -30)
	for name, dst := range map[string]*time.Time{"from": &from, "to": &to} {
		if v := q.Get(name); v != "" {
			// As the reports read them: a date is in the account's zone.
			if *dst, err = reportTime(v, name, loc); err != nil {
				return from, to, err
			}
		}
	}
	if !to.After(from) {
		return from, to, seatkeeper.Errorf(seatkeeper.EInvalid, "to must be after from")
	}
	return from, to, nil
}

func (s *Server) audit(w http.ResponseWriter, r *http.Request) {
	a, err := s.Store.Account(r.Context(), r.PathValue("account"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	from, to, err := timeRange(r, seatkeeper.Location(a.TimeZone))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	recs, err := s.Store.Audit(r.Context(), r.PathValue("account"), from, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeTable(w, r, "audit", map[string]any{"items": recs},
		[]string{"id", "at", "token_id", "token_kind", "acting_user", "action", "target", "detail"},
		func(emit func(...string)) {
			for _, a := range recs {
				emit(strconv.FormatInt(a.ID, 10), a.At.Format(time.RFC3339Nano), a.TokenID, a.TokenKind, a.ActingUser, a.Action, a.Target, a.Detail)
			}
		})
}
