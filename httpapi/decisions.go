package httpapi

import (
	"net/http"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/entitlement"
)

// check answers one decision (SPEC §4.3): a decision is always a 200.
func (s *Server) check(w http.ResponseWriter, r *http.Request) {
	account, user := r.PathValue("account"), r.PathValue("user")
	q := r.URL.Query()
	feature, permission := q.Get("feature"), q.Get("permission")
	if feature == "" && permission == "" {
		s.fail(w, r, seatkeeper.Errorf(seatkeeper.EInvalid, "ask about a feature (?feature=) or a permission (?permission=), or both"))
		return
	}
	if !validID(user) {
		s.fail(w, r, seatkeeper.Errorf(seatkeeper.EInvalid, "user id must match [A-Za-z0-9._@:-]{1,128}"))
		return
	}
	e, found, err := s.Decisions.User(r.Context(), account, user)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ent := e.Ent
	var d entitlement.Decision
	switch {
	case !found:
		d = entitlement.Decision{Code: entitlement.UserNotFound, Feature: feature, Permission: permission, Via: []string{}}
	default:
		signedIn := e.SignedIn(time.Now())
		if feature != "" {
			d = ent.Check(feature, signedIn)
		}
		if permission != "" && (feature == "" || d.Allowed) {
			p := ent.Permission(permission, signedIn)
			if feature != "" {
				p.Feature, p.Via = feature, d.Via
			}
			d = p
		} else if permission != "" {
			d.Permission = permission
		}
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) access(w http.ResponseWriter, r *http.Request) {
	ids, err := pathIDs(r, "account", "user")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	account, user := ids[0], ids[1]
	e, found, err := s.Decisions.User(r.Context(), account, user)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !found {
		s.fail(w, r, seatkeeper.Errorf(seatkeeper.ENotFound, "no user %q", user))
		return
	}
	writeJSON(w, http.StatusOK, e.Ent.Access(e.SignedIn(time.Now())))
}
