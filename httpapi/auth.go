package httpapi

import (
	"cmp"
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/entitlement"
)

// access says who may call a route (SPEC §4).
type access struct {
	operator   bool     // operator tokens only
	presence   bool     // operator, admin and app tokens: not readers
	admin      bool     // operator, or an admin token of the account
	permission string   // …or an app token whose acting user's roles grant this
	alsoBy     []string // …or any of these
	// …or, for a service's roles (the path's {service}, not account), the
	// service's own permission "<service>.<byService>": account roles and
	// service roles are independent (R11), so a QM admin manages QM roles.
	byService  string
	anyAccount bool // any valid token, the route names no account
	// view: a read any token of the account may do, but an app token
	// acting for a user only with this permission of theirs: acting, it
	// does what the user's roles permit, and nothing more (SPEC §4).
	view string
}

var (
	anyToken     = access{anyAccount: true}
	operatorOnly = access{operator: true}
	adminOnly    = access{admin: true}
	reader       = access{} // any token of the account: reads, reports and decisions
	presenceOnly = access{presence: true}
)

// viewing is a read that an app token acting for a user may do only with
// the user's permission perm.
func viewing(perm string) access { return access{view: perm} }

func permitted(perm string, orAny ...string) access {
	return access{admin: true, permission: perm, alsoBy: orAny}
}

// permittedOrService is permitted(perm), or the path's service's own
// permission <service>.<byService> for a service's roles.
func permittedOrService(perm, byService string) access {
	return access{admin: true, permission: perm, byService: byService}
}

// ActingUserHeader names the user an app token acts for.
const ActingUserHeader = "Seatkeeper-Acting-User"

type actorKey struct{}

func actorOf(r *http.Request) seatkeeper.Actor {
	a, _ := r.Context().Value(actorKey{}).(seatkeeper.Actor)
	return a
}

// tokenCache keeps recently seen tokens so that a decision needs no
// database read. Revocations reach it through InvalidateTokens; entries
// also expire, as a safety net.
type tokenCache struct {
	mu sync.Mutex
	m  map[string]cachedToken
}

type cachedToken struct {
	tok seatkeeper.Token
	at  time.Time
}

const tokenTTL = 30 * time.Second

// InvalidateTokens drops the cached tokens of an account, or of every
// account when account is "". The store calls it on every account change.
func (s *Server) InvalidateTokens(account string) {
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	for h, c := range s.tokens.m {
		if account == "" || c.tok.Account == account {
			delete(s.tokens.m, h)
		}
	}
}

// authenticate returns the token of the request's bearer secret.
func (s *Server) authenticate(r *http.Request) (seatkeeper.Token, error) {
	secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || secret == "" {
		return seatkeeper.Token{}, seatkeeper.Errorf(seatkeeper.EUnauthenticated, "send Authorization: Bearer <token>")
	}
	hash := seatkeeper.HashSecret(strings.TrimSpace(secret))
	if s.OperatorSecretHash != "" && subtle.ConstantTimeCompare([]byte(hash), []byte(s.OperatorSecretHash)) == 1 {
		return seatkeeper.Token{ID: "env", Kind: seatkeeper.TokenOperator, Name: "SEATKEEPER_OPERATOR_TOKEN"}, nil
	}
	s.tokens.mu.Lock()
	c, ok := s.tokens.m[hash]
	s.tokens.mu.Unlock()
	if ok && time.Since(c.at) < tokenTTL {
		return c.tok, nil
	}
	tok, err := s.Store.TokenByHash(r.Context(), hash)
	if seatkeeper.ErrorCode(err) == seatkeeper.ENotFound {
		return tok, seatkeeper.Errorf(seatkeeper.EUnauthenticated, "the token is unknown or revoked")
	}
	if err != nil {
		return tok, err
	}
	s.tokens.mu.Lock()
	if s.tokens.m == nil {
		s.tokens.m = map[string]cachedToken{}
	}
	s.tokens.m[hash] = cachedToken{tok: tok, at: time.Now()}
	s.tokens.mu.Unlock()
	return tok, nil
}

// authorize wraps a handler with authentication, tenant isolation and the
// route's access rule. A token of another account gets 404, as if the
// account did not exist; nothing is written.
func (s *Server) authorize(a access, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := s.authenticate(r)
		if err != nil {
			if seatkeeper.ErrorCode(err) == seatkeeper.EUnauthenticated {
				// RFC 6750 §3: a 401 says how to authenticate.
				w.Header().Set("WWW-Authenticate", `Bearer realm="seatkeeper"`)
			}
			s.fail(w, r, err)
			return
		}
		account := r.PathValue("account")
		if account != "" && !validID(account) {
			s.fail(w, r, seatkeeper.Errorf(seatkeeper.EInvalid, "account id must match [A-Za-z0-9._@:-]{1,128}"))
			return
		}
		acting := r.Header.Get(ActingUserHeader)
		if err := s.allowed(r, a, tok, account, acting); err != nil {
			s.fail(w, r, err)
			return
		}
		// The audit trail names an acting user only where it was checked:
		// an app token's user, whose permission allowed the change.
		actor := seatkeeper.Actor{TokenID: tok.ID, TokenKind: tok.Kind}
		if tok.Kind == seatkeeper.TokenApp && a.permission != "" {
			actor.ActingUser = acting
		}
		next(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, actor)))
	})
}

func (s *Server) allowed(r *http.Request, a access, tok seatkeeper.Token, account, acting string) error {
	if tok.Kind == seatkeeper.TokenOperator {
		return nil
	}
	if account != "" && tok.Account != account {
		return seatkeeper.Errorf(seatkeeper.ENotFound, "no account %q", account)
	}
	switch {
	case a.anyAccount:
		return nil
	case a.operator:
		return seatkeeper.Errorf(seatkeeper.EForbidden, "only operator tokens may do this")
	case a.presence:
		if tok.Kind == seatkeeper.TokenReader {
			return seatkeeper.Errorf(seatkeeper.EForbidden, "reader tokens only read; presence needs an app or admin token")
		}
		return nil
	case tok.Kind == seatkeeper.TokenApp && len(r.Header.Values(ActingUserHeader)) > 1:
		return seatkeeper.Errorf(seatkeeper.EInvalid, "send %s once", ActingUserHeader)
	case !a.admin && a.permission == "":
		// Reads: any token of the account, an app token on its own. Acting
		// for a user, an app token reads as that user may: a user who
		// exists and is active, with the read's permission if it names
		// one (view: below).
		if tok.Kind != seatkeeper.TokenApp || acting == "" {
			return nil
		}
		if a.view == "" {
			return s.actingActive(r.Context(), account, acting)
		}
	case tok.Kind == seatkeeper.TokenAdmin:
		return nil
	case tok.Kind != seatkeeper.TokenApp || (a.permission == "" && a.view == ""):
		return seatkeeper.Errorf(seatkeeper.EForbidden, "a %s token may not do this", tok.Kind)
	case acting == "":
		return seatkeeper.Errorf(seatkeeper.EForbidden, "an app token changes things only for a user: send %s", ActingUserHeader)
	}
	if !validID(acting) {
		return seatkeeper.Errorf(seatkeeper.EInvalid, "%s must match [A-Za-z0-9._@:-]{1,128}", ActingUserHeader)
	}
	permission, err := s.actingUser(r.Context(), account, acting)
	if err != nil {
		return err
	}
	// Refused, the answer names the permission that failed for want of a
	// presence, if one did: signing in would give it.
	why, whyCode := cmp.Or(a.permission, a.view), entitlement.Code("")
	perms := append([]string{why}, a.alsoBy...)
	if svc := r.PathValue("service"); a.byService != "" && svc != "" && svc != "account" {
		perms = append(perms, svc+"."+a.byService)
	}
	for _, p := range perms {
		d := permission(p)
		if d.Allowed {
			return nil
		}
		if whyCode == "" || d.Code == entitlement.NotSignedIn {
			why, whyCode = p, d.Code
		}
	}
	return seatkeeper.Errorf(seatkeeper.EForbidden, "acting user %s lacks %s (%s)", acting, why, whyCode)
}

// actingActive refuses an acting user who does not exist or is inactive:
// such a user may do nothing, read nothing.
func (s *Server) actingActive(ctx context.Context, account, acting string) error {
	if !validID(acting) {
		return seatkeeper.Errorf(seatkeeper.EInvalid, "%s must match [A-Za-z0-9._@:-]{1,128}", ActingUserHeader)
	}
	e, found, err := s.Decisions.User(ctx, account, acting)
	switch {
	case err != nil:
		return err
	case !found:
		return seatkeeper.Errorf(seatkeeper.EForbidden, "acting user %q does not exist", acting)
	case !e.Ent.Active():
		return seatkeeper.Errorf(seatkeeper.EForbidden, "acting user %q is inactive", acting)
	}
	return nil
}

// actingUser returns how an acting user's permissions are decided: as
// check decides them, a concurrent plan's needing a live presence (R4).
// An acting user who does not exist is forbidden.
func (s *Server) actingUser(ctx context.Context, account, acting string) (func(permission string) entitlement.Decision, error) {
	e, found, err := s.Decisions.User(ctx, account, acting)
	switch {
	case err != nil:
		return nil, err
	case !found:
		return nil, seatkeeper.Errorf(seatkeeper.EForbidden, "acting user %q does not exist", acting)
	}
	signedIn := e.SignedIn(time.Now())
	return func(p string) entitlement.Decision { return e.Ent.Permission(p, signedIn) }, nil
}
