package httpapi

import (
	"net/http"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

// IdempotencyKeyHeader makes a session creation safe to retry.
const IdempotencyKeyHeader = "Idempotency-Key"

type sessionBody struct {
	User string `json:"user"`
	Kind string `json:"kind"`
}

// startSession records a presence (SPEC §4.4): 201 with the session and
// the pool's in_use and cap, or 409 pool_exhausted. With an
// Idempotency-Key, a repeat gets the first answer.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b sessionBody
	if err := DecodeJSON(body, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	if !validID(b.User) {
		s.fail(w, r, &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid session",
			Fields: []seatkeeper.FieldError{{Field: "user", Message: "must match [A-Za-z0-9._@:-]{1,128}"}}})
		return
	}
	key := r.Header.Get(IdempotencyKeyHeader)
	if len(key) > 255 || !seatkeeper.PlainText(key) {
		s.fail(w, r, seatkeeper.Errorf(seatkeeper.EInvalid, "%s must be at most 255 characters of plain text", IdempotencyKeyHeader))
		return
	}
	hash := ""
	if key != "" {
		hash = sqlstore.RequestHash(b.User, b.Kind)
	}
	sess, replayed, err := s.Store.StartSession(r.Context(), actorOf(r), r.PathValue("account"), b.User, b.Kind, key, hash)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, http.StatusCreated, sess)
}

func (s *Server) heartbeat(w http.ResponseWriter, r *http.Request) {
	ids, err := pathIDs(r, "account", "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sess, err := s.Store.Heartbeat(r.Context(), ids[0], ids[1])
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sess)
}

// endSession signs a session out: 204, also when it had already ended
// (SPEC §4.4), so that a client signing out after its session timed out,
// or repeating a sign-out whose answer it lost, is not told of an error.
// Ending it again changes nothing: the ledger keeps its first end.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) {
	ids, err := pathIDs(r, "account", "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	err = s.Store.EndSession(r.Context(), actorOf(r), ids[0], ids[1])
	if err != nil && seatkeeper.ErrorCode(err) != seatkeeper.ESessionEnded {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) {
	user := r.URL.Query().Get("user")
	if user != "" && !validID(user) {
		s.fail(w, r, seatkeeper.Errorf(seatkeeper.EInvalid, "user must match [A-Za-z0-9._@:-]{1,128}"))
		return
	}
	list, err := s.Store.Sessions(r.Context(), r.PathValue("account"), user)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

// endUserSessions lets an administrator end a user's sessions (R6).
func (s *Server) endUserSessions(w http.ResponseWriter, r *http.Request) {
	ids, err := pathIDs(r, "account", "user")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	n, err := s.Store.EndUserSessions(r.Context(), actorOf(r), ids[0], ids[1])
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"ended": n})
}

func (s *Server) listPools(w http.ResponseWriter, r *http.Request) {
	pools, err := s.Store.Pools(r.Context(), r.PathValue("account"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": pools})
}

type importBody struct {
	Events []importEvent `json:"events"`
}

type importEvent struct {
	Type    string    `json:"type"`
	User    string    `json:"user"`
	License string    `json:"license"`
	Kind    string    `json:"kind"`
	Session string    `json:"session"`
	At      time.Time `json:"at"`
}

// importEvents is the operator's ledger import (SPEC §4.5).
func (s *Server) importEvents(w http.ResponseWriter, r *http.Request) {
	body, err := readBodyUpTo(w, r, MaxImportBody)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b importBody
	if err := DecodeJSON(body, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	events := make([]seatkeeper.UsageEvent, len(b.Events))
	for i, e := range b.Events {
		events[i] = seatkeeper.UsageEvent{Type: e.Type, User: e.User, License: e.License, Kind: e.Kind, Session: e.Session, At: e.At}
	}
	n, err := s.Store.ImportEvents(r.Context(), actorOf(r), r.PathValue("account"), events)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]int{"imported": n})
}
