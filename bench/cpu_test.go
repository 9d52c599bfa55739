package bench

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// procCPU reads a process's CPU time from /proc, and only for the named
// process when a name is given.
func TestProcCPU(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	self := strconv.Itoa(os.Getpid())
	before := procCPU(self, "")
	for end := time.Now().Add(100 * time.Millisecond); time.Now().Before(end); {
	}
	if after := procCPU(self, ""); after-before < 50*time.Millisecond {
		t.Errorf("CPU time grew by %v over 100 ms of spinning", after-before)
	}
	if got := procCPU(self, "no-such-name"); got != 0 {
		t.Errorf("CPU time of a process of another name: %v, want 0", got)
	}
}
