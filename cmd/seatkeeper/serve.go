package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/httpapi"
	"github.com/seatkeeper/seatkeeper/server"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

// storeFlags are the flags every command that opens the store takes.
type storeFlags struct {
	data, db  string
	catalogs  listFlag
	publicURL string // serve only
}

func addStoreFlags(fs flagSet, f *storeFlags) {
	fs.StringVar(&f.data, "data", envOr("SEATKEEPER_DATA", "./seatkeeper-data"), "data directory for the embedded SQLite store (env SEATKEEPER_DATA)")
	fs.StringVar(&f.db, "db", envOr("SEATKEEPER_DB", ""), "database: empty for SQLite in --data, or a postgres:// DSN (env SEATKEEPER_DB)")
	fs.Var(&f.catalogs, "catalog", "a catalog file to serve besides the presets (repeatable)")
}

// open loads the extra catalogs and opens the store with the API over it.
func (f *storeFlags) open(ctx context.Context, log *slog.Logger) (*server.Server, error) {
	var extra []*catalog.Catalog
	for _, file := range f.catalogs {
		c, err := loadCatalogFile(file)
		if err != nil {
			return nil, err
		}
		extra = append(extra, c)
	}
	return server.Open(ctx, server.Config{DSN: f.db, DataDir: f.data, Catalogs: catalog.NewSet(extra...), Logger: log, PublicURL: f.publicURL})
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", "serve [--addr 127.0.0.1:8080] [--data DIR] [--db DSN] [--catalog FILE]… [--public-url URL]", stderr)
	addr := fs.String("addr", envOr("SEATKEEPER_ADDR", "127.0.0.1:8080"), "address to listen on (env SEATKEEPER_ADDR)")
	var sf storeFlags
	addStoreFlags(fs, &sf)
	fs.StringVar(&sf.publicURL, "public-url", envOr("SEATKEEPER_PUBLIC_URL", ""), "this server's public URL, for SAML entity ids and ACS URLs (env SEATKEEPER_PUBLIC_URL; default: each request's host)")
	if code := parseFlags(fs.FlagSet, args); code >= 0 {
		return code
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))

	if path, ok := sqlstore.SQLitePath(sf.db, sf.data); ok {
		lock, err := lockStore(path)
		if err != nil {
			fmt.Fprintln(stderr, "seatkeeper:", err)
			return 1
		}
		defer lock.Close()
	}
	srvr, err := sf.open(ctx, log)
	if err != nil {
		fmt.Fprintln(stderr, "seatkeeper:", err)
		return 1
	}
	defer srvr.Close()
	store, api := srvr.Store, srvr.API
	if err := bootstrapOperator(ctx, store, api, sf.data, log); err != nil {
		log.Error("operator token", "err", err)
		return 1
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Error("cannot listen", "addr", *addr, "err", err)
		return 1
	}
	srv := &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("listening", "addr", ln.Addr().String(), "store", store.Dialect(), "catalogs", api.Catalogs.Names())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()

	select {
	case err := <-done:
		log.Error("server stopped", "err", err)
		return 1
	case <-ctx.Done():
	}
	// SIGTERM: stop accepting, let in-flight requests finish.
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("server stopped", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// bootstrapOperator makes sure an operator can get in (SPEC §4): the
// secret of SEATKEEPER_OPERATOR_TOKEN, or, on a store with no token yet, a
// new operator token written to <data>/operator-token (mode 0600). The
// secret itself is never logged.
func bootstrapOperator(ctx context.Context, store *sqlstore.Store, api *httpapi.Server, dataDir string, log *slog.Logger) error {
	if secret := os.Getenv("SEATKEEPER_OPERATOR_TOKEN"); secret != "" {
		api.OperatorSecretHash = seatkeeper.HashSecret(secret)
		log.Info("operator token from SEATKEEPER_OPERATOR_TOKEN")
		return nil
	}
	n, err := store.CountTokens(ctx)
	if err != nil || n > 0 {
		return err
	}
	_, secret, err := store.CreateToken(ctx, seatkeeper.Actor{TokenKind: "bootstrap"}, "", seatkeeper.TokenOperator, "bootstrap")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(dataDir, "operator-token")
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return err
	}
	log.Info("created the first operator token", "path", path)
	return nil
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("migrate", "migrate [--data DIR] [--db DSN]", stderr)
	var sf storeFlags
	addStoreFlags(fs, &sf)
	if code := parseFlags(fs.FlagSet, args); code >= 0 {
		return code
	}
	srvr, err := sf.open(ctx, slog.New(slog.NewJSONHandler(stderr, nil))) // opening applies the migrations
	if err != nil {
		fmt.Fprintln(stderr, "seatkeeper:", err)
		return 1
	}
	srvr.Close()
	fmt.Fprintf(stdout, "migrations applied (%s)\n", srvr.Store.Dialect())
	return 0
}
