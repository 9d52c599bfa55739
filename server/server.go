// Package server wires a running Seatkeeper: the store, the in-memory
// decision snapshot kept fresh by the store's change notifications, and
// the HTTP API. `seatkeeper serve`, the benchmarks and end-to-end tests all
// start a server through it.
package server

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/httpapi"
	"github.com/seatkeeper/seatkeeper/snapshot"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

// Config says what to open.
type Config struct {
	DSN      string      // "" for SQLite in DataDir, or a postgres:// DSN
	DataDir  string      // for SQLite and the first operator token
	Catalogs catalog.Set // nil for the presets
	Logger   *slog.Logger
}

// Server is a store with the API over it.
type Server struct {
	Store *sqlstore.Store
	API   *httpapi.Server
}

// Open opens the store (applying migrations) and builds the API.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Catalogs == nil {
		cfg.Catalogs = catalog.NewSet()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	st, err := sqlstore.Open(ctx, cfg.DSN, cfg.DataDir, cfg.Catalogs)
	if err != nil {
		return nil, err
	}
	api := &httpapi.Server{
		Catalogs: cfg.Catalogs, Store: st, Logger: cfg.Logger,
		Metrics:   httpapi.NewMetrics(st.SeatsInUse),
		Decisions: snapshot.New(st),
	}
	st.OnChange(func(c sqlstore.Change) {
		api.Decisions.Invalidate(c.Account, c.User)
		if c.User == "" {
			api.InvalidateTokens(c.Account)
		}
	})
	return &Server{Store: st, API: api}, nil
}

// Handler is the HTTP handler of the API.
func (s *Server) Handler() http.Handler { return s.API.Handler() }

// Close closes the store.
func (s *Server) Close() error { return s.Store.Close() }
