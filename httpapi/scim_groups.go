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

func (s *Server) scimCreateGroup(w http.ResponseWriter, r *http.Request) error {
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
}

// scimGroup reads the group of the path, and checks If-Match.
func (s *Server) scimGroup(r *http.Request) (scimAccount, seatkeeper.Group, error) {
	return scimRead(s, r, "group", s.Store.Group, seatkeeper.Group.ETag)
}

func (s *Server) scimGetGroup(w http.ResponseWriter, r *http.Request) error {
	a, g, err := s.scimGroup(r)
	if err != nil {
		return err
	}
	answerRead(w, r, scim.Groups, a.groupResource(g), g.ETag())
	return nil
}

func (s *Server) scimReplaceGroup(w http.ResponseWriter, r *http.Request) error {
	if _, _, err := s.scimGroup(r); err != nil {
		return err // an unknown group before a bad body
	}
	res, err := decodeGroup(w, r)
	if err != nil {
		return err
	}
	return s.scimChangeGroup(w, r, func(scim.Resource) (scim.Resource, error) { return res, nil })
}

func (s *Server) scimPatchGroup(w http.ResponseWriter, r *http.Request) error {
	var req scim.PatchRequest
	if err := readSCIMBody(w, r, &req); err != nil {
		return err
	}
	return s.scimChangeGroup(w, r, func(cur scim.Resource) (scim.Resource, error) {
		if err := scim.Groups.Patch(cur, req.Operations); err != nil {
			return nil, err
		}
		return scim.Groups.Normalize(cur)
	})
}

// scimChangeGroup reads the group, lets change make its new state, and
// stores it on condition that it has not changed meanwhile.
func (s *Server) scimChangeGroup(w http.ResponseWriter, r *http.Request, change func(cur scim.Resource) (scim.Resource, error)) error {
	return untilUnchanged(func() error {
		a, cur, err := s.scimGroup(r)
		if err != nil {
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
	})
}

func (s *Server) scimDeleteGroup(w http.ResponseWriter, r *http.Request) error {
	return untilUnchanged(func() error {
		a, cur, err := s.scimGroup(r)
		if err != nil {
			return err
		}
		if err := s.Store.DeleteGroup(r.Context(), actorOf(r), a.id, cur.ID, cur.ETag()); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (s *Server) scimListGroups(w http.ResponseWriter, r *http.Request) error {
	return scimList(s, w, r, scim.Groups, scimAccount.groupResource,
		func(ctx context.Context, a scimAccount, path, value string, offset, limit int) ([]seatkeeper.Group, int, error) {
			var m seatkeeper.GroupMatch
			switch path {
			case "displayname":
				m.DisplayName = value
			case "externalid":
				m.ExternalID = value
			case "id":
				m.ID = value
			}
			return s.Store.Groups(ctx, a.id, m, offset, limit)
		})
}
