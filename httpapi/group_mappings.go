package httpapi

import (
	"net/http"

	"github.com/seatkeeper/seatkeeper"
)

type groupMappingBody struct {
	Licenses []string `json:"licenses"`
	Roles    []string `json:"roles"`
}

func (s *Server) putGroupMapping(w http.ResponseWriter, r *http.Request) {
	ids, err := pathIDs(r, "account", "group")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b groupMappingBody
	if err := decodeBody(w, r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	m, isNew, err := s.Store.PutGroupMapping(r.Context(), actorOf(r), ids[0], seatkeeper.GroupMapping{Group: ids[1], Licenses: b.Licenses, Roles: b.Roles})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, created(isNew), m)
}

func (s *Server) getGroupMapping(w http.ResponseWriter, r *http.Request) {
	ids, err := pathIDs(r, "account", "group")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.Store.GroupMapping(r.Context(), ids[0], ids[1])
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) listGroupMappings(w http.ResponseWriter, r *http.Request) {
	ids, err := pathIDs(r, "account")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ms, err := s.Store.GroupMappings(r.Context(), ids[0])
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": ms})
}

func (s *Server) deleteGroupMapping(w http.ResponseWriter, r *http.Request) {
	ids, err := pathIDs(r, "account", "group")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Store.DeleteGroupMapping(r.Context(), actorOf(r), ids[0], ids[1]); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
