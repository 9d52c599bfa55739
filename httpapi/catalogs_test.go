package httpapi_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/httpapi"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	api := &httpapi.Server{Catalogs: catalog.NewSet(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ts := httptest.NewServer(api.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func get(t *testing.T, url string, into any) *http.Response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("GET %s: body is not JSON: %v", url, err)
	}
	return resp
}

func TestHealthAndReady(t *testing.T) {
	ts := newServer(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		var body map[string]string
		if resp := get(t, ts.URL+path, &body); resp.StatusCode != 200 || body["status"] == "" {
			t.Errorf("%s: %d %v", path, resp.StatusCode, body)
		}
	}
}

func TestListCatalogs(t *testing.T) {
	ts := newServer(t)
	var body struct {
		Items []struct {
			Name     string `json:"name"`
			Licenses int    `json:"licenses"`
		} `json:"items"`
	}
	get(t, ts.URL+"/v1/catalogs", &body)
	if got, want := len(body.Items), 2; got != want {
		t.Fatalf("items = %d, want %d", got, want)
	}
	if body.Items[0].Name != "contact-center" || body.Items[1].Name != "wfo" {
		t.Errorf("names = %+v", body.Items)
	}
	if got, want := body.Items[1].Licenses, 17; got != want {
		t.Errorf("wfo licenses = %d, want %d", got, want)
	}
}

func TestGetCatalog(t *testing.T) {
	ts := newServer(t)
	var body struct {
		Name     string `json:"name"`
		Licenses []struct {
			Key      string   `json:"key"`
			Kind     string   `json:"kind"`
			Sale     string   `json:"sale"`
			Features []string `json:"features"`
		} `json:"licenses"`
		Services []struct {
			Key   string `json:"key"`
			Roles []struct {
				Name     string   `json:"name"`
				Licenses []string `json:"licenses"`
			} `json:"roles"`
		} `json:"services"`
	}
	if resp := get(t, ts.URL+"/v1/catalogs/wfo", &body); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	lic := map[string]int{}
	for i, l := range body.Licenses {
		lic[l.Key] = i
	}
	if got := body.Licenses[lic["performance_coaching"]].Sale; got != "not_for_sale" {
		t.Errorf("performance_coaching sale = %q", got)
	}
	// qm includes cr: the qm license lists cr's features too (R16).
	qmFeatures := body.Licenses[lic["qm"]].Features
	found := false
	for _, f := range qmFeatures {
		found = found || f == "record_audio"
	}
	if !found {
		t.Errorf("qm features %v lack record_audio from cr", qmFeatures)
	}
	for _, s := range body.Services {
		if s.Key != "wfo" {
			continue
		}
		for _, r := range s.Roles {
			if r.Name == "agent" && (len(r.Licenses) != 1 || r.Licenses[0] != "qm") {
				t.Errorf("wfo agent links %v, want [qm] (R15)", r.Licenses)
			}
		}
	}
}

func TestNotFoundIsProblemJSON(t *testing.T) {
	ts := newServer(t)
	for _, path := range []string{"/v1/catalogs/nope", "/v2/whatever"} {
		var p httpapi.Problem
		resp := get(t, ts.URL+path, &p)
		if resp.StatusCode != 404 || p.Code != "not_found" || p.Status != 404 || p.Detail == "" {
			t.Errorf("%s: %d %+v", path, resp.StatusCode, p)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s: content type %q", path, ct)
		}
	}
}
