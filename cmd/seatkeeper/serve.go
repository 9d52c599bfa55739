package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/httpapi"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", "serve [--addr 127.0.0.1:8080] [--catalog FILE]…", stderr)
	addr := fs.String("addr", envOr("SEATKEEPER_ADDR", "127.0.0.1:8080"), "address to listen on (env SEATKEEPER_ADDR)")
	var catalogs listFlag
	fs.Var(&catalogs, "catalog", "a catalog file to serve besides the presets (repeatable)")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))

	var extra []*catalog.Catalog
	for _, file := range catalogs {
		c, err := loadCatalogFile(file)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		extra = append(extra, c)
	}
	api := &httpapi.Server{Catalogs: catalog.NewSet(extra...), Logger: log}

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
	log.Info("listening", "addr", ln.Addr().String(), "catalogs", api.Catalogs.Names())
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
