// Package httpapi is the HTTP adapter: it decodes requests, calls the
// domain, and answers JSON or problem+json (RFC 9457). Every handler
// answers through the helpers in this file, so errors look the same
// everywhere and no internal detail reaches a client.
package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/seatkeeper/seatkeeper"
)

// statusOf maps error codes to HTTP statuses: the one table (SPEC §4.8).
var statusOf = map[string]int{
	seatkeeper.EInvalid:            http.StatusBadRequest,
	seatkeeper.EUnauthenticated:    http.StatusUnauthorized,
	seatkeeper.EForbidden:          http.StatusForbidden,
	seatkeeper.ENotFound:           http.StatusNotFound,
	seatkeeper.EConflict:           http.StatusConflict,
	seatkeeper.ESeatLimit:          http.StatusConflict,
	seatkeeper.EPoolExhausted:      http.StatusConflict,
	seatkeeper.ERequirementMissing: http.StatusUnprocessableEntity,
	seatkeeper.ENotForSale:         http.StatusUnprocessableEntity,
	seatkeeper.ERetired:            http.StatusUnprocessableEntity,
	seatkeeper.EMaxPerAccount:      http.StatusConflict,
	seatkeeper.EUserInactive:       http.StatusUnprocessableEntity,
	seatkeeper.EPeriodClosed:       http.StatusConflict,
	seatkeeper.ESessionEnded:       http.StatusNotFound,
	seatkeeper.EPrecondition:       http.StatusPreconditionFailed,
	seatkeeper.ETooLarge:           http.StatusRequestEntityTooLarge,
	seatkeeper.ERateLimited:        http.StatusTooManyRequests,
	seatkeeper.EMethodNotAllowed:   http.StatusMethodNotAllowed,
	seatkeeper.EInternal:           http.StatusInternalServerError,
}

// Problem is an RFC 9457 problem document with Seatkeeper's stable code.
type Problem struct {
	Type   string                  `json:"type"`
	Title  string                  `json:"title"`
	Status int                     `json:"status"`
	Detail string                  `json:"detail"`
	Code   string                  `json:"code"`
	Errors []seatkeeper.FieldError `json:"errors,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError answers err as problem+json. Errors that are not domain
// errors are logged with the request and answered as a bare 500.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := seatkeeper.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status, code = http.StatusInternalServerError, seatkeeper.EInternal
	}
	if code == seatkeeper.EInternal {
		log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	p := Problem{
		Type: "about:blank", Title: http.StatusText(status), Status: status,
		Detail: seatkeeper.ErrorMessage(err), Code: code,
	}
	var e *seatkeeper.Error
	if errors.As(err, &e) {
		p.Errors = e.Fields
	}
	var body any = p
	if e != nil && len(e.Extra) > 0 {
		doc := map[string]any{}
		for k, v := range e.Extra {
			doc[k] = v
		}
		raw, _ := json.Marshal(p)
		_ = json.Unmarshal(raw, &doc)
		body = doc
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body)
}
