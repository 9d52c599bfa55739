// Package seatkeeper holds the domain vocabulary shared by every package:
// the error type with its stable codes. Domain packages (catalog,
// entitlement, …) are pure; adapters (httpapi, the stores) live in their own
// folders; cmd/seatkeeper wires them together. See ARCHITECTURE.md.
package seatkeeper

import (
	"errors"
	"fmt"
)

// Error codes (SPEC §4.8). The HTTP layer maps each to one status in one
// table; anything that is not an *Error is an internal error.
const (
	EInvalid            = "invalid_request"
	EUnauthenticated    = "unauthenticated"
	EForbidden          = "forbidden"
	ENotFound           = "not_found"
	EConflict           = "conflict"
	ESeatLimit          = "seat_limit_reached"
	EPoolExhausted      = "pool_exhausted"
	ERequirementMissing = "requirement_missing"
	ENotForSale         = "license_not_for_sale"
	ERetired            = "license_retired"
	EMaxPerAccount      = "max_per_account_reached"
	EUserInactive       = "user_inactive"
	EPeriodClosed       = "period_closed"
	ESessionEnded       = "session_ended"
	EPrecondition       = "precondition_failed"
	ETooLarge           = "payload_too_large"
	ERateLimited        = "rate_limited"
	// EMethodNotAllowed is beyond SPEC §4.8's list: a path that exists,
	// asked with a method it does not take (RFC 9110 §15.5.6).
	EMethodNotAllowed = "method_not_allowed"
	EInternal         = "internal"
)

// FieldError names one invalid input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is a domain error: a stable code and a message meant for the caller.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	// Extra holds members added to the problem document, such as in_use
	// and cap with pool_exhausted.
	Extra map[string]any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, and
// EInternal otherwise; nil has no code.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EInternal
	}
}

// ErrorMessage returns the caller-facing message of err: the message of an
// *Error, and a fixed text for anything else, whose details are logged but
// never shown.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
