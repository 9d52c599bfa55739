package httpapi

import (
	"net/http"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/entitlement"
)

// Presence tells whether a user has a live presence (R5). Until pools are
// wired in, no user is signed in.
type Presence interface {
	SignedIn(account, user string) bool
}

func (s *Server) signedIn(account, user string) bool {
	return s.Presence != nil && s.Presence.SignedIn(account, user)
}

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
	ent, found, err := s.Decisions.User(r.Context(), account, user)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var d entitlement.Decision
	switch {
	case !found:
		d = entitlement.Decision{Code: entitlement.UserNotFound, Feature: feature, Permission: permission, Via: []string{}}
	default:
		signedIn := s.signedIn(account, user)
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
	ent, found, err := s.Decisions.User(r.Context(), account, user)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !found {
		s.fail(w, r, seatkeeper.Errorf(seatkeeper.ENotFound, "no user %q", user))
		return
	}
	writeJSON(w, http.StatusOK, ent.Access(s.signedIn(account, user)))
}
