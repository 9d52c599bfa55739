package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/seatkeeper/seatkeeper"
)

// RequestIDHeader carries the request id, taken from the client when it
// sends a sane one, made up otherwise.
const RequestIDHeader = "X-Request-Id"

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

type requestIDKey struct{}

// RequestID returns the id of the request ctx belongs to.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// middleware gives every request an id, counts and times it by route,
// logs failures and slow requests, and turns a panic into a logged 500
// (a safety net: no input is meant to reach it).
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(RequestIDHeader)
		if id == "" || len(id) > 64 || !validID(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.Logger.Error("panic", "request_id", id, "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p))
				if sw.status == 0 {
					writeError(sw, r, s.Logger, seatkeeper.Errorf(seatkeeper.EInternal, "internal error"))
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			s.Metrics.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
			s.Metrics.latency.WithLabelValues(route).Observe(elapsed.Seconds())
			level := slog.LevelDebug
			if status >= 500 {
				level = slog.LevelError
			} else if status >= 400 || elapsed > time.Second {
				level = slog.LevelInfo
			}
			if s.Logger.Enabled(r.Context(), level) { // most requests are logged at no level on: build nothing for them
				s.Logger.Log(r.Context(), level, "request", "request_id", id, "method", r.Method, "route", route,
					"path", r.URL.Path, "status", status, "duration_ms", float64(elapsed.Microseconds())/1000)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

func validID(s string) bool { return seatkeeper.ValidID(s) }
