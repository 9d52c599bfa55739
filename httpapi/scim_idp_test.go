package httpapi_test

// The Okta and Entra ID (Azure AD) request/response vectors that ship in
// the github.com/elimity-com/scim module (internal/idp_test/testdata),
// replayed against our SCIM server. The module is required in go.mod by
// the blank import below, so that a clean clone finds it in the module
// cache after the usual download.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	_ "github.com/elimity-com/scim" // the vectors' module; see idpVectorsDir

	"github.com/seatkeeper/seatkeeper/scim"
)

// idpVector is one recorded exchange.
type idpVector struct {
	Request    json.RawMessage `json:"request"`
	Response   map[string]any  `json:"response"`
	Method     string          `json:"method"`
	Path       string          `json:"path"`
	StatusCode int             `json:"statusCode"`
}

// idpVectorsDir finds the vectors in the module cache, downloading the
// module if it is not there yet.
func idpVectorsDir(t *testing.T) string {
	t.Helper()
	const mod = "github.com/elimity-com/scim"
	dir := func() string {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod).Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	d := dir()
	if d == "" {
		if out, err := exec.Command("go", "mod", "download", mod).CombinedOutput(); err != nil {
			t.Fatalf("go mod download %s: %v: %s", mod, err, out)
		}
		d = dir()
	}
	d = filepath.Join(d, "internal", "idp_test", "testdata")
	if _, err := os.Stat(d); err != nil {
		t.Fatalf("the IdP vectors are not in the module cache: %v", err)
	}
	return d
}

// knownDifferences are the members of a vector's answer that we do not
// reproduce, and why.
var knownDifferences = map[string]string{
	// The vector answers "Test SCIMv20" to a replace with "Test SCIMv2":
	// an inconsistency of the recording; we answer what was asked.
	"okta/update_group_name.json displayName": "the recorded answer differs from its own request",
}

func TestSCIM_IdPVectors(t *testing.T) {
	dir := idpVectorsDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	if len(files) < 15 {
		t.Fatalf("found %d vectors in %s, want the Okta and Entra ID sets", len(files), dir)
	}
	sort.Strings(files)
	e := newEnv(t, "")
	for i, f := range files {
		name := filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			e := e.withT(t)
			var v idpVector
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &v); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			acct := fmt.Sprintf("idp%d", i)
			e.newAccount(acct, "contact-center")
			r := replay{e: e, base: "/scim/v2/" + acct, ids: map[string]string{}}
			r.seed(v)
			got := r.send(v)
			if got.Status != v.StatusCode {
				t.Fatalf("%s %s: status %d, want %d: %s", v.Method, v.Path, got.Status, v.StatusCode, got.Body)
			}
			if v.Response == nil {
				return
			}
			var answer map[string]any
			got.JSON(t, &answer)
			for _, diff := range r.compare("", v.Response, answer) {
				if _, ok := knownDifferences[name+" "+diff.path]; ok {
					continue
				}
				t.Errorf("%s: %s: recorded %v, ours %v", name, diff.path, diff.want, diff.got)
			}
		})
	}
}

// replay runs one vector against a fresh account: it first creates what
// the vector assumes exists, mapping the recorded ids to ours.
type replay struct {
	e    *env
	base string
	ids  map[string]string // recorded id -> ours
}

var idInPath = regexp.MustCompile(`^/(Users|Groups)/([^/?]+)$`)

// seed creates the resource a GET, PUT or PATCH names (from the recorded
// answer, or a minimal one), the users its members name, and the one a
// list answer shows.
func (r *replay) seed(v idpVector) {
	for _, m := range memberValues(v) {
		r.user(m, map[string]any{"userName": "member-" + m})
	}
	if m := idInPath.FindStringSubmatch(v.Path); m != nil {
		body := v.Response
		if body == nil {
			body = map[string]any{"displayName": "seeded", "userName": "seeded"}
		}
		if m[1] == "Users" {
			r.user(m[2], body)
		} else {
			r.group(m[2], body)
		}
	}
	if res, _ := v.Response["Resources"].([]any); len(res) == 1 && strings.HasPrefix(v.Path, "/") {
		body := res[0].(map[string]any)
		if strings.HasPrefix(v.Path, "/Users") {
			r.user(body["id"].(string), body)
		} else {
			r.group(body["id"].(string), body)
		}
	}
}

// memberValues lists the user ids a group vector names as members.
func memberValues(v idpVector) []string {
	var out []string
	for _, src := range []string{string(v.Request), fmt.Sprint(v.Response["members"])} {
		for _, m := range regexp.MustCompile(`"?value"?\s*(?::|eq)\s*\\?"([0-9a-f-]{16,})\\?"`).FindAllStringSubmatch(src, -1) {
			out = append(out, m[1])
		}
		for _, m := range regexp.MustCompile(`value:([0-9a-f-]{16,})`).FindAllStringSubmatch(src, -1) {
			out = append(out, m[1])
		}
	}
	return out
}

func strip(body map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range body {
		if k != "id" && k != "meta" {
			out[k] = v
		}
	}
	return out
}

func (r *replay) user(recorded string, body map[string]any) {
	if _, ok := r.ids[recorded]; ok {
		return
	}
	b := strip(body)
	b["active"] = true
	res := r.e.mustAs(r.e.Operator, 201, "POST", r.base+"/Users", b)
	var out map[string]any
	res.JSON(r.e.t, &out)
	r.ids[recorded] = out["id"].(string)
}

func (r *replay) group(recorded string, body map[string]any) {
	b := strip(body)
	var members []any
	list, _ := b["members"].([]any)
	for _, m := range list {
		mm := m.(map[string]any)
		members = append(members, map[string]any{"value": r.ids[mm["value"].(string)]})
	}
	b["members"] = members
	res := r.e.mustAs(r.e.Operator, 201, "POST", r.base+"/Groups", b)
	var out map[string]any
	res.JSON(r.e.t, &out)
	r.ids[recorded] = out["id"].(string)
}

// mapIDs replaces recorded ids with ours.
func (r *replay) mapIDs(s string) string {
	for rec, ours := range r.ids {
		s = strings.ReplaceAll(s, rec, ours)
	}
	return s
}

func (r *replay) send(v idpVector) resp {
	path := r.mapIDs(v.Path)
	if p, q, ok := strings.Cut(path, "?"); ok {
		vals, err := url.ParseQuery(q)
		if err != nil {
			r.e.t.Fatal(err)
		}
		path = p + "?" + vals.Encode()
	}
	var body any
	if len(v.Request) > 0 {
		body = r.mapIDs(string(v.Request))
	}
	return r.e.do(r.e.Operator, v.Method, r.base+path, body, "Content-Type: "+scim.ContentType)
}

type difference struct {
	path      string
	want, got any
}

// compare lists where ours differs from the recorded answer: every
// recorded member must be there and equal, except that ids are mapped,
// meta is compared by resourceType and the location's last segments, a
// recorded null equals an absent or empty value, itemsPerPage is ours to
// choose, and group members are compared by value only.
func (r *replay) compare(path string, want, got any) []difference {
	switch w := want.(type) {
	case nil:
		if got == nil || reflect.DeepEqual(got, []any{}) || reflect.DeepEqual(got, map[string]any{}) {
			return nil
		}
		return []difference{{path, want, got}}
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []difference{{path, want, got}}
		}
		var out []difference
		for k, wv := range w {
			p := strings.TrimPrefix(path+"."+k, ".")
			switch {
			case k == "itemsPerPage", k == "display" && strings.HasPrefix(path, "members"), k == "$ref":
				continue
			case k == "id":
				if wid, _ := wv.(string); r.ids[wid] != g[k] && wid != g[k] {
					if _, mapped := r.ids[wid]; mapped || g[k] == nil {
						out = append(out, difference{p, wv, g[k]})
					}
				}
				continue
			case k == "value" && strings.HasPrefix(path, "members"):
				if r.ids[wv.(string)] != g[k] {
					out = append(out, difference{p, wv, g[k]})
				}
				continue
			case k == "meta":
				wm, _ := wv.(map[string]any)
				gm, _ := g[k].(map[string]any)
				if wm["resourceType"] != gm["resourceType"] {
					out = append(out, difference{p + ".resourceType", wm["resourceType"], gm["resourceType"]})
				}
				if loc, _ := wm["location"].(string); loc != "" {
					kind, _, _ := strings.Cut(loc, "/")
					if gl, _ := gm["location"].(string); !strings.Contains(gl, "/"+kind+"/") {
						out = append(out, difference{p + ".location", loc, gm["location"]})
					}
				}
				continue
			}
			out = append(out, r.compare(p, wv, g[k])...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []difference{{path, want, got}}
		}
		var out []difference
		for i := range w {
			out = append(out, r.compare(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return out
	}
	if !reflect.DeepEqual(want, got) {
		return []difference{{path, want, got}}
	}
	return nil
}
