package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/server"
)

// SigninConfig configures Signin.
type SigninConfig struct {
	DSN       string // "" for SQLite (one in-process server); postgres:// for separate processes
	DataDir   string
	Processes int // server processes on PostgreSQL
	Agents    int
	Clients   int
	// BeatClients send heartbeats: agents heartbeat on their own clocks,
	// so many more are in flight at once than sign-ins in a storm.
	BeatClients int
	Duration    time.Duration // of the heartbeat load
	// PacedRate is the rate of the paced sign-ins; 0 means half the
	// storm's, as the target asks. A fixed rate compares builds at the
	// same load.
	PacedRate float64
	Out       io.Writer
}

// Signin measures a sign-in storm, a heartbeat load and sign-ins at half
// the storm's rate, and on PostgreSQL runs pgbench on a one-row update in
// the same run, as the database's own ceiling for a hot row.
func Signin(ctx context.Context, cfg SigninConfig) error {
	account := seatkeeper.NewID("bench_")
	setup, err := server.Open(ctx, server.Config{DSN: cfg.DSN, DataDir: cfg.DataDir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	if err := setupPool(ctx, setup, account, cfg); err != nil {
		setup.Close()
		return err
	}
	secret := "sk_bench_" + seatkeeper.NewID("")
	var urls []string
	var pids []int
	if cfg.DSN == "" {
		setup.API.OperatorSecretHash = seatkeeper.HashSecret(secret)
		url, stop, err := listen(setup.Handler())
		if err != nil {
			return err
		}
		defer stop()
		defer setup.Close()
		urls, pids = []string{url}, []int{os.Getpid()}
	} else {
		setup.Close()
		for range cfg.Processes {
			p, err := startProcess(ctx, cfg, secret)
			if err != nil {
				return err
			}
			defer p.stop()
			urls, pids = append(urls, p.url), append(pids, p.cmd.Process.Pid)
		}
	}
	store := "sqlite, one process"
	if cfg.DSN != "" {
		store = fmt.Sprintf("postgres, %d processes", cfg.Processes)
	}
	fmt.Fprintf(cfg.Out, "bench signin: store %s, %d agents in a pool of %d, %d clients\n", store, cfg.Agents, cfg.Agents, cfg.Clients)
	auth := "Authorization: Bearer " + secret

	// The storm: every agent signs in once, as fast as the clients can.
	ids := make([]string, cfg.Agents)
	var next atomic.Int64
	signIn := func(ctx context.Context, c *Client, _ int) (bool, error) {
		i := int(next.Add(1) - 1)
		if i >= cfg.Agents {
			return false, nil
		}
		id, err := signInOne(ctx, c, urls[i%len(urls)]+"/v1/accounts/"+account+"/sessions", auth, fmt.Sprintf(`{"user":"a%06d","kind":"work_session"}`, i))
		ids[i] = id
		return true, err
	}
	label := "server and client (one process)"
	if cfg.DSN != "" {
		label = "servers"
	}
	cpu := newCPUMeter(pids, label, cfg.DSN != "")
	storm := Run(ctx, "sign-in storm", cfg.Clients, 0, signIn)
	fmt.Fprintln(cfg.Out, storm)
	cpu.report(cfg.Out, storm)

	// Heartbeats on the live sessions, spread over the processes of to.
	var beatN atomic.Int64
	beatsTo := func(to ...string) Op {
		return func(ctx context.Context, c *Client, _ int) (bool, error) {
			i := int(beatN.Add(1)) % cfg.Agents
			return true, expect(200)(c.Do(ctx, "POST", to[i%len(to)]+"/v1/accounts/"+account+"/sessions/"+ids[i]+"/heartbeat", nil, auth))
		}
	}
	beats := Run(ctx, fmt.Sprintf("heartbeats (%d clients)", cfg.BeatClients), cfg.BeatClients, cfg.Duration, beatsTo(urls...))
	fmt.Fprintln(cfg.Out, beats)
	cpu.report(cfg.Out, beats)
	fmt.Fprintf(cfg.Out, "heartbeats per process, all loaded at once: %.0f/s (target ≥ 20,000/s)\n", beats.Rate()/float64(len(urls)))
	failed := beats.Failed
	if len(urls) > 1 {
		// What each process takes when it alone is sent heartbeats, the
		// others up and sharing the database: all at once, they share
		// the machine's cores, and the load generator's, as well.
		var rates []string
		for i, u := range urls {
			alone := Run(ctx, fmt.Sprintf("heartbeats, process %d alone", i+1), cfg.BeatClients, cfg.Duration, beatsTo(u))
			fmt.Fprintln(cfg.Out, alone)
			cpu.report(cfg.Out, alone)
			rates, failed = append(rates, fmt.Sprintf("%.0f/s", alone.Rate())), failed+alone.Failed
		}
		fmt.Fprintf(cfg.Out, "heartbeats per process, each alone with the others up: %s (target ≥ 20,000/s)\n", strings.Join(rates, ", "))
	}

	// Everyone signs out; then sign-ins paced at half the storm's rate.
	next.Store(0)
	signOut := func(ctx context.Context, c *Client, _ int) (bool, error) {
		i := int(next.Add(1) - 1)
		if i >= cfg.Agents {
			return false, nil
		}
		return true, expect(204)(c.Do(ctx, "DELETE", urls[i%len(urls)]+"/v1/accounts/"+account+"/sessions/"+ids[i], nil, auth))
	}
	outs := Run(ctx, "sign-outs", cfg.Clients, 0, signOut)
	fmt.Fprintln(cfg.Out, outs)
	cpu.report(cfg.Out, outs)
	next.Store(0)
	rate := storm.Rate() / 2
	if cfg.PacedRate > 0 {
		rate = cfg.PacedRate
	}
	pacedR := RunPaced(ctx, fmt.Sprintf("sign-ins at %.0f/s", rate), cfg.Clients, rate, signIn, urls...)
	fmt.Fprintln(cfg.Out, pacedR)
	cpu.report(cfg.Out, pacedR)
	if cfg.PacedRate > 0 {
		fmt.Fprintf(cfg.Out, "p99 sign-in at %.0f/s: %.2f ms\n", rate, ms(pacedR.P99))
	} else {
		fmt.Fprintf(cfg.Out, "p99 sign-in at half the maximum rate: %.2f ms (target < 25 ms)\n", ms(pacedR.P99))
	}

	for _, pid := range pids {
		fmt.Fprintf(cfg.Out, "peak memory of process %d: %s\n", pid, peakMemory(pid))
	}
	if cfg.DSN != "" {
		if rate, err := pgbenchHotRow(ctx, cfg.DSN, cfg.Clients, cfg.Duration); err != nil {
			fmt.Fprintf(cfg.Out, "pgbench: %v\n", err)
		} else {
			fmt.Fprintf(cfg.Out, "pgbench one-row UPDATE, %d clients: %.0f tps (the hot-row ceiling of this server)\n", cfg.Clients, rate)
		}
	}

	// The machine's own ceiling for the heartbeat load: a bare net/http
	// handler answering a heartbeat-sized body, the same client, the same
	// connections. Server processes sharing the machine share it.
	body := []byte(`{"id":"ses_0123456789abcdef","user":"a000001","kind":"work_session","started_at":"2026-11-23T09:00:00Z","expires_at":"2026-11-23T09:03:00Z","pool":"essentials"}` + "\n")
	bareURL, stopBare, err := listen(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	if err != nil {
		return err
	}
	defer stopBare()
	bareCPU := newCPUMeter([]int{os.Getpid()}, "handler and client (one process)", false)
	bare := Run(ctx, fmt.Sprintf("bare net/http POST (%d clients)", cfg.BeatClients), cfg.BeatClients, cfg.Duration,
		func(ctx context.Context, c *Client, _ int) (bool, error) {
			return true, expect(200)(c.Do(ctx, "POST", bareURL+"/", nil, auth))
		})
	fmt.Fprintln(cfg.Out, bare)
	bareCPU.report(cfg.Out, bare)
	fmt.Fprintf(cfg.Out, "heartbeats against the bare handler: %.0f%% of its rate; its rate shared by %d server processes: %.0f/s each\n",
		100*beats.Rate()/bare.Rate(), len(urls), bare.Rate()/float64(len(urls)))
	if storm.Failed > 0 || failed > 0 || pacedR.Failed > 0 {
		return fmt.Errorf("%d sign-ins, %d heartbeats and %d paced sign-ins failed", storm.Failed, failed, pacedR.Failed)
	}
	return nil
}

// setupPool makes an account with a concurrent Essentials pool as large as
// the agents, every agent a member.
func setupPool(ctx context.Context, srv *server.Server, account string, cfg SigninConfig) error {
	st, op := srv.Store, seatkeeper.Actor{TokenKind: seatkeeper.TokenOperator}
	if _, _, err := st.PutAccount(ctx, op, seatkeeper.Account{ID: account, Name: "bench", Region: "us"}); err != nil {
		return err
	}
	if _, _, err := st.PutSubscription(ctx, op, seatkeeper.Subscription{Account: account, License: "essentials", Model: "concurrent", Quantity: cfg.Agents}); err != nil {
		return err
	}
	return parallel(cfg.Clients, cfg.Agents, func(i int) error {
		u := fmt.Sprintf("a%06d", i)
		if _, _, err := st.PutUser(ctx, op, seatkeeper.User{Account: account, ID: u, Active: true}); err != nil {
			return err
		}
		_, _, err := st.AssignLicense(ctx, op, account, u, "essentials", seatkeeper.SourceManual)
		return err
	})
}

// signInOne starts a work session and returns its id.
func signInOne(ctx context.Context, c *Client, url, auth, body string) (string, error) {
	res, err := c.Do(ctx, "POST", url, []byte(body), auth)
	if err = expect(http.StatusCreated)(res, err); err != nil {
		return "", err
	}
	var s struct {
		ID string `json:"id"`
	}
	err = json.Unmarshal(res.Body, &s)
	return s.ID, err
}

type process struct {
	cmd *exec.Cmd
	url string
}

// startProcess starts `seatkeeper serve` (this binary) on the database.
func startProcess(ctx context.Context, cfg SigninConfig, secret string) (*process, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(cfg.DataDir, "proc-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "serve", "--addr", "127.0.0.1:0", "--db", cfg.DSN, "--data", dir)
	cmd.Env = append(os.Environ(), "SEATKEEPER_OPERATOR_TOKEN="+secret)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	addr, err := WaitListening(stderr, 30*time.Second)
	if err != nil {
		cmd.Process.Kill()
		return nil, err
	}
	return &process{cmd: cmd, url: "http://" + addr}, nil
}

// WaitListening reads a `seatkeeper serve` JSON log until its "listening"
// line and returns the address it names; the rest of the log is drained,
// so that the server never blocks on a full pipe.
func WaitListening(log io.Reader, timeout time.Duration) (string, error) {
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(log)
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				found <- line.Addr
				io.Copy(io.Discard, log)
				return
			}
		}
	}()
	select {
	case a := <-found:
		return a, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("the server did not log that it is listening within %s", timeout)
	}
}

func (p *process) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
	}
}

// peakMemory is the process's peak resident set (VmHWM).
func peakMemory(pid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// pgbenchHotRow runs pgbench with every client updating one row.
func pgbenchHotRow(ctx context.Context, dsn string, clients int, d time.Duration) (float64, error) {
	if _, err := exec.LookPath("pgbench"); err != nil {
		return 0, fmt.Errorf("pgbench is not installed")
	}
	setup := exec.CommandContext(ctx, "psql", dsn, "-q", "-c",
		"CREATE TABLE IF NOT EXISTS seatkeeper_bench_hot (id int PRIMARY KEY, n bigint); INSERT INTO seatkeeper_bench_hot VALUES (1, 0) ON CONFLICT DO NOTHING")
	if out, err := setup.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("psql: %v: %s", err, out)
	}
	script, err := os.CreateTemp("", "hot-*.sql")
	if err != nil {
		return 0, err
	}
	defer os.Remove(script.Name())
	script.WriteString("UPDATE seatkeeper_bench_hot SET n = n + 1 WHERE id = 1;\n")
	script.Close()
	cmd := exec.CommandContext(ctx, "pgbench", "-n", "-f", script.Name(), "-c", strconv.Itoa(clients), "-j", "2",
		"-T", strconv.Itoa(max(1, int(d.Seconds()))), dsn)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%v: %s", err, out.String())
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "tps = "); ok {
			f, _, _ := strings.Cut(rest, " ")
			return strconv.ParseFloat(f, 64)
		}
	}
	return 0, fmt.Errorf("no tps in pgbench output: %s", out.String())
}
