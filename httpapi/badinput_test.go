package httpapi_test

// Bad input (SPEC §4.8): strict JSON, body limit, id syntax, settings
// validation, pagination parameters. Every case is a 4xx problem+json, never
// a 500, and changes nothing.

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/httpapi"
)

// bodyEndpoint is an endpoint that takes a JSON body, with a valid body
// and a field of it to send with the wrong type.
type bodyEndpoint struct {
	name, method, path string
	valid              string // a valid body
	wrongType          string // a body with one field of the wrong type
	field              string // the field wrongType gets wrong
}

func bodyEndpoints(acct string) []bodyEndpoint {
	p := "/v1/accounts/" + acct
	return []bodyEndpoint{
		{"put_account", "PUT", p, `{"name":"Acme","region":"us"}`, `{"name":5}`, "name"},
		{"put_subscription", "PUT", p + "/subscriptions/essentials", `{"model":"named","quantity":5}`, `{"model":"named","quantity":"5"}`, "quantity"},
		{"put_user", "PUT", p + "/users/u1", `{"display_name":"U","active":true}`, `{"active":"yes"}`, "active"},
		{"put_role", "PUT", p + "/roles/qm/custom", `{"permissions":["qm.reports.view"]}`, `{"permissions":"qm.reports.view"}`, "permissions"},
		{"patch_settings", "PATCH", p + "/settings", `{"qm":{"track_silence":true}}`, `{"qm":{"silence_threshold_seconds":"ten"}}`, "silence_threshold_seconds"},
		{"post_token", "POST", p + "/tokens", `{"kind":"reader","name":"r"}`, `{"kind":1}`, "kind"},
	}
}

func setupBadInput(e *env) {
	e.t.Helper()
	e.newAccount("acme", "contact-center")
	e.subscribe("acme", "essentials", "named", 5)
	e.newUser("acme", "u1")
	e.must(201, "PUT", "/v1/accounts/acme/users/u1/licenses/essentials", nil)
}

// noChange runs fn and fails if account acme changed.
func noChange(t *testing.T, e *env, fn func(e *env)) {
	t.Helper()
	e = e.withT(t)
	before := e.state("acme")
	fn(e)
	e.sameState("acme", before)
}

func TestBadInput_StrictJSON(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		setupBadInput(e)
		for _, ep := range bodyEndpoints("acme") {
			t.Run(ep.name, func(t *testing.T) {
				cases := []struct{ name, body string }{
					{"unknown_field", strings.Replace(ep.valid, "{", `{"bogus":1,`, 1)},
					{"trailing_object", ep.valid + ` {}`},
					{"trailing_garbage", ep.valid + `x`},
					{"trailing_second_value", ep.valid + ep.valid},
					{"syntax_error", ep.valid[:len(ep.valid)-1]},
					{"not_an_object", `[` + ep.valid + `]`},
					{"string", `"text"`},
					{"number", `42`},
				}
				if ep.name == "patch_settings" {
					cases = append(cases, struct{ name, body string }{"unknown_nested_field", `{"qm":{"bogus":true}}`})
				}
				for _, c := range cases {
					t.Run(c.name, func(t *testing.T) {
						noChange(t, e, func(e *env) {
							wantProblem(t, e.do(e.Operator, ep.method, ep.path, c.body), 400, "invalid_request")
						})
					})
				}
				t.Run("unknown_field_named", func(t *testing.T) {
					e := e.withT(t)
					p := wantProblem(t, e.do(e.Operator, ep.method, ep.path, strings.Replace(ep.valid, "{", `{"bogus":1,`, 1)), 400, "invalid_request")
					if !strings.Contains(p.Detail, "bogus") {
						t.Errorf("detail %q does not name the unknown field", p.Detail)
					}
				})
				t.Run("wrong_type", func(t *testing.T) {
					noChange(t, e, func(e *env) {
						p := wantProblem(t, e.do(e.Operator, ep.method, ep.path, ep.wrongType), 400, "invalid_request")
						if !strings.Contains(p.Detail, ep.field) {
							t.Errorf("detail %q does not name the field %q", p.Detail, ep.field)
						}
					})
				})
			})
		}
		t.Run("wrong_type_numbers", func(t *testing.T) {
			for _, c := range []struct{ name, body, field string }{
				{"fraction", `{"model":"named","quantity":1.5}`, "quantity"},
				{"huge", `{"model":"named","quantity":1e30}`, "quantity"},
				{"price_text", `{"model":"named","quantity":1,"unit_price":"9.99"}`, "unit_price"},
			} {
				t.Run(c.name, func(t *testing.T) {
					noChange(t, e, func(e *env) {
						p := wantProblem(t, e.do(e.Operator, "PUT", "/v1/accounts/acme/subscriptions/essentials", c.body), 400, "invalid_request")
						if !strings.Contains(p.Detail, c.field) {
							t.Errorf("detail %q does not name %q", p.Detail, c.field)
						}
					})
				})
			}
		})
		t.Run("invalid_values_named", func(t *testing.T) {
			for _, c := range []struct{ name, method, path, body, field string }{
				{"subscription_model", "PUT", "/v1/accounts/acme/subscriptions/essentials", `{"model":"leased","quantity":1}`, "model"},
				{"subscription_negative_quantity", "PUT", "/v1/accounts/acme/subscriptions/essentials", `{"model":"named","quantity":-1}`, "quantity"},
				// A price that would overflow a statement's amounts.
				{"subscription_price_too_high", "PUT", "/v1/accounts/acme/subscriptions/essentials", `{"model":"named","quantity":2,"unit_price":9223372036854775807}`, "unit_price"},
				{"subscription_overage_price_too_high", "PUT", "/v1/accounts/acme/subscriptions/essentials", `{"model":"concurrent","quantity":2,"overage_price":1000000001}`, "overage_price"},
				{"subscription_currency", "PUT", "/v1/accounts/acme/subscriptions/essentials", `{"model":"named","quantity":1,"currency":"usd"}`, "currency"},
				{"subscription_grace", "PUT", "/v1/accounts/acme/subscriptions/essentials", `{"model":"named","quantity":1,"grace_period":"25h"}`, "grace_period"},
				{"subscription_ends_before_start", "PUT", "/v1/accounts/acme/subscriptions/essentials", `{"model":"named","quantity":1,"starts_at":"2026-01-02T00:00:00Z","ends_at":"2026-01-01T00:00:00Z"}`, "ends_at"},
				{"account_region", "PUT", "/v1/accounts/newacct", `{"name":"N","region":"mars"}`, "region"},
				{"account_time_zone", "PUT", "/v1/accounts/newacct", `{"name":"N","region":"us","time_zone":"Mars/Olympus"}`, "time_zone"},
				// Names the host's zone files answer but the zone database
				// built into the binary does not: another host could not
				// load them (and a nil zone panics).
				{"account_time_zone_right", "PUT", "/v1/accounts/newacct", `{"name":"N","region":"us","time_zone":"right/UTC"}`, "time_zone"},
				{"account_time_zone_posixrules", "PUT", "/v1/accounts/newacct", `{"name":"N","region":"us","time_zone":"posixrules"}`, "time_zone"},
				{"account_time_zone_factory", "PUT", "/v1/accounts/newacct", `{"name":"N","region":"us","time_zone":"Factory"}`, "time_zone"},
				{"account_time_zone_dot", "PUT", "/v1/accounts/newacct", `{"name":"N","region":"us","time_zone":"./UTC"}`, "time_zone"},
				{"account_time_zone_double_slash", "PUT", "/v1/accounts/newacct", `{"name":"N","region":"us","time_zone":"America//New_York"}`, "time_zone"},
				{"account_time_zone_local", "PUT", "/v1/accounts/newacct", `{"name":"N","region":"us","time_zone":"Local"}`, "time_zone"},
				{"account_name", "PUT", "/v1/accounts/newacct", `{"name":"  ","region":"us"}`, "name"},
				{"user_email", "PUT", "/v1/accounts/acme/users/u2", `{"email":"not-an-email"}`, "email"},
				{"user_control_chars", "PUT", "/v1/accounts/acme/users/u2", `{"display_name":"a\u0007b"}`, "display_name"},
				{"token_kind", "POST", "/v1/accounts/acme/tokens", `{"kind":"root","name":"x"}`, "kind"},
				{"role_name", "PUT", "/v1/accounts/acme/roles/qm/Bad-Name", `{}`, "role"},
				{"role_permission", "PUT", "/v1/accounts/acme/roles/qm/custom", `{"permissions":["qm.nope"]}`, "permissions"},
			} {
				t.Run(c.name, func(t *testing.T) {
					noChange(t, e, func(e *env) {
						p := wantProblem(t, e.do(e.Operator, c.method, c.path, c.body), 400, "invalid_request")
						if !hasField(p, c.field) {
							t.Errorf("errors %+v do not name %q", p.Errors, c.field)
						}
					})
					if r := e.withT(t).do(e.Operator, "GET", "/v1/accounts/newacct", nil); r.Status != 404 {
						t.Errorf("a refused account was created: %d %s", r.Status, r.Body)
					}
				})
			}
		})
		t.Run("region_and_catalog_fixed", func(t *testing.T) {
			noChange(t, e, func(e *env) {
				wantProblem(t, e.do(e.Operator, "PUT", "/v1/accounts/acme", `{"name":"Acme","region":"eu"}`), 409, "conflict")
				wantProblem(t, e.do(e.Operator, "PUT", "/v1/accounts/acme", `{"name":"Acme","region":"us","catalog":"wfo"}`), 409, "conflict")
			})
		})
	})
}

func TestBadInput_BodyTooLarge(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		setupBadInput(e)
		for _, ep := range bodyEndpoints("acme") {
			t.Run(ep.name, func(t *testing.T) {
				noChange(t, e, func(e *env) {
					// A valid object with a huge value, one byte over the limit.
					pad := httpapi.MaxBody + 1 - len(`{"name":""}`)
					body := `{"name":"` + strings.Repeat("a", pad) + `"}`
					if len(body) != httpapi.MaxBody+1 {
						t.Fatalf("body of %d bytes", len(body))
					}
					wantProblem(t, e.do(e.Operator, ep.method, ep.path, body), 413, "payload_too_large")
				})
			})
		}
		t.Run("at_the_limit_is_read", func(t *testing.T) {
			noChange(t, e, func(e *env) {
				// Exactly MaxBody bytes is not refused for its size: this one
				// is refused for its content (an over-long display name).
				pad := httpapi.MaxBody - len(`{"display_name":""}`)
				body := `{"display_name":"` + strings.Repeat("a", pad) + `"}`
				p := wantProblem(t, e.do(e.Operator, "PUT", "/v1/accounts/acme/users/u1", body), 400, "invalid_request")
				if !hasField(p, "display_name") {
					t.Errorf("errors %+v", p.Errors)
				}
			})
		})
	})
}

func TestBadInput_PathIDs(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		setupBadInput(e)
		long := strings.Repeat("x", 129)
		t.Run("128_is_fine", func(t *testing.T) {
			e := e.withT(t)
			id := strings.Repeat("y", 128)
			e.must(201, "PUT", "/v1/accounts/acme/users/"+id, map[string]any{})
			e.must(200, "GET", "/v1/accounts/acme/users/"+id, nil)
			e.must(204, "DELETE", "/v1/accounts/acme/users/"+id, nil)
		})
		cases := []struct{ name, method, path string }{
			{"account_space", "PUT", "/v1/accounts/%20"},
			{"account_long", "PUT", "/v1/accounts/" + long},
			{"account_long_get", "GET", "/v1/accounts/" + long},
			{"account_slash", "GET", "/v1/accounts/a%2Fb/users"},
			{"account_unicode", "GET", "/v1/accounts/%C3%A9/settings"},
			{"subscription_space", "PUT", "/v1/accounts/acme/subscriptions/%20"},
			{"subscription_long", "DELETE", "/v1/accounts/acme/subscriptions/" + long},
			{"token_space", "DELETE", "/v1/accounts/acme/tokens/%20"},
			{"user_space", "PUT", "/v1/accounts/acme/users/%20"},
			{"user_long", "PUT", "/v1/accounts/acme/users/" + long},
			{"user_long_get", "GET", "/v1/accounts/acme/users/" + long},
			{"user_long_delete", "DELETE", "/v1/accounts/acme/users/" + long},
			{"user_slash", "PUT", "/v1/accounts/acme/users/a%2Fb"},
			{"user_quote", "PUT", "/v1/accounts/acme/users/a%22b"},
			{"user_nul", "PUT", "/v1/accounts/acme/users/a%00b"},
			// Dot segments: a user .. could be made, but not reached by
			// its plain path (clients resolve it, RFC 3986 §5.2.4).
			{"user_dot_dot", "PUT", "/v1/accounts/acme/users/%2e%2e"},
			{"user_dot", "PUT", "/v1/accounts/acme/users/%2E"},
			{"account_dot_dot", "PUT", "/v1/accounts/%2e%2e"},
			{"license_space", "PUT", "/v1/accounts/acme/users/u1/licenses/%20"},
			{"license_long", "DELETE", "/v1/accounts/acme/users/u1/licenses/" + long},
			{"user_role_service", "PUT", "/v1/accounts/acme/users/u1/roles/%20/agent"},
			{"user_role_long", "DELETE", "/v1/accounts/acme/users/u1/roles/qm/" + long},
			{"role_space", "PUT", "/v1/accounts/acme/roles/qm/%20"},
			{"role_service_long", "DELETE", "/v1/accounts/acme/roles/" + long + "/x"},
			{"check_user_space", "GET", "/v1/accounts/acme/users/%20/check?feature=ivr"},
			{"check_user_long", "GET", "/v1/accounts/acme/users/" + long + "/check?feature=ivr"},
			{"access_user_space", "GET", "/v1/accounts/acme/users/%20/access"},
			{"access_user_long", "GET", "/v1/accounts/acme/users/" + long + "/access"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				noChange(t, e, func(e *env) {
					var body any
					if c.method == "PUT" {
						body = map[string]any{}
					}
					wantProblem(t, e.do(e.Operator, c.method, c.path, body), 400, "invalid_request")
				})
			})
		}
		t.Run("acting_user_header", func(t *testing.T) {
			app := e.withT(t).token("acme", "app")
			noChange(t, e, func(e *env) {
				r := e.do(app, "PATCH", "/v1/accounts/acme/settings", `{"qm":{"track_silence":true}}`, "Seatkeeper-Acting-User: "+long)
				wantProblem(t, r, 400, "invalid_request")
			})
		})
	})
}

func TestBadInput_Settings(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		setupBadInput(e)
		var defaults seatkeeper.Settings
		e.must(200, "GET", "/v1/accounts/acme/settings", nil).JSON(t, &defaults)
		if got, want := defaults.QM.SilenceThresholdSeconds, 10; got != want {
			t.Fatalf("default silence_threshold_seconds = %d, want %d", got, want)
		}
		for _, c := range []struct {
			name   string
			patch  string
			fields []string
		}{
			{"silence_zero", `{"qm":{"silence_threshold_seconds":0}}`, []string{"qm.silence_threshold_seconds"}},
			{"silence_601", `{"qm":{"silence_threshold_seconds":601}}`, []string{"qm.silence_threshold_seconds"}},
			{"crosstalk_negative", `{"qm":{"crosstalk_threshold_seconds":-1}}`, []string{"qm.crosstalk_threshold_seconds"}},
			{"voice_exclusion_x", `{"qm":{"voice_exclusion":"x"}}`, []string{"qm.voice_exclusion"}},
			{"retention_2556", `{"qm":{"screen_recording_retention_days":2556}}`, []string{"qm.screen_recording_retention_days"}},
			{"two_at_once", `{"qm":{"silence_threshold_seconds":0,"voice_exclusion":"x","track_silence":true}}`,
				[]string{"qm.silence_threshold_seconds", "qm.voice_exclusion"}},
			{"session_timeout_short", `{"concurrent":{"session_timeout":"10s"}}`, []string{"concurrent.session_timeout"}},
			// Whole seconds, as grace_period: a nanosecond timeout was stored.
			{"session_timeout_fraction", `{"concurrent":{"session_timeout":"90.5s"}}`, []string{"concurrent.session_timeout"}},
			{"idle_window_nanoseconds", `{"concurrent":{"portal_idle_window":"1h1ns"}}`, []string{"concurrent.portal_idle_window"}},
			// Phrases are text like every other: a NUL or 100,000 characters were kept.
			{"phrase_control_char", `{"qm":{"topics":[{"name":"t","phrases":["a\u0000b"]}]}}`, []string{"qm.topics[0].phrases[0]"}},
			{"phrase_empty", `{"qm":{"indicators":[{"name":"t","phrases":["ok",""]}]}}`, []string{"qm.indicators[0].phrases[1]"}},
			{"phrase_too_long", `{"qm":{"topics":[{"name":"t","phrases":["` + strings.Repeat("x", 257) + `"]}]}}`, []string{"qm.topics[0].phrases[0]"}},
			{"portal_idle_long", `{"concurrent":{"portal_idle_window":"25h"}}`, []string{"concurrent.portal_idle_window"}},
			{"topic_without_name", `{"qm":{"topics":[{"name":"","phrases":["a"]}]}}`, []string{"qm.topics[0].name"}},
			{"topic_twice", `{"qm":{"topics":[{"name":"t","phrases":[]},{"name":"t","phrases":[]}]}}`, []string{"qm.topics[1].name"}},
			{"null_removes_required", `{"qm":{"voice_exclusion":null}}`, []string{"qm.voice_exclusion"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				noChange(t, e, func(e *env) {
					p := wantProblem(t, e.do(e.Operator, "PATCH", "/v1/accounts/acme/settings", c.patch), 400, "invalid_request")
					for _, f := range c.fields {
						if !hasField(p, f) {
							t.Errorf("errors %+v do not name %s", p.Errors, f)
						}
					}
					if got, want := len(p.Errors), len(c.fields); got != want {
						t.Errorf("%d errors, want %d: %+v", got, want, p.Errors)
					}
				})
			})
		}
		for _, c := range []struct{ name, patch string }{
			{"not_an_object", `[]`},
			{"null", `null`},
			{"empty", ``},
			{"wrong_type_section", `{"qm":5}`},
			{"bad_duration", `{"concurrent":{"session_timeout":"soon"}}`},
		} {
			t.Run(c.name, func(t *testing.T) {
				noChange(t, e, func(e *env) {
					wantProblem(t, e.do(e.Operator, "PATCH", "/v1/accounts/acme/settings", c.patch), 400, "invalid_request")
				})
			})
		}
		t.Run("too_many_topics", func(t *testing.T) {
			noChange(t, e, func(e *env) {
				var b strings.Builder
				b.WriteString(`{"qm":{"topics":[`)
				for i := range 501 {
					if i > 0 {
						b.WriteString(",")
					}
					b.WriteString(`{"name":"t` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + base64.RawURLEncoding.EncodeToString([]byte{byte(i), byte(i >> 8)}) + `","phrases":[]}`)
				}
				b.WriteString(`]}}`)
				p := wantProblem(t, e.do(e.Operator, "PATCH", "/v1/accounts/acme/settings", b.String()), 400, "invalid_request")
				if !hasField(p, "qm.topics") {
					t.Errorf("errors %+v do not name qm.topics", p.Errors)
				}
			})
		})
		t.Run("valid_patch_changes_only_its_field", func(t *testing.T) {
			e := e.withT(t)
			var s seatkeeper.Settings
			e.must(200, "PATCH", "/v1/accounts/acme/settings", `{"qm":{"voice_exclusion":"inbound","topics":[{"name":"billing","phrases":["invoice"]}]}}`).JSON(t, &s)
			want := defaults
			want.QM.VoiceExclusion = "inbound"
			want.QM.Topics = []seatkeeper.PhraseList{{Name: "billing", Phrases: []string{"invoice"}}}
			var got seatkeeper.Settings
			e.must(200, "GET", "/v1/accounts/acme/settings", nil).JSON(t, &got)
			if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
				t.Errorf("settings\n got %s\nwant %s", g, w)
			}
			if g, w := mustJSON(t, s), mustJSON(t, want); g != w {
				t.Errorf("PATCH answer\n got %s\nwant %s", g, w)
			}
		})
	})
}

func TestBadInput_UserListParams(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		setupBadInput(e)
		e.newUser("acme", "u2")
		e.newUser("acme", "u3")
		t.Run("pagination_works", func(t *testing.T) {
			e := e.withT(t)
			var page struct {
				Items      []seatkeeper.User `json:"items"`
				NextCursor string            `json:"next_cursor"`
			}
			e.must(200, "GET", "/v1/accounts/acme/users?limit=2", nil).JSON(t, &page)
			if len(page.Items) != 2 || page.Items[0].ID != "u1" || page.Items[1].ID != "u2" || page.NextCursor == "" {
				t.Fatalf("first page %+v", page)
			}
			cursor := page.NextCursor
			page.Items, page.NextCursor = nil, ""
			e.must(200, "GET", "/v1/accounts/acme/users?limit=2&cursor="+cursor, nil).JSON(t, &page)
			if len(page.Items) != 1 || page.Items[0].ID != "u3" || page.NextCursor != "" {
				t.Errorf("second page %+v", page)
			}
		})
		for _, c := range []struct{ name, query string }{
			{"limit_zero", "limit=0"},
			{"limit_negative", "limit=-1"},
			{"limit_1001", "limit=1001"},
			{"limit_text", "limit=ten"},
			{"limit_fraction", "limit=1.5"},
			{"limit_huge", "limit=99999999999999999999"},
			{"cursor_not_base64", "cursor=***"},
			{"cursor_bad_id", "cursor=" + base64.RawURLEncoding.EncodeToString([]byte("a b"))},
			{"cursor_long_id", "cursor=" + base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("z", 129)))},
		} {
			t.Run(c.name, func(t *testing.T) {
				e := e.withT(t)
				p := wantProblem(t, e.do(e.Operator, "GET", "/v1/accounts/acme/users?"+c.query, nil), 400, "invalid_request")
				if strings.HasPrefix(c.name, "limit") && !hasField(p, "limit") {
					t.Errorf("errors %+v do not name limit", p.Errors)
				}
			})
		}
		t.Run("check_feature_missing", func(t *testing.T) {
			wantProblem(t, e.withT(t).do(e.Operator, "GET", "/v1/accounts/acme/users/u1/check?feature=", nil), 400, "invalid_request")
		})
	})
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestRepeatedQueryParameters: a parameter given twice, or a query that
// is not well-formed, is refused (400) and changes nothing. Before, the
// first value won: ?feature=a&feature=b was answered about a alone.
func TestRepeatedQueryParameters(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.newAccount("acme", "contact-center")
		e.newUser("acme", "ann")
		before := e.state("acme")
		for _, c := range []struct{ method, path, field string }{
			{"GET", "/v1/accounts/acme/users/ann/check?feature=channel.voice&feature=channel.email", "feature"},
			{"GET", "/v1/accounts/acme/reports/license-usage?from=2026-01-01&to=2026-01-02&interval=1h&interval=15m", "interval"},
			{"POST", "/v1/accounts/acme/billing/close?month=2026-01&month=2026-02", "month"},
			{"GET", "/v1/accounts/acme/users?limit=1&limit=2", "limit"},
			{"GET", "/scim/v2/acme/Users?count=1&count=2", ""},
			{"GET", "/v1/accounts/acme/users?limit=%zz", ""},
		} {
			r := e.do(e.Operator, c.method, c.path, nil)
			p := wantProblem(t, r, http.StatusBadRequest, seatkeeper.EInvalid)
			if c.field != "" && !hasField(p, c.field) {
				t.Errorf("%s %s: errors %+v, want one for %s", c.method, c.path, p.Errors, c.field)
			}
		}
		e.sameState("acme", before)
		e.must(http.StatusOK, "GET", "/v1/accounts/acme/users/ann/check?feature=channel.voice&permission=account.users.view", nil)
	})
}

// TestBadInput_DuplicateNames: a JSON object that gives a name twice, at
// any depth, is refused (400, or SCIM's invalidSyntax) and changes
// nothing. Before, the last one won, while a proxy reading the same body
// may take the first (found by an audit).
func TestBadInput_DuplicateNames(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		setupBadInput(e)
		e.newUser("acme", "u2")
		for _, c := range []struct{ method, path, body, name string }{
			{"PUT", "/v1/accounts/acme/users/u2", `{"email":"a@x.example","active":true,"active":false}`, "active"},
			{"PATCH", "/v1/accounts/acme/settings", `{"qm":{"track_silence":true,"track_silence":false}}`, "track_silence"},
			{"POST", "/v1/accounts/acme/usage/events", `{"events":[{"type":"assignment.add","user":"u1","user":"u2","license":"essentials","at":"2026-01-02T00:00:00Z"}]}`, "user"},
		} {
			noChange(t, e, func(e *env) {
				p := wantProblem(t, e.do(e.Operator, c.method, c.path, c.body), http.StatusBadRequest, seatkeeper.EInvalid)
				if !strings.Contains(p.Detail, `"`+c.name+`" is given twice`) {
					t.Errorf("%s %s: detail %q does not name %q as given twice", c.method, c.path, p.Detail, c.name)
				}
			})
		}
		noChange(t, e, func(e *env) {
			r := e.do(e.Operator, "POST", "/scim/v2/acme/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","userName":"b"}`)
			if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"invalidSyntax"`) || !strings.Contains(string(r.Body), `\"userName\" is given twice`) {
				t.Errorf("SCIM user with userName twice: %d %s, want 400 invalidSyntax naming userName", r.Status, r.Body)
			}
		})
		// The same names in different objects are no duplicates.
		e.must(http.StatusCreated, "POST", "/v1/accounts/acme/usage/events", `{"events":[{"type":"assignment.add","user":"u2","license":"essentials","at":"2026-01-02T00:00:00Z"},
			{"type":"assignment.remove","user":"u2","license":"essentials","at":"2026-01-03T00:00:00Z"}]}`)
	})
}
