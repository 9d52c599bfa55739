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

// machineTicks counts the machine's busy time within its total, and both
// grow while a core spins.
func TestMachineTicks(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc")
	}
	busy0, all0 := machineTicks()
	for end := time.Now().Add(100 * time.Millisecond); time.Now().Before(end); {
	}
	busy1, all1 := machineTicks()
	if all0 <= 0 || busy0 > all0 || busy1 > all1 {
		t.Fatalf("busy %d of %d, then %d of %d", busy0, all0, busy1, all1)
	}
	// 100 ms of one core spinning is 10 ticks; allow for tick rounding.
	if busy1-busy0 < 5 || all1-all0 < busy1-busy0 {
		t.Errorf("over 100 ms of spinning: busy grew by %d ticks of %d", busy1-busy0, all1-all0)
	}
}
