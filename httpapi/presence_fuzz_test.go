package httpapi_test

// Fuzz targets for the inputs of the concurrent pools and the ledger
// (issue 4) and of the reports over it: sign-in and import bodies, session
// ids in paths, the Idempotency-Key header, and query parameters. Bad
// input never yields a 500 (SPEC §4.8), and a refused request changes
// nothing.
//
//	go test ./httpapi -run '^$' -fuzz FuzzPresenceInput -fuzztime 45s -fuzzminimizetime 5s
//	go test ./httpapi -run '^$' -fuzz FuzzQueryParameters -fuzztime 45s
//
// Each run of FuzzPresenceInput makes several requests on a SQLite store,
// whose engine (modernc.org/sqlite) is slow under the fuzzer's coverage
// instrumentation: a few runs a second, and the default minimizing of a
// new input takes a minute. A test binary built without it runs 60–140 a
// second, unguided (it found that a session id of ".." deleted the
// account, after about 8,000 runs):
//
//	go test -c -o /tmp/httpapi.test ./httpapi && (cd httpapi && /tmp/httpapi.test -test.run '^$' -test.fuzz '^FuzzPresenceInput$' -test.fuzztime 2m)

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzPresenceInput signs in, heartbeats, signs out and imports with the
// fuzzed body, session id and Idempotency-Key.
func FuzzPresenceInput(f *testing.F) {
	e := newEnv(f, "")
	// The clock stands still: a session must not expire between a
	// request and the check that it changed nothing (a fuzzing run of
	// three minutes outlived the session timeout).
	now := time.Now()
	e.Store.Now = func() time.Time { return now }
	e.concurrentPool("fz", 2, 1, 4, "agent")
	live := e.startSession("fz", "agent003", "work_session")
	seeds := []struct{ body, id, key string }{
		{`{"user":"agent000","kind":"work_session"}`, live.ID, ""},
		{`{"user":"agent001","kind":"portal"}`, "ses_missing", "key-1"},
		{`{"user":"agent002","kind":"api"}`, "", "käy"},
		{`{"user":"nobody","kind":"work_session"}`, "../x", ""},
		{`0`, "..", ""}, // DELETE …/sessions/.. once deleted the account, by a redirect
		{`{"user":"agent000","kind":"desk"}`, "ses_%00", "k"},
		{`{"events":[{"type":"presence.start","user":"agent001","license":"essentials","kind":"work_session","session":"s1","at":"2026-11-02T08:00:00Z"},{"type":"presence.end","user":"agent001","license":"essentials","kind":"work_session","session":"s1","at":"2026-11-02T09:00:00Z"}]}`, live.ID, ""},
		{`{"events":[{"type":"presence.denied","user":"agent001","license":"essentials","kind":"work_session","at":"1969-12-31T23:59:59Z"}]}`, "", ""},
		{`{"events":[{"type":"presence.start","at":"2026-11-02T08:00:00+14:00"}]}`, "", ""},
		{`{"events":[]}`, "", ""},
		{`{"events":null,"extra":1}`, "", ""},
		{`[]`, "", ""},
	}
	for _, s := range seeds {
		f.Add([]byte(s.body), s.id, s.key)
	}
	f.Fuzz(func(t *testing.T, body []byte, id, key string) {
		e := e.withT(t)
		var headers []string
		if key != "" && !strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			headers = append(headers, "Idempotency-Key: "+strings.TrimSpace(key))
		}
		sessions := "/v1/accounts/fz/sessions"
		for _, r := range []struct{ method, path string }{
			{"POST", sessions},
			{"POST", sessions + "/" + url.PathEscape(id) + "/heartbeat"},
			{"DELETE", sessions + "/" + url.PathEscape(id)},
			{"POST", "/v1/accounts/fz/usage/events"},
		} {
			what := fmt.Sprintf("%s %s %q (key %q)", r.method, r.path, body, key)
			before := e.ledgerState("fz")
			res := e.do(e.Operator, r.method, r.path, string(body), headers...)
			checkAnswer(t, what, res)
			// A sign-in refused for want of room is metered (a denial
			// in the ledger); any other refusal changes nothing.
			if res.Status >= 400 && res.Problem(t).Code != "pool_exhausted" {
				e.sameLedgerState(t, what, "fz", before)
			}
		}
		// The pool never holds more than its cap, whatever came in.
		if p := e.pool("fz", "essentials"); p.InUse > 3 || p.InUse < 0 {
			t.Fatalf("pool in use %d, cap 3", p.InUse)
		}
	})
}

// FuzzQueryParameters sends the fuzzed values as the query parameters of
// every endpoint that reads some; what a refused request would have
// written is checked unchanged.
func FuzzQueryParameters(f *testing.F) {
	e := newEnv(f, "")
	e.ledgerAccount("fz", "Asia/Kolkata")
	e.newUser("fz", "agent000")
	e.must(201, "PUT", "/v1/accounts/fz/users/agent000/licenses/essentials", nil)
	e.must(201, "POST", "/v1/accounts/fz/usage/events", map[string]any{"events": []usageEvent{
		presence("presence.start", "agent000", "s1", time.Date(2026, 10, 30, 8, 0, 0, 0, time.UTC)),
		presence("presence.end", "agent000", "s1", time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)),
	}})
	seeds := [][5]string{
		{"2026-10-01", "2026-11-01", "15m", "essentials", "csv"},
		{"2026-10-01T00:00:00+05:30", "2026-10-02T00:00:00Z", "1m", "", "json"},
		{"2026-10", "2026-11", "1d", "qm", ""},
		{"2026-10", "2026-12", "3", "essentials", "csv"},
		{"2026-11-01", "2026-10-01", "1h", "essentials", "csv"},
		{"0001-01-01", "9999-12-31", "1m", "a b", "xml"},
		{"3", "-1", "0", "../x", "CSV"},
		{"", "", "", "", ""},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2], s[3], s[4])
	}
	// Each endpoint's parameters, in the order of the fuzzed values.
	endpoints := []struct {
		method, path string
		names        []string
	}{
		{"GET", "/reports/license-usage", []string{"from", "to", "interval", "license", "format"}},
		{"GET", "/billing/usage", []string{"from", "to", "", "license", "format"}},
		{"GET", "/billing/statements", []string{"from", "to", "", "", "format"}},
		{"GET", "/billing/advice", []string{"", "", "months", "license", "format"}},
		{"GET", "/billing/close", []string{"month"}},
		{"POST", "/billing/close", []string{"month"}},
		{"GET", "/sessions", []string{"", "", "", "user"}},
		{"GET", "/users", []string{"cursor", "", "limit"}},
		{"GET", "/users/agent000/check", []string{"feature", "", "", "permission"}},
		{"GET", "/audit", []string{"from", "to", "", "", "format"}},
	}
	f.Fuzz(func(t *testing.T, a, b, c, d, g string) {
		e := e.withT(t)
		values := []string{a, b, c, d, g}
		for _, ep := range endpoints {
			q := url.Values{}
			for i, name := range ep.names {
				if name != "" {
					q.Set(name, values[i])
				}
			}
			path := "/v1/accounts/fz" + ep.path + "?" + q.Encode()
			before := ""
			if ep.method != "GET" {
				before = e.ledgerState("fz")
			}
			r := e.do(e.Operator, ep.method, path, nil)
			checkAnswer(t, ep.method+" "+path, r)
			if ep.method != "GET" && r.Status >= 400 {
				e.sameLedgerState(t, ep.method+" "+path, "fz", before)
			}
		}
	})
}

// ledgerState is the account's state (see state) and what its ledger
// shows for October and November 2026, where the seeds put events.
func (e *env) ledgerState(account string) string {
	e.t.Helper()
	report := e.must(200, "GET", "/v1/accounts/"+account+"/reports/license-usage?from=2026-10-01&to=2026-12-01&interval=1d", nil)
	return e.state(account) + "ledger: " + string(report.Body)
}

// sameLedgerState fails the test if a request refused as what changed the
// account or its ledger since before.
func (e *env) sameLedgerState(t *testing.T, what, account, before string) {
	t.Helper()
	if after := e.ledgerState(account); after != before {
		t.Fatalf("%s was refused, yet it changed the account or its ledger:\nbefore %s\nafter  %s", what, before, after)
	}
}
