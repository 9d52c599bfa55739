// Package server wires a running Seatkeeper: the store, the in-memory
// decision snapshot kept fresh by the store's change notifications, and
// the HTTP API. `seatkeeper serve`, the benchmarks and end-to-end tests all
// start a server through it.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/httpapi"
	"github.com/seatkeeper/seatkeeper/samlsp"
	"github.com/seatkeeper/seatkeeper/snapshot"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

// Config says what to open.
type Config struct {
	DSN      string      // "" for SQLite in DataDir, or a postgres:// DSN
	DataDir  string      // for SQLite and the first operator token
	Catalogs catalog.Set // nil for the presets
	Logger   *slog.Logger
	// PublicURL is this server's public base URL, for SAML entity ids and
	// ACS URLs; "" uses each request's scheme and host.
	PublicURL string
}

// Server is a store with the API over it.
type Server struct {
	Store *sqlstore.Store
	API   *httpapi.Server

	stopReaper context.CancelFunc
	reaperDone chan struct{}
}

// ReapEvery is how often each server ends the presences whose time ran
// out (R6). They end at their expiry whenever this notices them; it only
// bounds how long their place stays counted for reads that do not look at
// the clock.
const ReapEvery = 250 * time.Millisecond

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
		Decisions: snapshot.New(st, func() time.Time { return st.Now() }),
		SAML:      samlsp.New(st, cfg.PublicURL),
	}
	st.OnChange(func(c sqlstore.Change) {
		api.Decisions.Invalidate(c.Account, c.User)
		if c.User == "" {
			api.InvalidateTokens(c.Account)
		}
	})
	srv := &Server{Store: st, API: api, reaperDone: make(chan struct{})}
	var reapCtx context.Context
	reapCtx, srv.stopReaper = context.WithCancel(context.Background())
	go srv.reap(reapCtx, cfg.Logger)
	return srv, nil
}

func (s *Server) reap(ctx context.Context, log *slog.Logger) {
	defer close(s.reaperDone)
	tick := time.NewTicker(ReapEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for {
			n, err := s.Store.Reap(ctx)
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("reaping expired sessions", "err", err)
				}
				break
			}
			if n < 1000 {
				break
			}
		}
	}
}

// Handler is the HTTP handler of the API.
func (s *Server) Handler() http.Handler { return s.API.Handler() }

// Close stops the reaper and closes the store.
func (s *Server) Close() error {
	s.stopReaper()
	<-s.reaperDone
	return s.Store.Close()
}
