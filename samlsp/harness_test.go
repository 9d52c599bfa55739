package samlsp_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"html"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlidp"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/server"
)

// idp is a real SAML identity provider (crewjam's samlidp) served over
// HTTP in-process.
type idp struct {
	t   testing.TB
	srv *samlidp.Server
	URL string
}

func keyPair(t testing.TB) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "test idp"},
		NotBefore: time.Now().Add(-24 * time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

func newIdP(t testing.TB) *idp {
	t.Helper()
	key, cert := keyPair(t)
	var handler http.Handler
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	u, _ := url.Parse(ts.URL)
	srv, err := samlidp.New(samlidp.Options{URL: *u, Key: key, Certificate: cert, Store: &samlidp.MemoryStore{},
		Logger: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	handler = srv
	return &idp{t: t, srv: srv, URL: ts.URL}
}

// metadata is the IdP's metadata XML.
func (p *idp) metadata() string {
	b, err := xml.Marshal(p.srv.IDP.Metadata())
	if err != nil {
		p.t.Fatal(err)
	}
	return string(b)
}

// call makes a request to the IdP's admin API and wants a 2xx answer.
func (p *idp) call(method, path string, body []byte) {
	p.t.Helper()
	req, _ := http.NewRequest(method, p.URL+path, bytes.NewReader(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		b, _ := io.ReadAll(res.Body)
		p.t.Fatalf("IdP %s %s: %d %s", method, path, res.StatusCode, b)
	}
}

// addSP registers a service provider (by its metadata) and an
// IdP-initiated shortcut to it named name.
func (p *idp) addSP(name string, spMetadata []byte) {
	p.t.Helper()
	p.call("PUT", "/services/"+name, spMetadata)
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(spMetadata, &ed); err != nil {
		p.t.Fatal(err)
	}
	sc, _ := json.Marshal(map[string]any{"name": name, "service_provider": ed.EntityID, "url_suffix_as_relay_state": true})
	p.call("PUT", "/shortcuts/"+name, sc)
}

// putUser creates or replaces an IdP user with password "pw".
func (p *idp) putUser(name, email, cn string, groups ...string) {
	p.t.Helper()
	b, _ := json.Marshal(map[string]any{"name": name, "password": "pw", "email": email, "common_name": cn, "groups": groups})
	p.call("PUT", "/users/"+name, b)
}

var (
	samlResponseField = regexp.MustCompile(`name="SAMLResponse" value="([^"]*)"`)
	relayStateField   = regexp.MustCompile(`name="RelayState" value="([^"]*)"`)
)

// signIn signs a user in at the IdP and follows the IdP-initiated
// shortcut; it returns the form the browser would post: the base64
// SAMLResponse and the RelayState.
func (p *idp) signIn(user, shortcut, relay string) samlForm {
	p.t.Helper()
	path := "/login/" + shortcut
	if relay != "" {
		path += "/" + relay
	}
	return p.browse(user, p.URL+path)
}

// browse signs a user in at the IdP, then has their browser (following
// redirects) get start: an IdP-initiated shortcut, or a service
// provider's login URL that leads to the IdP. It returns the form the IdP
// answers with.
func (p *idp) browse(user, start string) samlForm {
	p.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res, err := c.PostForm(p.URL+"/login", url.Values{"user": {user}, "password": {"pw"}})
	if err != nil {
		p.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		p.t.Fatalf("IdP login of %s: %d", user, res.StatusCode)
	}
	res, err = c.Get(start)
	if err != nil {
		p.t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := samlResponseField.FindSubmatch(body)
	if m == nil {
		p.t.Fatalf("login of %s from %s: no SAMLResponse in %d %s", user, start, res.StatusCode, body)
	}
	rs := ""
	if r := relayStateField.FindSubmatch(body); r != nil {
		rs = html.UnescapeString(string(r[1]))
	}
	return samlForm{Response: html.UnescapeString(string(m[1])), RelayState: rs}
}

// samlForm is what a browser posts to an ACS.
type samlForm struct{ Response, RelayState string }

// craft makes a response for sp directly with the IdP's own code, for
// the cases a well-behaved IdP never sends; change alters the request
// (and so the assertion) before it is signed. The assertion is not
// encrypted, so that tests can see and alter it; alter, if given,
// changes the assertion itself before it is signed.
func (p *idp) craft(sp *saml.EntityDescriptor, nameID string, groups []string, change func(*saml.IdpAuthnRequest), alter ...func(*saml.Assertion)) []byte {
	p.t.Helper()
	md := *sp
	d := md.SPSSODescriptors[0]
	d.KeyDescriptors = nil // no encryption certificate: a plain assertion
	d.AssertionConsumerServices = slices.Clone(d.AssertionConsumerServices)
	md.SPSSODescriptors = []saml.SPSSODescriptor{d}
	idpCopy := p.srv.IDP
	req := &saml.IdpAuthnRequest{IDP: &idpCopy, HTTPRequest: httptest.NewRequest("POST", "/sso", nil), Now: saml.TimeNow(),
		ServiceProviderMetadata: &md, SPSSODescriptor: &md.SPSSODescriptors[0], ACSEndpoint: &md.SPSSODescriptors[0].AssertionConsumerServices[0]}
	if change != nil {
		change(req)
	}
	session := &saml.Session{ID: "s", NameID: nameID, UserEmail: nameID, Groups: groups, CreateTime: req.Now, ExpireTime: req.Now.Add(time.Hour)}
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, session); err != nil {
		p.t.Fatal(err)
	}
	for _, f := range alter {
		f(req.Assertion)
	}
	if err := req.MakeResponse(); err != nil {
		p.t.Fatal(err)
	}
	doc := etree.NewDocument()
	doc.SetRoot(req.ResponseEl)
	b, err := doc.WriteToBytes()
	if err != nil {
		p.t.Fatal(err)
	}
	return b
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// env is a Seatkeeper server (server.Open: the store, the API and the
// SAML provider, wired as `seatkeeper serve` wires them) over HTTP.
type env struct {
	t        testing.TB
	URL      string
	Server   *server.Server
	Operator string
}

func newEnv(t testing.TB, dsn, dataDir, publicURL string) *env {
	t.Helper()
	srv, err := server.Open(context.Background(), server.Config{DSN: dsn, DataDir: dataDir, PublicURL: publicURL,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	_, secret, err := srv.Store.CreateToken(context.Background(), seatkeeper.Actor{}, "", seatkeeper.TokenOperator, "test")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &env{t: t, URL: ts.URL, Server: srv, Operator: secret}
}

// answer is an HTTP answer.
type answer struct {
	Status int
	Header http.Header
	Body   []byte
}

func (a answer) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(a.Body, v); err != nil {
		t.Fatalf("decoding %s: %v", a.Body, err)
	}
}

// problem decodes a problem+json answer.
func (a answer) problem(t testing.TB) (code string, fields []string) {
	t.Helper()
	if ct := a.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json: %s", ct, a.Body)
	}
	var p struct {
		Code   string `json:"code"`
		Errors []struct {
			Field string `json:"field"`
		} `json:"errors"`
	}
	a.JSON(t, &p)
	for _, f := range p.Errors {
		fields = append(fields, f.Field)
	}
	return p.Code, fields
}

func (e *env) do(token, method, path string, body any) answer {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return send(e.t, req)
}

func send(t testing.TB, req *http.Request) answer {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{Status: res.StatusCode, Header: res.Header, Body: b}
}

func (e *env) must(status int, method, path string, body any) answer {
	e.t.Helper()
	a := e.do(e.Operator, method, path, body)
	if a.Status != status {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, a.Status, status, a.Body)
	}
	return a
}

// post posts a SAMLResponse (and RelayState) to an account's ACS.
func (e *env) post(account string, f samlForm) answer {
	e.t.Helper()
	form := url.Values{"SAMLResponse": {f.Response}}
	if f.RelayState != "" {
		form.Set("RelayState", f.RelayState)
	}
	req, _ := http.NewRequest("POST", e.URL+"/saml/"+account+"/acs", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return send(e.t, req)
}

// spMetadata fetches an account's SP metadata.
func (e *env) spMetadata(account string) ([]byte, *saml.EntityDescriptor) {
	e.t.Helper()
	a := e.do("", "GET", "/saml/"+account+"/metadata", nil)
	if a.Status != 200 {
		e.t.Fatalf("GET /saml/%s/metadata: %d %s", account, a.Status, a.Body)
	}
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(a.Body, &ed); err != nil {
		e.t.Fatal(err)
	}
	return a.Body, &ed
}

// user reads a user; ok is false on 404.
func (e *env) user(account, id string) (u seatkeeper.User, ok bool) {
	e.t.Helper()
	a := e.do(e.Operator, "GET", "/v1/accounts/"+account+"/users/"+id, nil)
	if a.Status == 404 {
		return u, false
	}
	if a.Status != 200 {
		e.t.Fatalf("GET user %s: %d %s", id, a.Status, a.Body)
	}
	a.JSON(e.t, &u)
	return u, true
}

// userCount counts an account's users.
func (e *env) userCount(account string) int {
	e.t.Helper()
	var list struct {
		Items []seatkeeper.User `json:"items"`
	}
	e.must(200, "GET", "/v1/accounts/"+account+"/users", nil).JSON(e.t, &list)
	return len(list.Items)
}

// holds lists a user's licenses and roles as "license/source" and
// "service:role/source".
func holds(u seatkeeper.User) map[string]bool {
	out := map[string]bool{}
	for _, l := range u.Licenses {
		out[l.License+"/"+l.Source] = true
	}
	for _, r := range u.Roles {
		out[r.Service+":"+r.Role+"/"+r.Source] = true
	}
	return out
}
