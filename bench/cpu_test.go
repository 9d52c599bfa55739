package bench

import (
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// procCPU reads a process's CPU time from /proc, and only for the named
// process when a name is given: for this process, what getrusage says, to
// the clock tick, after spinning for 100 ms of CPU time (CPU time, not
// wall time: on a busy machine the two part).
func TestProcCPU(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	self := strconv.Itoa(os.Getpid())
	for start := rusageCPU(t); rusageCPU(t)-start < 100*time.Millisecond; {
	}
	lo := rusageCPU(t)
	got := procCPU(self, "")
	hi := rusageCPU(t)
	const tick = 20 * time.Millisecond // two ticks of /proc's 10 ms, either way
	if got < lo-tick || got > hi+tick {
		t.Errorf("CPU time from /proc %v, getrusage %v to %v", got, lo, hi)
	}
	if got := procCPU(self, "no-such-name"); got != 0 {
		t.Errorf("CPU time of a process of another name: %v, want 0", got)
	}
}

// rusageCPU is this process's user and system CPU time, from getrusage.
func rusageCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineTicks counts the machine's busy time within its total, and both
// grow while a core spins.
func TestMachineTicks(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc")
	}
	busy0, all0 := machineTicks()
	for start := rusageCPU(t); rusageCPU(t)-start < 100*time.Millisecond; {
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
