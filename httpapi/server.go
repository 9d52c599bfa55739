package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
)

// Server holds what the handlers need. Create it with its fields set and
// serve Handler().
type Server struct {
	Catalogs catalog.Set
	Logger   *slog.Logger
}

// Handler returns the routes of the API.
func (s *Server) Handler() http.Handler {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /v1/catalogs", s.listCatalogs)
	mux.HandleFunc("GET /v1/catalogs/{catalog}", s.getCatalog)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.Logger, seatkeeper.Errorf(seatkeeper.ENotFound, "no such resource: %s %s", r.Method, r.URL.Path))
	})
	return mux
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
