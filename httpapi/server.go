package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/billing"
	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/snapshot"
)

// Store is what the API needs of the store.
type Store interface {
	seatkeeper.AccountService
	seatkeeper.UserService
	seatkeeper.TokenService
	seatkeeper.PresenceService
	seatkeeper.ProvisioningService
	ImportEvents(ctx context.Context, by seatkeeper.Actor, account string, events []seatkeeper.UsageEvent) (int, error)
	LicenseUsage(ctx context.Context, account string, from, to time.Time, interval time.Duration, license string) ([]seatkeeper.LicenseUsageRow, error)
	MonthlyUsage(ctx context.Context, account, from, to string) ([]seatkeeper.MonthUsage, error)
	CloseMonth(ctx context.Context, by seatkeeper.Actor, account, month string) (seatkeeper.ClosedMonth, error)
	ClosedMonth(ctx context.Context, account, month string) (seatkeeper.ClosedMonth, error)
	Statements(ctx context.Context, account string, from, to time.Time) ([]billing.Statement, error)
	Advice(ctx context.Context, account, license string, months int) (billing.Advice, error)
	Ping(ctx context.Context) error
}

// Server holds what the handlers need. Set its fields, then serve Handler().
type Server struct {
	Catalogs  catalog.Set
	Store     Store
	Decisions *snapshot.Cache
	Logger    *slog.Logger
	// OperatorSecretHash, when set, is the hash of the operator secret
	// from SEATKEEPER_OPERATOR_TOKEN.
	OperatorSecretHash string
	Metrics            *Metrics
	// SAML, when set, serves single sign-on (SPEC §7); without it the
	// SAML routes answer not_found.
	SAML seatkeeper.SAMLService

	tokens tokenCache
	routes []route
}

// route is one registered endpoint: its pattern, who may call it, and the
// handler. The table is also what the OpenAPI test compares against.
type route struct {
	pattern string
	access  access
	handler http.HandlerFunc
}

// Handler returns the routes of the API wrapped in the common middleware:
// request id, panic safety net, metrics and logging.
func (s *Server) Handler() http.Handler {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Metrics == nil {
		s.Metrics = NewMetrics(nil)
	}
	s.routes = nil
	mux := http.NewServeMux()
	s.register(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allow := allowed(mux, r); allow != "" {
			w.Header().Set("Allow", allow)
			s.fail(w, r, seatkeeper.Errorf(seatkeeper.EMethodNotAllowed, "%s does not take %s; it takes %s", r.URL.Path, r.Method, allow))
			return
		}
		s.fail(w, r, seatkeeper.Errorf(seatkeeper.ENotFound, "no such resource: %s %s", r.Method, r.URL.Path))
	})
	return s.middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// ServeMux answers a path with "." or ".." segments or "//" with
		// a 307 to its cleaned form, which a client follows with the same
		// method: DELETE …/sessions/.. (a session id of "..") would then
		// delete the account. Such a path names no resource here.
		if p := r.URL.EscapedPath(); cleanPath(p) != p {
			s.fail(w, r, seatkeeper.Errorf(seatkeeper.ENotFound, "no such resource: %s %s (a path may not hold \".\" or \"..\" segments or \"//\")", r.Method, p))
			return
		}
		if r.URL.RawQuery != "" {
			if err := singleParams(r.URL.RawQuery); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		mux.ServeHTTP(w, r)
	}))
}

// singleParams refuses a query that is not well-formed, or that gives a
// parameter twice: handlers read one value of each, and a caller asking
// ?feature=a&feature=b must not be answered about a alone.
func singleParams(raw string) error {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return seatkeeper.Errorf(seatkeeper.EInvalid, "the query string is not well-formed: %v", err)
	}
	for k, vs := range q {
		if len(vs) > 1 {
			return &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "a query parameter is given more than once",
				Fields: []seatkeeper.FieldError{{Field: k, Message: "given more than once; give it once"}}}
		}
	}
	return nil
}

// allowed lists the methods that a route of mux takes at r's path, for
// the Allow header of a 405; none if no route has the path. The catch-all
// "/" matches every method, so ServeMux never answers 405 itself.
func allowed(mux *http.ServeMux, r *http.Request) string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if _, pattern := mux.Handler(&http.Request{Method: m, URL: r.URL, Host: r.Host}); pattern != "/" && pattern != "" {
			out = append(out, m)
		}
	}
	return strings.Join(out, ", ")
}

// cleanPath is p with its "." and ".." segments resolved and repeated
// slashes dropped, as ServeMux cleans a path (a trailing slash is kept).
func cleanPath(p string) string {
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	c := path.Clean(p)
	if p[len(p)-1] == '/' && c != "/" {
		c += "/"
	}
	return c
}

// Routes lists the registered "METHOD /path" patterns.
func (s *Server) Routes() []string {
	var out []string
	for _, r := range s.routes {
		out = append(out, r.pattern)
	}
	return out
}

func (s *Server) handle(mux *http.ServeMux, pattern string, a access, h http.HandlerFunc) {
	s.routes = append(s.routes, route{pattern: pattern, access: a, handler: h})
	mux.Handle(pattern, s.authorize(a, h))
}

func (s *Server) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.Metrics.Handler())
	mux.HandleFunc("GET /v1/openapi.json", s.openapi)
	s.routes = append(s.routes,
		route{pattern: "GET /healthz"}, route{pattern: "GET /readyz"},
		route{pattern: "GET /metrics"}, route{pattern: "GET /v1/openapi.json"})
	// SAML's browser endpoints are public: the identity provider's
	// signature is the credential.
	mux.HandleFunc("GET /saml/{account}/metadata", s.samlMetadata)
	mux.HandleFunc("GET /saml/{account}/login", s.samlLogin)
	mux.HandleFunc("POST /saml/{account}/acs", s.samlACS)
	s.routes = append(s.routes, route{pattern: "GET /saml/{account}/metadata"}, route{pattern: "GET /saml/{account}/login"},
		route{pattern: "POST /saml/{account}/acs"})

	s.handle(mux, "GET /v1/catalogs", anyToken, s.listCatalogs)
	s.handle(mux, "GET /v1/catalogs/{catalog}", anyToken, s.getCatalog)

	s.handle(mux, "PUT /v1/accounts/{account}", operatorOnly, s.putAccount)
	s.handle(mux, "GET /v1/accounts/{account}", reader, s.getAccount)
	s.handle(mux, "DELETE /v1/accounts/{account}", operatorOnly, s.deleteAccount)

	s.handle(mux, "PUT /v1/accounts/{account}/subscriptions/{license}", operatorOnly, s.putSubscription)
	s.handle(mux, "GET /v1/accounts/{account}/subscriptions", viewing("account.billing.view"), s.listSubscriptions)
	s.handle(mux, "DELETE /v1/accounts/{account}/subscriptions/{license}", operatorOnly, s.deleteSubscription)

	s.handle(mux, "POST /v1/accounts/{account}/tokens", adminOnly, s.createToken)
	s.handle(mux, "DELETE /v1/accounts/{account}/tokens/{id}", adminOnly, s.revokeToken)

	s.handle(mux, "PUT /v1/accounts/{account}/users/{user}", permitted("account.users.manage"), s.putUser)
	s.handle(mux, "GET /v1/accounts/{account}/users/{user}", reader, s.getUser)
	s.handle(mux, "DELETE /v1/accounts/{account}/users/{user}", permitted("account.users.manage"), s.deleteUser)
	s.handle(mux, "GET /v1/accounts/{account}/users", reader, s.listUsers)
	s.handle(mux, "PUT /v1/accounts/{account}/users/{user}/licenses/{license}", permitted(assignLicenses), s.assignLicense)
	s.handle(mux, "DELETE /v1/accounts/{account}/users/{user}/licenses/{license}", permitted(assignLicenses), s.unassignLicense)
	s.handle(mux, "PUT /v1/accounts/{account}/users/{user}/roles/{service}/{role}", permittedOrService("account.roles.manage", "users.manage"), s.assignRole)
	s.handle(mux, "DELETE /v1/accounts/{account}/users/{user}/roles/{service}/{role}", permittedOrService("account.roles.manage", "users.manage"), s.unassignRole)

	s.handle(mux, "PUT /v1/accounts/{account}/roles/{service}/{role}", permittedOrService("account.roles.manage", "roles.manage"), s.putRole)
	s.handle(mux, "GET /v1/accounts/{account}/roles", reader, s.listRoles)
	s.handle(mux, "DELETE /v1/accounts/{account}/roles/{service}/{role}", permittedOrService("account.roles.manage", "roles.manage"), s.deleteRole)

	s.handle(mux, "GET /v1/accounts/{account}/licenses", reader, s.licenseSummary)

	s.handle(mux, "GET /v1/accounts/{account}/users/{user}/check", reader, s.check)
	s.handle(mux, "GET /v1/accounts/{account}/users/{user}/access", reader, s.access)

	s.handle(mux, "PUT /v1/accounts/{account}/saml", adminOnly, s.putSAML)
	s.handle(mux, "GET /v1/accounts/{account}/saml", reader, s.getSAML)

	s.handle(mux, "GET /v1/accounts/{account}/settings", reader, s.getSettings)
	s.handle(mux, "PATCH /v1/accounts/{account}/settings", permitted("account.settings.edit"), s.patchSettings)

	s.handle(mux, "GET /v1/accounts/{account}/audit", viewing("account.audit.view"), s.audit) // a report: readers may read it

	s.handle(mux, "POST /v1/accounts/{account}/sessions", presenceOnly, s.startSession)
	s.handle(mux, "POST /v1/accounts/{account}/sessions/{id}/heartbeat", presenceOnly, s.heartbeat)
	s.handle(mux, "DELETE /v1/accounts/{account}/sessions/{id}", presenceOnly, s.endSession)
	s.handle(mux, "GET /v1/accounts/{account}/sessions", reader, s.listSessions)
	// R6: admins, and supervisors of the services (qm, wfo) may end sessions.
	s.handle(mux, "DELETE /v1/accounts/{account}/users/{user}/sessions", permitted("account.users.manage", "qm.sessions.end", "wfo.sessions.end"), s.endUserSessions)
	s.handle(mux, "GET /v1/accounts/{account}/pools", reader, s.listPools)
	s.handle(mux, "POST /v1/accounts/{account}/usage/events", operatorOnly, s.importEvents)
	s.handle(mux, "GET /v1/accounts/{account}/reports/license-usage", viewing("account.reports.view"), s.licenseUsage)
	s.handle(mux, "GET /v1/accounts/{account}/billing/usage", viewing("account.billing.view"), s.monthlyUsage)
	s.handle(mux, "POST /v1/accounts/{account}/billing/close", operatorOnly, s.closeMonth)
	s.handle(mux, "GET /v1/accounts/{account}/billing/close", viewing("account.billing.view"), s.closedMonth)
	s.handle(mux, "GET /v1/accounts/{account}/billing/statements", viewing("account.billing.view"), s.statements)
	s.handle(mux, "GET /v1/accounts/{account}/billing/advice", viewing("account.billing.view"), s.advice)
	s.handle(mux, "GET /v1/accounts/{account}/billing/statements/{statement}", viewing("account.billing.view"), s.statement)

	s.handle(mux, "PUT /v1/accounts/{account}/group-mappings/{group}", adminOnly, s.putGroupMapping)
	s.handle(mux, "GET /v1/accounts/{account}/group-mappings", adminOnly, s.listGroupMappings)
	s.handle(mux, "GET /v1/accounts/{account}/group-mappings/{group}", adminOnly, s.getGroupMapping)
	s.handle(mux, "DELETE /v1/accounts/{account}/group-mappings/{group}", adminOnly, s.deleteGroupMapping)
	s.registerSCIM(mux)
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPIDocument)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only while the store answers.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.Store != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.Store.Ping(ctx); err != nil {
			s.Logger.Warn("not ready", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// fail answers err as problem+json (see response.go), or as a SCIM error
// document under /scim/ (see scim.go).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if isSCIM(r) {
		s.writeSCIMError(w, r, err)
		return
	}
	writeError(w, r, s.Logger, err)
}
