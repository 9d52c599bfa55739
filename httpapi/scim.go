package httpapi

// SCIM 2.0 (SPEC §6, RFC 7643/7644) per account at /scim/v2/{account}/.
// The protocol (schemas, filters, PATCH, projection) is package scim; this
// file and scim_*.go map it to the store. SCIM answers with
// application/scim+json and SCIM error documents, also for the failures
// of authentication and access, which use the same tokens as the rest of
// the API: operator tokens, or admin tokens of the account.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/scim"
)

// scimPrefix is where SCIM lives: /scim/v2/{account}/…
const scimPrefix = "/scim/v2/"

func (s *Server) registerSCIM(mux *http.ServeMux) {
	base := scimPrefix + "{account}"
	s.handle(mux, "GET "+base+"/ServiceProviderConfig", adminOnly, s.scimDo(s.scimServiceProviderConfig))
	s.handle(mux, "GET "+base+"/ResourceTypes", adminOnly, s.scimDo(s.scimResourceTypes))
	s.handle(mux, "GET "+base+"/ResourceTypes/{id}", adminOnly, s.scimDo(s.scimResourceType))
	s.handle(mux, "GET "+base+"/Schemas", adminOnly, s.scimDo(s.scimSchemas))
	s.handle(mux, "GET "+base+"/Schemas/{id}", adminOnly, s.scimDo(s.scimSchema))

	s.handle(mux, "GET "+base+"/Users", adminOnly, s.scimDo(s.scimListUsers))
	s.handle(mux, "POST "+base+"/Users", adminOnly, s.scimDo(s.scimCreateUser))
	s.handle(mux, "GET "+base+"/Users/{id}", adminOnly, s.scimDo(s.scimGetUser))
	s.handle(mux, "PUT "+base+"/Users/{id}", adminOnly, s.scimDo(s.scimReplaceUser))
	s.handle(mux, "PATCH "+base+"/Users/{id}", adminOnly, s.scimDo(s.scimPatchUser))
	s.handle(mux, "DELETE "+base+"/Users/{id}", adminOnly, s.scimDo(s.scimDeleteUser))

	s.handle(mux, "GET "+base+"/Groups", adminOnly, s.scimDo(s.scimListGroups))
	s.handle(mux, "POST "+base+"/Groups", adminOnly, s.scimDo(s.scimCreateGroup))
	s.handle(mux, "GET "+base+"/Groups/{id}", adminOnly, s.scimDo(s.scimGetGroup))
	s.handle(mux, "PUT "+base+"/Groups/{id}", adminOnly, s.scimDo(s.scimReplaceGroup))
	s.handle(mux, "PATCH "+base+"/Groups/{id}", adminOnly, s.scimDo(s.scimPatchGroup))
	s.handle(mux, "DELETE "+base+"/Groups/{id}", adminOnly, s.scimDo(s.scimDeleteGroup))
}

// scimDo adapts a SCIM handler: its error is answered as a SCIM error.
func (s *Server) scimDo(h func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeSCIMError(w, r, err)
		}
	}
}

// scimList answers a list (RFC 7644 §3.4.2). find returns a page of the
// resources matching an equality (path "" for none) and their total; an
// equality on an indexed attribute goes to it, and the rest of the filter
// is evaluated here on what it returns.
func scimList[T any](s *Server, w http.ResponseWriter, r *http.Request, rt *scim.ResourceType,
	render func(scimAccount, T) scim.Resource,
	find func(ctx context.Context, a scimAccount, path, value string, offset, limit int) ([]T, int, error)) error {
	lq, err := parseListQuery(r)
	if err != nil {
		return err
	}
	a, err := s.scimAccountOf(r)
	if err != nil {
		return err
	}
	var path, value string
	exact := true
	if lq.filter != nil {
		if path, value, exact = scim.Equality(lq.filter); !indexed(rt, path) {
			path, value, exact = "", "", false
		}
	}
	var page []T
	total := 0
	if exact {
		page, total, err = find(r.Context(), a, path, value, lq.start-1, lq.count)
	} else {
		var all []T
		all, _, err = find(r.Context(), a, path, value, 0, -1)
		matched := all[:0]
		for _, x := range all {
			if rt.Match(lq.filter, render(a, x)) {
				matched = append(matched, x)
			}
		}
		page, total = pageOf(matched, lq), len(matched)
	}
	if err != nil {
		return err
	}
	out := make([]scim.Resource, 0, len(page))
	for _, x := range page {
		out = append(out, rt.Project(render(a, x), lq.attributes, lq.excluded))
	}
	writeSCIM(w, http.StatusOK, listResponse(lq, total, out))
	return nil
}

// scimRead reads the resource the path names with get, and checks the
// request's If-Match against its ETag.
func scimRead[T any](s *Server, r *http.Request, kind string, get func(ctx context.Context, account, id string) (T, error), etag func(T) string) (scimAccount, T, error) {
	var zero T
	a, err := s.scimAccountOf(r)
	if err != nil {
		return a, zero, err
	}
	id := r.PathValue("id")
	if !validID(id) {
		return a, zero, &scim.Error{Status: http.StatusNotFound, Detail: "not_found: no " + kind + " " + id}
	}
	v, err := get(r.Context(), a.id, id)
	if err == nil {
		err = checkIfMatch(r, etag(v))
	}
	return a, v, err
}

// indexed reports whether the store narrows a list by an equality on path.
func indexed(rt *scim.ResourceType, path string) bool {
	switch path {
	case "id", "externalid":
		return true
	case "username":
		return rt == scim.Users
	case "displayname":
		return rt == scim.Groups
	}
	return false
}

// answerRead answers a GET of one resource: 304 to an If-None-Match with
// its ETag, else the resource, projected.
func answerRead(w http.ResponseWriter, r *http.Request, rt *scim.ResourceType, res scim.Resource, etag string) {
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagIn(inm, etag) {
		w.Header().Set("ETag", etag)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	q := r.URL.Query()
	answerResource(w, http.StatusOK, rt.Project(res, q.Get("attributes"), q.Get("excludedAttributes")), etag)
}

// isSCIM reports whether the request is to the SCIM endpoints, which
// answer SCIM error documents instead of problem+json.
func isSCIM(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, scimPrefix) }

// writeSCIM answers a SCIM document.
func writeSCIM(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", scim.ContentType)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// scimErrorOf maps an error to a SCIM error: the status of the API's one
// table (statusOf), a scimType where RFC 7644 has one, and a detail that
// starts with Seatkeeper's code (seat_limit_reached: every seat of …).
func scimErrorOf(err error) *scim.Error {
	var se *scim.Error
	if errors.As(err, &se) {
		return se
	}
	code := seatkeeper.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok || code == seatkeeper.EInternal {
		return &scim.Error{Status: http.StatusInternalServerError, Detail: "internal error"}
	}
	msg := seatkeeper.ErrorMessage(err)
	var e *seatkeeper.Error
	if errors.As(err, &e) {
		for _, f := range e.Fields {
			msg += "; " + f.Field + ": " + f.Message
		}
	}
	out := &scim.Error{Status: status, Detail: code + ": " + msg}
	switch {
	case code == seatkeeper.EInvalid:
		out.ScimType = scim.InvalidValue
	case code == seatkeeper.EConflict && (strings.Contains(msg, "user_name") || strings.Contains(msg, "is taken")):
		out.ScimType = scim.Uniqueness
	}
	return out
}

// writeSCIMError answers err as a SCIM error document; what is not a
// domain error is logged and answered as a bare 500.
func (s *Server) writeSCIMError(w http.ResponseWriter, r *http.Request, err error) {
	e := scimErrorOf(err)
	if e.Status == http.StatusInternalServerError {
		s.Logger.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeSCIM(w, e.Status, e.Body())
}

// scimBase is the absolute URL of the account's SCIM endpoint, for
// meta.location.
func scimBase(r *http.Request, account string) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host + scimPrefix + account
}

// readSCIMBody reads a JSON object; anything else is invalidSyntax.
func readSCIMBody(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return scim.Errorf(scim.InvalidSyntax, "the body is not a JSON object of the expected shape: %s", describeJSONError(err))
	}
	if dec.More() {
		return scim.Errorf(scim.InvalidSyntax, "extra data after the JSON object")
	}
	if _, err := uniqueNames(body); err != nil {
		return scim.Errorf(scim.InvalidSyntax, "%s", seatkeeper.ErrorMessage(err))
	}
	return nil
}

// listQuery is what a list request asks for (RFC 7644 §3.4.2).
type listQuery struct {
	filter               filter.Expression
	start, count         int // start is 1-based
	attributes, excluded string
}

func parseListQuery(r *http.Request) (listQuery, error) {
	q := r.URL.Query()
	lq := listQuery{start: 1, count: 100, attributes: q.Get("attributes"), excluded: q.Get("excludedAttributes")}
	for name, dst := range map[string]*int{"startIndex": &lq.start, "count": &lq.count} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return lq, scim.Errorf(scim.InvalidValue, "%s must be an integer", name)
		}
		*dst = n
	}
	// RFC 7644 §3.4.2.4: a startIndex below 1 is 1, a negative count is 0.
	lq.start = max(lq.start, 1)
	lq.count = min(max(lq.count, 0), scim.MaxResults)
	if f := q.Get("filter"); f != "" {
		e, err := scim.ParseFilter(f)
		if err != nil {
			return lq, err
		}
		lq.filter = e
	}
	return lq, nil
}

// listResponse pages the matching resources.
func listResponse(lq listQuery, total int, page []scim.Resource) scim.ListResponse {
	if page == nil {
		page = []scim.Resource{}
	}
	return scim.ListResponse{Schemas: []string{scim.ListResponseSchema}, TotalResults: total, StartIndex: lq.start, ItemsPerPage: len(page), Resources: page}
}

// pageOf cuts the page out of everything that matched.
func pageOf[T any](all []T, lq listQuery) []T {
	from := min(lq.start-1, len(all))
	to := min(from+lq.count, len(all))
	return all[from:to]
}

// untilUnchanged runs a read, change and write of a resource again when the
// resource changed between the read and the write (the store's
// precondition_failed): the change is made to the resource as it is then.
// A client's own If-Match is checked by each read, so one that no longer
// holds is still answered 412; without it, concurrent changes (an identity
// provider's parallel PATCHes of one group) are each applied, not refused.
func untilUnchanged(attempt func() error) error {
	for i := 0; ; i++ {
		err := attempt()
		if seatkeeper.ErrorCode(err) != seatkeeper.EPrecondition || i == 50 {
			return err
		}
	}
}

// ifMatch returns the If-Match header ("" for none or "*").
func ifMatch(r *http.Request) string {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "*" {
		return ""
	}
	return v
}

// checkIfMatch answers 412 when the client's If-Match is not the current
// ETag.
func checkIfMatch(r *http.Request, etag string) error {
	if m := ifMatch(r); m != "" && !etagIn(m, etag) {
		return &scim.Error{Status: http.StatusPreconditionFailed, Detail: seatkeeper.EPrecondition + ": the resource has changed; its ETag is " + etag}
	}
	return nil
}

// etagIn reports whether an If-Match list names etag (weakly compared).
func etagIn(list, etag string) bool {
	for _, t := range strings.Split(list, ",") {
		if strings.TrimPrefix(strings.TrimSpace(t), "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

// answerResource writes a resource with its ETag header.
func answerResource(w http.ResponseWriter, status int, res scim.Resource, etag string) {
	w.Header().Set("ETag", etag)
	writeSCIM(w, status, res)
}

func (s *Server) scimServiceProviderConfig(w http.ResponseWriter, r *http.Request) error {
	writeSCIM(w, http.StatusOK, scim.ServiceProviderConfig("https://github.com/seatkeeper/seatkeeper#scim"))
	return nil
}

func (s *Server) scimResourceTypes(w http.ResponseWriter, r *http.Request) error {
	rts := scim.ResourceTypes()
	writeSCIM(w, http.StatusOK, listResponse(listQuery{start: 1}, len(rts), rts))
	return nil
}

func (s *Server) scimResourceType(w http.ResponseWriter, r *http.Request) error {
	for _, rt := range scim.ResourceTypes() {
		if rt["id"] == r.PathValue("id") {
			writeSCIM(w, http.StatusOK, rt)
			return nil
		}
	}
	return &scim.Error{Status: http.StatusNotFound, Detail: "not_found: no resource type " + r.PathValue("id")}
}

func (s *Server) scimSchemas(w http.ResponseWriter, r *http.Request) error {
	var out []scim.Resource
	for _, sc := range scim.Schemas() {
		out = append(out, scim.SchemaResource(sc))
	}
	writeSCIM(w, http.StatusOK, listResponse(listQuery{start: 1}, len(out), out))
	return nil
}

func (s *Server) scimSchema(w http.ResponseWriter, r *http.Request) error {
	for _, sc := range scim.Schemas() {
		if sc.ID == r.PathValue("id") {
			writeSCIM(w, http.StatusOK, scim.SchemaResource(sc))
			return nil
		}
	}
	return &scim.Error{Status: http.StatusNotFound, Detail: "not_found: no schema " + r.PathValue("id")}
}
