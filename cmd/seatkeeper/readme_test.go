package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeWalkthrough runs the README's curl walkthrough, as written,
// against a fresh server, from a directory laid out as the README assumes
// (the data directory ./seatkeeper-data), and checks the answers it shows.
func TestReadmeWalkthrough(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "<!-- walkthrough -->\n```sh\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("README.md has no walkthrough block")
	}
	work := t.TempDir()
	cmd := exec.Command(buildBinary(t), "serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(work, "seatkeeper-data"))
	cmd.Dir = work
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addr := waitListening(t, stderr)

	// The block as written, but pointed at this server's port.
	script := strings.Replace(block, "SK=http://127.0.0.1:8080", "SK=http://"+addr, 1)
	sh := exec.Command("bash", "-euo", "pipefail", "-c", script)
	sh.Dir = work
	out, err := sh.CombinedOutput()
	if err != nil {
		t.Fatalf("the walkthrough failed: %v\n%s", err, out)
	}
	// Every answer the README shows (the "# →" lines) must come out.
	for _, line := range strings.Split(block, "\n") {
		if want, ok := strings.CutPrefix(line, "# → "); ok && !strings.Contains(string(out), want) {
			t.Errorf("the walkthrough does not print %s\ngot:\n%s", want, out)
		}
	}
}
