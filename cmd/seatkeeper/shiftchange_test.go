package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper/metering"
	"github.com/seatkeeper/seatkeeper/sqlstore/sqlstoretest"
)

// cluster is the server processes on one database, one of which may be
// killed and restarted at any moment.
type cluster struct {
	t     *testing.T
	mu    sync.Mutex
	procs []*proc
}

func (c *cluster) pick() *proc {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.procs[rand.IntN(len(c.procs))]
}

// try sends one request to one random process; a dead process is an error.
func (c *cluster) try(method, path string, body any, headers ...string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.pick().base+path, rd)
	req.Header.Set("Authorization", "Bearer "+testOperatorSecret)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	return res.StatusCode, out, err
}

// do retries through random processes until one answers.
func (c *cluster) do(method, path string, body any, headers ...string) (int, []byte) {
	for attempt := 0; ; attempt++ {
		status, out, err := c.try(method, path, body, headers...)
		if err == nil && status < 500 {
			return status, out
		}
		if attempt > 200 {
			c.t.Errorf("%s %s: no process answered: %v %d %s", method, path, err, status, out)
			return 0, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestShiftChangeWithACrash: thousands of agents sign in, heartbeat and
// sign out through three server processes sharing PostgreSQL, or the one
// server of a SQLite store, while a process is killed (SIGKILL) and
// restarted. Afterwards the ledger shows that the pool never went over its
// cap at any instant (R4), that every acknowledged sign-in is there, that
// no session was opened twice, and that every session has exactly one end.
func TestShiftChangeWithACrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills server processes")
	}
	t.Run("sqlite", func(t *testing.T) {
		data := t.TempDir()
		shiftChangeWithACrash(t, 1, func() *proc { return startServeIn(t, "", data) }, func() (*sql.DB, error) {
			return sql.Open("sqlite", "file:"+filepath.Join(data, "seatkeeper.db")+"?_pragma=busy_timeout(10000)")
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := sqlstoretest.PostgresDSN(t)
		shiftChangeWithACrash(t, 3, func() *proc { return startServe(t, dsn) }, func() (*sql.DB, error) {
			return sql.Open("pgx", dsn)
		})
	})
}

// shiftChangeWithACrash runs the storm through n processes that start
// serves over one store, the last of which is killed and restarted; the
// ledger is read through openDB.
func shiftChangeWithACrash(t *testing.T, n int, start func() *proc, openDB func() (*sql.DB, error)) {
	c := &cluster{t: t}
	for range n {
		c.procs = append(c.procs, start()) // the first applies the migrations
	}
	const agents, workers, capacity = 2000, 48, 30
	p := c.procs[0]
	p.must(t, 201, "PUT", "/v1/accounts/cc", map[string]string{"name": "Contact center", "region": "us"})
	p.must(t, 201, "PUT", "/v1/accounts/cc/subscriptions/essentials", map[string]any{"model": "concurrent", "quantity": capacity - 5, "overage_allowance": 5})
	var setup sync.WaitGroup
	for w := range 8 {
		setup.Add(1)
		go func() {
			defer setup.Done()
			for i := w; i < agents; i += 8 {
				p.must(t, 201, "PUT", fmt.Sprintf("/v1/accounts/cc/users/a%d", i), map[string]any{})
				p.must(t, 201, "PUT", fmt.Sprintf("/v1/accounts/cc/users/a%d/licenses/essentials", i), nil)
			}
		}()
	}
	setup.Wait()

	var (
		mu       sync.Mutex
		acked    = map[string]string{} // session id -> agent
		admitted atomic.Int64
		refused  atomic.Int64
		next     atomic.Int64
	)
	crash := make(chan struct{})
	go func() {
		defer close(crash)
		for next.Load() < agents/3 { // a third of the way through the storm
			time.Sleep(2 * time.Millisecond)
		}
		c.mu.Lock()
		victim := c.procs[n-1]
		c.mu.Unlock()
		victim.cmd.Process.Kill() // SIGKILL: no draining, batches cut off mid-way
		victim.cmd.Wait()
		time.Sleep(300 * time.Millisecond)
		restarted := start()
		c.mu.Lock()
		c.procs[n-1] = restarted
		c.mu.Unlock()
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= agents {
					return
				}
				agent := fmt.Sprintf("a%d", i)
				// The key makes a sign-in whose answer was lost in the crash
				// safe to send again: it returns the same session.
				key := fmt.Sprintf("signin-%d", i)
				var sess struct {
					ID string `json:"id"`
				}
				status, out := c.do("POST", "/v1/accounts/cc/sessions", map[string]string{"user": agent, "kind": "work_session"}, "Idempotency-Key", key)
				switch status {
				case 201:
					json.Unmarshal(out, &sess)
					admitted.Add(1)
					mu.Lock()
					acked[sess.ID] = agent
					mu.Unlock()
				case 409:
					refused.Add(1)
					continue
				default:
					t.Errorf("sign-in %s: %d %s", agent, status, out)
					continue
				}
				for range rand.IntN(3) {
					time.Sleep(time.Duration(rand.IntN(5)) * time.Millisecond)
					if status, out := c.do("POST", "/v1/accounts/cc/sessions/"+sess.ID+"/heartbeat", nil); status != 200 {
						t.Errorf("heartbeat %s: %d %s", sess.ID, status, out)
					}
				}
				// 204 also when a sign-out sent again after the crash had
				// gone through the first time.
				if status, out := c.do("DELETE", "/v1/accounts/cc/sessions/"+sess.ID, nil); status != 204 {
					t.Errorf("sign-out %s: %d %s", sess.ID, status, out)
				}
			}
		}()
	}
	wg.Wait()
	<-crash
	if admitted.Load() < agents/2 || refused.Load() == 0 {
		t.Logf("admitted %d, refused %d", admitted.Load(), refused.Load())
	}
	// Everyone signed out: at every process, the pool is empty and no
	// session is live — the crash left no place taken by nobody.
	for _, p := range c.procs {
		var pools struct {
			Items []struct {
				InUse int `json:"in_use"`
			} `json:"items"`
		}
		var sessions struct {
			Items []json.RawMessage `json:"items"`
		}
		json.Unmarshal(p.must(t, 200, "GET", "/v1/accounts/cc/pools", nil), &pools)
		json.Unmarshal(p.must(t, 200, "GET", "/v1/accounts/cc/sessions", nil), &sessions)
		if len(pools.Items) != 1 || pools.Items[0].InUse != 0 || len(sessions.Items) != 0 {
			t.Errorf("after every sign-out, %s shows pools %+v and %d live sessions", p.base, pools.Items, len(sessions.Items))
		}
	}

	db, err := openDB()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(context.Background(), `SELECT type, session, user_id, at FROM usage_events
		WHERE account = 'cc' AND type IN ('presence.start', 'presence.end') ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	starts, ends := map[string]int{}, map[string]int{}
	var intervals []metering.Interval
	open := map[string]*metering.Interval{}
	for rows.Next() {
		var typ, session, user string
		var at int64
		if err := rows.Scan(&typ, &session, &user, &at); err != nil {
			t.Fatal(err)
		}
		when := time.UnixMicro(at)
		if typ == "presence.start" {
			starts[session]++
			open[session] = &metering.Interval{User: user, Start: when}
		} else {
			ends[session]++
			if iv := open[session]; iv != nil {
				iv.End = when
				intervals = append(intervals, *iv)
				delete(open, session)
			}
		}
	}
	rows.Close()
	for id, agent := range acked {
		if starts[id] != 1 {
			t.Errorf("acknowledged sign-in %s of %s has %d starts in the ledger", id, agent, starts[id])
		}
	}
	for id, n := range starts {
		if n != 1 {
			t.Errorf("session %s was opened %d times", id, n)
		}
		if ends[id] != 1 {
			t.Errorf("session %s has %d ends, want exactly 1", id, ends[id])
		}
	}
	if len(starts) != len(acked) {
		t.Errorf("%d sessions in the ledger, %d acknowledged", len(starts), len(acked))
	}
	peak := 0
	for _, s := range metering.Occupancy(intervals, time.Now()) {
		peak = max(peak, s.Count)
	}
	if peak > capacity {
		t.Errorf("the pool held %d users at once, over its cap of %d", peak, capacity)
	}
	if peak < capacity/2 {
		t.Errorf("peak %d: the storm never pressed on the cap of %d", peak, capacity)
	}
	t.Logf("%d agents: %d admitted, %d refused (pool_exhausted), peak %d of %d, one process killed and restarted",
		agents, admitted.Load(), refused.Load(), peak, capacity)
}

// TestAcknowledgedHeartbeatsSurviveSIGKILL: sixteen clients heartbeat 64
// sessions as fast as the server answers until it is killed (SIGKILL);
// after a restart, every session's expiry is at least the latest one a
// heartbeat answer acknowledged (R6: an acknowledged extension is never
// lost, on either store).
func TestAcknowledgedHeartbeatsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills server processes")
	}
	t.Run("sqlite", func(t *testing.T) {
		data := t.TempDir()
		heartbeatsSurviveSIGKILL(t, func() *proc { return startServeIn(t, "", data) })
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := sqlstoretest.PostgresDSN(t)
		heartbeatsSurviveSIGKILL(t, func() *proc { return startServe(t, dsn) })
	})
}

func heartbeatsSurviveSIGKILL(t *testing.T, start func() *proc) {
	p := start()
	p.must(t, 201, "PUT", "/v1/accounts/hb", map[string]string{"name": "Heartbeats", "region": "us"})
	p.must(t, 201, "PUT", "/v1/accounts/hb/subscriptions/essentials", map[string]any{"model": "concurrent", "quantity": 100})
	type session struct {
		ID        string    `json:"id"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	var ids []string
	for i := range 64 {
		user := fmt.Sprintf("/v1/accounts/hb/users/a%d", i)
		p.must(t, 201, "PUT", user, map[string]any{})
		p.must(t, 201, "PUT", user+"/licenses/essentials", nil)
		var s session
		json.Unmarshal(p.must(t, 201, "POST", "/v1/accounts/hb/sessions", map[string]string{"user": fmt.Sprintf("a%d", i), "kind": "work_session"}), &s)
		ids = append(ids, s.ID)
	}

	var mu sync.Mutex
	acked := map[string]time.Time{} // the latest expiry an answer gave, per session
	var beats atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for {
				id := ids[rand.IntN(len(ids))]
				req, _ := http.NewRequest("POST", p.base+"/v1/accounts/hb/sessions/"+id+"/heartbeat", nil)
				req.Header.Set("Authorization", "Bearer "+testOperatorSecret)
				res, err := client.Do(req)
				if err != nil {
					return // killed
				}
				var s session
				err = json.NewDecoder(res.Body).Decode(&s)
				res.Body.Close()
				if res.StatusCode != 200 || err != nil {
					t.Errorf("heartbeat %s: status %d, %v", id, res.StatusCode, err)
					return
				}
				mu.Lock()
				if s.ExpiresAt.After(acked[id]) {
					acked[id] = s.ExpiresAt
				}
				mu.Unlock()
				beats.Add(1)
			}
		})
	}
	for beats.Load() < 2000 {
		time.Sleep(2 * time.Millisecond)
	}
	p.cmd.Process.Kill() // SIGKILL, heartbeats in flight
	p.cmd.Wait()
	wg.Wait()

	p = start()
	var live struct {
		Items []session `json:"items"`
	}
	json.Unmarshal(p.must(t, 200, "GET", "/v1/accounts/hb/sessions", nil), &live)
	stored := map[string]time.Time{}
	for _, s := range live.Items {
		stored[s.ID] = s.ExpiresAt
	}
	for id, at := range acked {
		if got, ok := stored[id]; !ok || got.Before(at) {
			t.Errorf("session %s: expiry after the restart %v (live %v), a heartbeat acknowledged %v", id, got, ok, at)
		}
	}
	t.Logf("%d heartbeats acknowledged before the kill; %d sessions checked", beats.Load(), len(acked))
}
