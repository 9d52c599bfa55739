package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/seatkeeper/seatkeeper/sqlstore/sqlstoretest"
)

// TestBenchSigninOnProcesses runs a small `seatkeeper bench signin` on
// PostgreSQL with two server processes: every phase answers without a
// failure, and the heartbeats are measured both ways the issue's "per
// process" can be read — all processes loaded at once, and each alone
// while the others are up.
func TestBenchSigninOnProcesses(t *testing.T) {
	dsn := sqlstoretest.PostgresDSN(t)
	if testing.Short() {
		t.Skip("starts server processes")
	}
	out, err := exec.Command(buildBinary(t), "bench", "signin", "--db", dsn, "--processes", "2",
		"--agents", "200", "--clients", "8", "--heartbeat-clients", "16", "--duration", "300ms").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"store postgres, 2 processes",
		"heartbeats per process, all loaded at once:",
		"heartbeats, process 1 alone",
		"heartbeats, process 2 alone",
		"p99 sign-in at half the maximum rate:",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in:\n%s", want, text)
		}
	}
	if !regexp.MustCompile(`each alone with the others up: [1-9]\d*/s, [1-9]\d*/s \(`).MatchString(text) {
		t.Errorf("no rate for each process alone:\n%s", text)
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "req/s") && !strings.Contains(line, " 0 failed)") {
			t.Errorf("failures: %s", line)
		}
	}
}
