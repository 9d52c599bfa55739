package bench

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cpuMeter measures the CPU time the server processes (and, on
// PostgreSQL, the database's processes and the bench's own client) spend
// per request of a phase, and how busy the whole machine was: on a machine
// whose speed varies from run to run, a steadier measure of the work a
// request costs than its rate, and the way to tell a rate bound by the
// machine's CPU from one bound by waiting.
type cpuMeter struct {
	pids     []int
	label    string // what pids are
	separate bool   // the servers are other processes than the client, and PostgreSQL is measured
	last     cpuSample
}

// cpuSample is one reading of the counters cpuMeter compares.
type cpuSample struct {
	servers, pg, client time.Duration
	busy, all           int64 // the machine's busy and total ticks
}

// clockTick is the unit of /proc's CPU times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

func newCPUMeter(pids []int, label string, separate bool) *cpuMeter {
	m := &cpuMeter{pids: pids, label: label, separate: separate}
	m.last = m.read()
	return m
}

func (m *cpuMeter) read() cpuSample {
	var s cpuSample
	for _, pid := range m.pids {
		s.servers += procCPU(strconv.Itoa(pid), "")
	}
	if m.separate {
		s.client = procCPU(strconv.Itoa(os.Getpid()), "")
		dirs, _ := filepath.Glob("/proc/[0-9]*")
		for _, d := range dirs {
			s.pg += procCPU(filepath.Base(d), "postgres")
		}
	}
	s.busy, s.all = machineTicks()
	return s
}

// report writes the CPU time per request since the last report, and the
// share of the machine's CPU time that was busy.
func (m *cpuMeter) report(w io.Writer, r Result) {
	now := m.read()
	was := m.last
	m.last = now
	if r.Requests == 0 {
		return
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(r.Requests) }
	line := fmt.Sprintf("  CPU per request: %s %.0f µs", m.label, per(now.servers-was.servers))
	if m.separate {
		line += fmt.Sprintf(", postgres %.0f µs, client %.0f µs", per(now.pg-was.pg), per(now.client-was.client))
	}
	if all := now.all - was.all; all > 0 {
		line += fmt.Sprintf("; machine %.0f%% busy", 100*float64(now.busy-was.busy)/float64(all))
	}
	fmt.Fprintln(w, line)
}

// machineTicks is the busy and total CPU time of all the machine's CPUs
// from /proc/stat, in ticks; idle and iowait are not busy.
func machineTicks() (busy, all int64) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0
	}
	// user nice system idle iowait irq softirq steal; the guest times
	// after them are counted in user time already.
	for i, v := range f[1:min(len(f), 9)] {
		n, _ := strconv.ParseInt(v, 10, 64)
		all += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, all
}

// procCPU is the user and system time of process pid, 0 if it is gone
// or, when comm is set, is not named comm.
func procCPU(pid, comm string) time.Duration {
	data, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	s := string(data)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open || (comm != "" && s[open+1:end] != comm) {
		return 0
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 13 {
		return 0
	}
	// Fields 14 and 15 of the line (utime, stime) are 11 and 12 after
	// the name.
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * clockTick
}
