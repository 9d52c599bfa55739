package httpapi

import (
	"net/http"
	"net/url"

	"github.com/seatkeeper/seatkeeper"
)

// samlBody is PUT /v1/accounts/{account}/saml.
type samlBody struct {
	IDPMetadata   string                `json:"idp_metadata"`
	Rules         []seatkeeper.SAMLRule `json:"rules"`
	UserAttribute string                `json:"user_attribute"`
}

// samlService returns the SAML service, or not_found when this server
// has none.
func (s *Server) samlService() (seatkeeper.SAMLService, error) {
	if s.SAML == nil {
		return nil, seatkeeper.Errorf(seatkeeper.ENotFound, "SAML single sign-on is not enabled on this server")
	}
	return s.SAML, nil
}

// samlAccount is the account of a public SAML route, checked as the
// token routes check theirs, and the SAML service.
func (s *Server) samlAccount(r *http.Request) (seatkeeper.SAMLService, string, error) {
	ids, err := pathIDs(r, "account")
	if err != nil {
		return nil, "", err
	}
	svc, err := s.samlService()
	return svc, ids[0], err
}

func (s *Server) putSAML(w http.ResponseWriter, r *http.Request) {
	var b samlBody
	if err := decodeBody(w, r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	svc, err := s.samlService()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, isNew, err := svc.PutSAMLConfig(r.Context(), actorOf(r), seatkeeper.SAMLConfig{Account: r.PathValue("account"),
		IDPMetadata: b.IDPMetadata, Rules: b.Rules, UserAttribute: b.UserAttribute})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, created(isNew), c)
}

func (s *Server) getSAML(w http.ResponseWriter, r *http.Request) {
	svc, err := s.samlService()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := svc.SAMLConfig(r.Context(), r.PathValue("account"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// publicBase is this server's URL as the request shows it: what the
// service provider's entity id and ACS URL are made of when no public URL
// is configured.
func publicBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// samlMetadata serves the account's service-provider metadata. Public:
// identity providers fetch it without a token.
func (s *Server) samlMetadata(w http.ResponseWriter, r *http.Request) {
	svc, account, err := s.samlAccount(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	md, err := svc.Metadata(r.Context(), account, publicBase(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Write(md)
}

// samlLogin starts an SP-initiated login: a redirect to the identity
// provider. Public, like the ACS it leads back to.
func (s *Server) samlLogin(w http.ResponseWriter, r *http.Request) {
	svc, account, err := s.samlAccount(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	to, err := svc.LoginURL(r.Context(), account, publicBase(r), r.URL.Query().Get("RelayState"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// samlACS consumes a SAML response (HTTP-POST binding). Public: the
// browser posts it, and the response's signature is the credential. A
// success redirects to a safe RelayState (303), or answers the login.
func (s *Server) samlACS(w http.ResponseWriter, r *http.Request) {
	svc, account, err := s.samlAccount(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	form, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	login, err := svc.Login(r.Context(), account, publicBase(r), form)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if login.RelayState != "" {
		http.Redirect(w, r, login.RelayState, http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusOK, login)
}

// readForm reads an application/x-www-form-urlencoded body.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	body, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, seatkeeper.Errorf(seatkeeper.EInvalid, "the body is not a form (application/x-www-form-urlencoded): %v", err)
	}
	return form, nil
}
