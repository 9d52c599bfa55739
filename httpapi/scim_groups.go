package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/scim"
)

// groupResource renders a group; members are users, by id.
func (a scimAccount) groupResource(g seatkeeper.Group) scim.Resource {
	members := []any{}
	for _, m := range g.Members {
		members = append(members, map[string]any{"value": m, "$ref": a.base + "/Users/" + m, "type": "User"})
	}
	res := scim.Resource{
		"schemas": []any{scim.GroupSchema}, "id": g.ID, "displayName": g.DisplayName, "members": members,
		"meta": map[string]any{
			"resourceType": "Group", "created": g.CreatedAt.UTC().Format(time.RFC3339Nano),
			"lastModified": g.UpdatedAt.UTC().Format(time.RFC3339Nano),
			"location":     a.base + "/Groups/" + g.ID, "version": g.ETag(),
		},
	}
	if g.ExternalID != "" {
		res["externalId"] = g.ExternalID
	}
	return res
}

// groupOf turns a normalized Group resource into a group.
func (a scimAccount) groupOf(res scim.Resource, id string) (seatkeeper.Group, error) {
	g := seatkeeper.Group{Account: a.id, ID: id, Members: []string{}}
	g.DisplayName, _ = res["displayName"].(string)
	g.ExternalID, _ = res["externalId"].(string)
	members, _ := res["members"].([]any)
	for _, m := range members {
		mm, _ := m.(map[string]any)
		v, _ := mm["value"].(string)
		if t, _ := mm["type"].(string); t != "" && t != "User" {
			return g, scim.Errorf(scim.InvalidValue, "members are users: type %q is not supported", t)
		}
		if !validID(v) {
			return g, scim.Errorf(scim.InvalidValue, "member %q is not a user id", v)
		}
		g.Members = append(g.Members, v)
	}
	return g, nil
}

func decodeGroup(w http.ResponseWriter, r *http.Request) (scim.Resource, error) {
	var in scim.Resource
	if err := readSCIMBody(w, r, &in); err != nil {
		return nil, err
	}
	return scim.Groups.Normalize(in)
}

func (s *Server) scimCreateGroup(w http.ResponseWriter, r *http.Request) {
	err := func() error {
		a, err := s.scimAccountOf(r)
		if err != nil {
			return err
		}
		res, err := decodeGroup(w, r)
		if err != nil {
			return err
		}
		g, err := a.groupOf(res, "")
		if err != nil {
			return err
		}
		g, _, err = s.Store.PutGroup(r.Context(), actorOf(r), g, "")
		if err != nil {
			return err
		}
		w.Header().Set("Location", a.base+"/Groups/"+g.ID)
		answerResource(w, http.StatusCreated, a.groupResource(g), g.ETag())
		return nil
	}()
	if err != nil {
		s.writeSCIMError(w, r, err)
	}
}

func (s *Server) scimGroup(r *http.Request) (scimAccount, seatkeeper.Group, error) {
	a, err := s.scimAccountOf(r)
	if err != nil {
		return a, seatkeeper.Group{}, err
	}
	id := r.PathValue("id")
	if !validID(id) {
		return a, seatkeeper.Group{}, &scim.Error{Status: http.StatusNotFound, Detail: "no group " + id}
	}
	g, err := s.Store.Group(r.Context(), a.id, id)
	return a, g, err
}

func (s *Server) scimGetGroup(w http.ResponseWriter, r *http.Request) {
	a, g, err := s.scimGroup(r)
	if err != nil {
		s.writeSCIMError(w, r, err)
		return
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagIn(inm, g.ETag()) {
		w.Header().Set("ETag", g.ETag())
		w.WriteHeader(http.StatusNotModified)
		return
	}
	q := r.URL.Query()
	answerResource(w, http.StatusOK, scim.Groups.Project(a.groupResource(g), q.Get("attributes"), q.Get("excludedAttributes")), g.ETag())
}

func (s *Server) scimReplaceGroup(w http.ResponseWriter, r *http.Request) {
	s.scimChangeGroup(w, r, func(cur scim.Resource) (scim.Resource, error) { return decodeGroup(w, r) })
}

func (s *Server) scimPatchGroup(w http.ResponseWriter, r *http.Request) {
	var req scim.PatchRequest
	if err := readSCIMBody(w, r, &req); err != nil {
		s.writeSCIMError(w, r, err)
		return
	}
	s.scimChangeGroup(w, r, func(cur scim.Resource) (scim.Resource, error) {
		if err := scim.Groups.Patch(cur, req.Operations); err != nil {
			return nil, err
		}
		return scim.Groups.Normalize(cur)
	})
}

// scimChangeGroup reads the group, lets change make its new state, and
// stores it on condition that it has not changed meanwhile.
func (s *Server) scimChangeGroup(w http.ResponseWriter, r *http.Request, change func(cur scim.Resource) (scim.Resource, error)) {
	err := func() error {
		a, cur, err := s.scimGroup(r)
		if err != nil {
			return err
		}
		if err := checkIfMatch(r, cur.ETag()); err != nil {
			return err
		}
		res, err := change(a.groupResource(cur))
		if err != nil {
			return err
		}
		g, err := a.groupOf(res, cur.ID)
		if err != nil {
			return err
		}
		g, _, err = s.Store.PutGroup(r.Context(), actorOf(r), g, cur.ETag())
		if err != nil {
			return err
		}
		answerResource(w, http.StatusOK, a.groupResource(g), g.ETag())
		return nil
	}()
	if err != nil {
		s.writeSCIMError(w, r, err)
	}
}

func (s *Server) scimDeleteGroup(w http.ResponseWriter, r *http.Request) {
	err := func() error {
		a, cur, err := s.scimGroup(r)
		if err != nil {
			return err
		}
		if err := checkIfMatch(r, cur.ETag()); err != nil {
			return err
		}
		return s.Store.DeleteGroup(r.Context(), actorOf(r), a.id, cur.ID, cur.ETag())
	}()
	if err != nil {
		s.writeSCIMError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) scimListGroups(w http.ResponseWriter, r *http.Request) {
	err := func() error {
		lq, err := parseListQuery(r)
		if err != nil {
			return err
		}
		a, err := s.scimAccountOf(r)
		if err != nil {
			return err
		}
		all, total, err := s.scimFindGroups(r.Context(), a, lq)
		if err != nil {
			return err
		}
		page := make([]scim.Resource, 0, len(all))
		for _, g := range all {
			page = append(page, scim.Groups.Project(a.groupResource(g), lq.attributes, lq.excluded))
		}
		writeSCIM(w, http.StatusOK, listResponse(lq, total, page))
		return nil
	}()
	if err != nil {
		s.writeSCIMError(w, r, err)
	}
}

// scimFindGroups is scimFindUsers for groups: displayName, externalId and
// id equalities go to the store.
func (s *Server) scimFindGroups(ctx context.Context, a scimAccount, lq listQuery) ([]seatkeeper.Group, int, error) {
	var m seatkeeper.GroupMatch
	exact := lq.filter == nil
	if lq.filter != nil {
		path, value, whole := scim.Equality(lq.filter)
		switch path {
		case "displayname":
			m.DisplayName, exact = value, whole
		case "externalid":
			m.ExternalID, exact = value, whole
		case "id":
			m.ID, exact = value, whole
		}
	}
	if exact {
		return s.Store.Groups(ctx, a.id, m, lq.start-1, lq.count)
	}
	all, _, err := s.Store.Groups(ctx, a.id, m, 0, -1)
	if err != nil {
		return nil, 0, err
	}
	matched := all[:0]
	for _, g := range all {
		if scim.Groups.Match(lq.filter, a.groupResource(g)) {
			matched = append(matched, g)
		}
	}
	return pageOf(matched, lq), len(matched), nil
}
