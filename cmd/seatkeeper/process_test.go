package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper/sqlstore/sqlstoretest"
)

// proc is one `seatkeeper serve` process.
type proc struct {
	cmd  *exec.Cmd
	base string
}

const testOperatorSecret = "sk_test_operator_secret"

// startServe starts `seatkeeper serve` on a free port with the given store
// and the test operator secret, and stops it when the test ends.
func startServe(t *testing.T, dsn string) *proc {
	t.Helper()
	return startServeIn(t, dsn, t.TempDir())
}

// startServeIn is startServe with the data directory (the SQLite store's,
// when dsn is "").
func startServeIn(t *testing.T, dsn, data string) *proc {
	t.Helper()
	cmd := exec.Command(buildBinary(t), "serve", "--addr", "127.0.0.1:0", "--data", data, "--db", dsn)
	cmd.Env = append(os.Environ(), "SEATKEEPER_OPERATOR_TOKEN="+testOperatorSecret)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	})
	return &proc{cmd: cmd, base: "http://" + waitListening(t, stderr)}
}

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}

// call sends a request as the operator and returns the status and body.
func (p *proc) call(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+testOperatorSecret)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out
}

func (p *proc) must(t *testing.T, want int, method, path string, body any) []byte {
	t.Helper()
	status, out := p.call(t, method, path, body)
	if status != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, status, want, out)
	}
	return out
}

// threeProcesses starts three servers sharing one fresh PostgreSQL schema.
func threeProcesses(t *testing.T) []*proc {
	dsn := sqlstoretest.PostgresDSN(t)
	if testing.Short() {
		t.Skip("starts server processes")
	}
	// The first applies the migrations; the others find them applied.
	ps := []*proc{startServe(t, dsn)}
	ps = append(ps, startServe(t, dsn), startServe(t, dsn))
	return ps
}

// race sends one PUT per path, spread round-robin over the processes, all
// at once, and counts the answers by status.
func race(t *testing.T, ps []*proc, paths []string) map[int]int {
	t.Helper()
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, path := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			status, body := ps[i%len(ps)].call(t, "PUT", path, nil)
			mu.Lock()
			defer mu.Unlock()
			counts[status]++
			if status != 201 && status != 409 {
				t.Errorf("PUT %s: %d %s", path, status, body)
			}
		}()
	}
	close(start)
	wg.Wait()
	return counts
}

func assignedOf(t *testing.T, p *proc, account, license string) int {
	t.Helper()
	var sum struct {
		Items []struct {
			License  string `json:"license"`
			Assigned int    `json:"assigned"`
		} `json:"items"`
	}
	json.Unmarshal(p.must(t, 200, "GET", "/v1/accounts/"+account+"/licenses", nil), &sum)
	for _, l := range sum.Items {
		if l.License == license {
			return l.Assigned
		}
	}
	return -1
}

// TestR1_ThreeProcessesShareOneCap: parallel assignments through three
// server processes sharing PostgreSQL succeed exactly as often as there
// are seats; likewise R9's coverage capacity and R16's per-account maximum.
func TestR1_ThreeProcessesShareOneCap(t *testing.T) {
	ps := threeProcesses(t)
	p := ps[0]

	t.Run("R1", func(t *testing.T) {
		p.must(t, 201, "PUT", "/v1/accounts/r1", map[string]string{"name": "R1", "region": "us"})
		p.must(t, 201, "PUT", "/v1/accounts/r1/subscriptions/essentials", map[string]any{"model": "named", "quantity": 30})
		var paths []string
		for i := range 90 {
			p.must(t, 201, "PUT", fmt.Sprintf("/v1/accounts/r1/users/u%d", i), map[string]any{})
			paths = append(paths, fmt.Sprintf("/v1/accounts/r1/users/u%d/licenses/essentials", i))
		}
		counts := race(t, ps, paths)
		if counts[201] != 30 || counts[409] != 60 {
			t.Errorf("answers %v, want 30 × 201 and 60 × 409", counts)
		}
		if got := assignedOf(t, ps[2], "r1", "essentials"); got != 30 {
			t.Errorf("assigned = %d, want 30", got)
		}
	})

	t.Run("R9", func(t *testing.T) {
		p.must(t, 201, "PUT", "/v1/accounts/r9", map[string]string{"name": "R9", "region": "eu"})
		p.must(t, 201, "PUT", "/v1/accounts/r9/subscriptions/elite", map[string]any{"model": "concurrent", "quantity": 10})
		p.must(t, 201, "PUT", "/v1/accounts/r9/subscriptions/qm", map[string]any{"model": "named", "quantity": 5})
		var paths []string
		for i := range 40 {
			p.must(t, 201, "PUT", fmt.Sprintf("/v1/accounts/r9/users/u%d", i), map[string]any{})
			p.must(t, 201, "PUT", fmt.Sprintf("/v1/accounts/r9/users/u%d/licenses/elite", i), nil)
			paths = append(paths, fmt.Sprintf("/v1/accounts/r9/users/u%d/licenses/qm", i))
		}
		counts := race(t, ps, paths)
		if counts[201] != 15 || counts[409] != 25 {
			t.Errorf("coverage answers %v, want 15 × 201 (10 Elite + 5 add-on) and 25 × 409", counts)
		}
	})

	t.Run("R16", func(t *testing.T) {
		p.must(t, 201, "PUT", "/v1/accounts/r16", map[string]string{"name": "R16", "region": "us", "catalog": "wfo"})
		p.must(t, 201, "PUT", "/v1/accounts/r16/subscriptions/wfo_access", map[string]any{"model": "named", "quantity": 5, "enforcement": "commit"})
		var paths []string
		for i := range 20 {
			p.must(t, 201, "PUT", fmt.Sprintf("/v1/accounts/r16/users/u%d", i), map[string]any{})
			paths = append(paths, fmt.Sprintf("/v1/accounts/r16/users/u%d/licenses/wfo_access", i))
		}
		counts := race(t, ps, paths)
		if counts[201] != 5 || counts[409] != 15 {
			t.Errorf("wfo_access answers %v, want 5 × 201 (max 5 per account, even uncapped by commit) and 15 × 409", counts)
		}
	})
}

// TestChangeSeenByOtherProcesses: a change through one process reaches the
// decisions of the others within a second (LISTEN/NOTIFY).
func TestChangeSeenByOtherProcesses(t *testing.T) {
	ps := threeProcesses(t)
	a, b := ps[0], ps[1]
	a.must(t, 201, "PUT", "/v1/accounts/acme", map[string]string{"name": "Acme", "region": "us"})
	a.must(t, 201, "PUT", "/v1/accounts/acme/subscriptions/premium", map[string]any{"model": "named", "quantity": 5})
	a.must(t, 201, "PUT", "/v1/accounts/acme/users/ann", map[string]any{})
	decision := func(p *proc) (d struct {
		Allowed bool   `json:"allowed"`
		Code    string `json:"code"`
	}) {
		json.Unmarshal(p.must(t, 200, "GET", "/v1/accounts/acme/users/ann/check?feature=channel.email", nil), &d)
		return d
	}
	if d := decision(b); d.Allowed || d.Code != "no_license" {
		t.Fatalf("before: %+v", d) // b has now cached ann without a license
	}
	a.must(t, 201, "PUT", "/v1/accounts/acme/users/ann/licenses/premium", nil)
	changed := time.Now()
	for !decision(b).Allowed {
		if time.Since(changed) > time.Second {
			t.Fatal("the other process still refuses one second after the assignment")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// And back: an unassignment through the third process.
	ps[2].must(t, 204, "DELETE", "/v1/accounts/acme/users/ann/licenses/premium", nil)
	changed = time.Now()
	for decision(b).Allowed {
		if time.Since(changed) > time.Second {
			t.Fatal("the other process still allows one second after the unassignment")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBurstAcrossProcesses: 450 clients at once read through three
// processes, more requests than PostgreSQL (max_connections 100 by
// default) has connections for. Each process waits for one of its own
// few connections: every answer is a 200, none a 500 for "too many
// clients".
func TestBurstAcrossProcesses(t *testing.T) {
	ps := threeProcesses(t)
	ps[0].must(t, 201, "PUT", "/v1/accounts/burst", map[string]string{"name": "Burst", "region": "us"})
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for c := range 450 {
		wg.Go(func() {
			for range 10 {
				req, _ := http.NewRequest("GET", ps[c%3].base+"/v1/accounts/burst/users?limit=1000", nil)
				req.Header.Set("Authorization", "Bearer "+testOperatorSecret)
				status := 0
				if res, err := client.Do(req); err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					status = res.StatusCode
				}
				mu.Lock()
				counts[status]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if counts[200] != 4500 {
		t.Errorf("answers by status: %v, want 4500 × 200", counts)
	}
}
