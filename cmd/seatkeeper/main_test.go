package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper/bench"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestHelpListsEveryCommand(t *testing.T) {
	code, out, _ := runCmd(t, "help")
	if code != 0 {
		t.Fatalf("help exited %d", code)
	}
	for _, c := range commands() {
		if !strings.Contains(out, "  "+c.name+" ") {
			t.Errorf("help does not list %q:\n%s", c.name, out)
		}
	}
	for _, c := range commands() {
		if code, _, _ := runCmd(t, c.name, "-h"); code != 0 {
			t.Errorf("%s -h exited %d", c.name, code)
		}
	}
	if code, _, errOut := runCmd(t, "frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, stderr %q", code, errOut)
	}
}

func TestCatalogCheckPresets(t *testing.T) {
	code, out, _ := runCmd(t, "catalog", "check", "../../catalog/presets/contact-center.yaml", "../../catalog/presets/wfo.yaml")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if got, want := strings.Count(out, ": ok\n"), 2; got != want {
		t.Errorf("ok lines = %d, want %d:\n%s", got, want, out)
	}
}

func TestCatalogCheckBrokenPrintsEveryProblem(t *testing.T) {
	code, out, _ := runCmd(t, "catalog", "check", "testdata/broken.yaml", "testdata/missing.yaml")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	want := []string{
		`testdata/broken.yaml:5:3: duplicate key "a.one" in features (first at line 4)`,
		`testdata/broken.yaml:9:21: license base grants unknown feature "a.two"`,
		`testdata/broken.yaml:10:23: license base requires itself, so it could never be held`,
		`testdata/broken.yaml:13:22: max_per_account must be a whole number from 1 to 1000000, not -3`,
		`testdata/broken.yaml:14:16: include cycle: extra → extra`,
		`testdata/missing.yaml:1:1: cannot read the file: no such file or directory`,
	}
	if got := strings.Split(strings.TrimSpace(out), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCatalogShowContactCenterCSV checks the tier table of SPEC §3.1 (R8).
func TestCatalogShowContactCenterCSV(t *testing.T) {
	code, out, errOut := runCmd(t, "catalog", "show", "contact-center", "--format", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if got, want := lines[0], "feature,essentials,premium,elite"; got != want {
		t.Errorf("header = %q, want %q", got, want)
	}
	rows := map[string]string{}
	for _, l := range lines[1:] {
		f, rest, _ := strings.Cut(l, ",")
		rows[f] = rest
	}
	for _, f := range []string{"channel.voice", "channel.video", "channel.chat", "channel.sms", "flow_editor", "ivr",
		"realtime_transcription", "remote_control", "cti_integration", "surveys", "pii_redaction",
		"customer_managed_keys", "ai_companion", "reporting"} {
		if got := rows[f]; got != "yes,yes,yes" {
			t.Errorf("R8 %s = %q, want yes,yes,yes", f, got)
		}
	}
	for _, f := range []string{"channel.email", "channel.social", "outbound_dialer", "cobrowse"} {
		if got := rows[f]; got != "no,yes,yes" {
			t.Errorf("R8 %s = %q, want no,yes,yes", f, got)
		}
	}
	for _, f := range []string{"ai_expert_assist", "qm", "qm.evaluations", "qm.analysis", "wfm", "wfm.scheduling"} {
		if got := rows[f]; got != "addon,addon,yes" {
			t.Errorf("R8 %s = %q, want addon,addon,yes", f, got)
		}
	}
}

func TestCatalogShowWFOCSVHeader(t *testing.T) {
	code, out, _ := runCmd(t, "catalog", "show", "wfo", "--format", "csv")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	header, rest, _ := strings.Cut(out, "\n")
	want := "feature,cr,qm,analytics,analytics_lite,desktop_analytics,monitoring,transcription,interaction_summary,data_management,wfo_access,administration,usage,performance_coaching,bot_analytics,insights_reader,insights_author,wfm"
	if header != want {
		t.Errorf("header = %q, want %q", header, want)
	}
	if !strings.Contains(rest, "\nscreen_recording,no,yes,no,") {
		t.Errorf("† screen_recording must be qm only:\n%s", rest)
	}
}

func TestCatalogShowFormats(t *testing.T) {
	code, out, _ := runCmd(t, "catalog", "show", "testdata/../../../catalog/presets/wfo.yaml", "--format", "json")
	if code != 0 {
		t.Fatalf("show of a file: exit %d", code)
	}
	var m struct {
		Columns []string `json:"columns"`
		Rows    []struct {
			Feature string   `json:"feature"`
			Cells   []string `json:"cells"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Columns) != 17 || len(m.Rows) == 0 || len(m.Rows[0].Cells) != 17 {
		t.Errorf("json matrix has %d columns, %d rows", len(m.Columns), len(m.Rows))
	}
	if code, _, _ := runCmd(t, "catalog", "show", "wfo", "--format", "xml"); code != 2 {
		t.Errorf("unknown format exit %d, want 2", code)
	}
	if code, _, errOut := runCmd(t, "catalog", "show", "nope"); code != 1 || !strings.Contains(errOut, "neither a preset") {
		t.Errorf("unknown catalog: exit %d, %q", code, errOut)
	}
	code, out, _ = runCmd(t, "catalog", "show", "contact-center")
	if code != 0 || !strings.HasPrefix(out, "feature ") || !strings.Contains(out, "channel.email") {
		t.Errorf("table format: exit %d\n%s", code, out)
	}
}

// TestServeDrainsOnSIGTERM runs the real binary, asks it something and
// stops it with SIGTERM: it must exit 0.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", data)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addr := waitListening(t, stderr)

	secret, err := os.ReadFile(filepath.Join(data, "operator-token"))
	if err != nil {
		t.Fatalf("the first start must write the operator token: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(data, "operator-token")); fi.Mode().Perm() != 0o600 {
		t.Errorf("operator-token mode %v, want 0600", fi.Mode().Perm())
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/v1/catalogs/wfo", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(secret)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"name":"wfo"`) {
		t.Fatalf("GET /v1/catalogs/wfo: %d %s", resp.StatusCode, body)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- cmd.Wait() }()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server did not stop after SIGTERM")
	}
}

// TestServeRefusesASecondProcessOnSQLite: a second serve over the SQLite
// store of a running one exits 1 with a message naming PostgreSQL (it
// would never hear of the first's changes); once the first has stopped,
// it starts.
func TestServeRefusesASecondProcessOnSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	data := t.TempDir()
	cmd := exec.Command(buildBinary(t), "serve", "--addr", "127.0.0.1:0", "--data", data)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitListening(t, stderr)

	// Were it not refused, it would serve until stopped, here after 5 s.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	var errOut bytes.Buffer
	code := run(ctx2, []string{"serve", "--addr", "127.0.0.1:0", "--data", data}, io.Discard, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "another seatkeeper serve") || !strings.Contains(errOut.String(), "PostgreSQL") {
		t.Fatalf("second serve: exit %d, stderr %q", code, errOut.String())
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", data}, &out, &errs) }()
	time.Sleep(500 * time.Millisecond) // a refusal would have returned by now
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve after the first was killed: exit %d: %s", code, errs.String())
	}
}

// waitListening returns the address a started server listens on.
func waitListening(t *testing.T, r io.Reader) string {
	t.Helper()
	addr, err := bench.WaitListening(r, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

func TestVersion(t *testing.T) {
	code, out, _ := runCmd(t, "version")
	if code != 0 || !strings.HasPrefix(out, "seatkeeper ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
}

var (
	binDir  string
	binOnce sync.Once
	binErr  error
)

// buildBinary builds the seatkeeper binary once for the tests that run it
// as a separate process.
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "seatkeeper"), ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "seatkeeper")
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "seatkeeper-bin-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestMigrate(t *testing.T) {
	data := t.TempDir()
	for i := range 2 { // the second run finds everything applied
		code, out, errOut := runCmd(t, "migrate", "--data", data)
		if code != 0 || !strings.Contains(out, "migrations applied (sqlite)") {
			t.Fatalf("run %d: exit %d, %q %q", i, code, out, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "seatkeeper.db")); err != nil {
		t.Errorf("no database file: %v", err)
	}
}
