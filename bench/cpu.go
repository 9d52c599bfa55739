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
// PostgreSQL, the database's processes) spend per request of a phase: on a
// machine whose speed varies from run to run, a steadier measure of the
// work a request costs than its rate.
type cpuMeter struct {
	pids     []int
	label    string // what pids are
	postgres bool
	servers  time.Duration
	pg       time.Duration
}

// clockTick is the unit of /proc's CPU times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

func newCPUMeter(pids []int, label string, postgres bool) *cpuMeter {
	m := &cpuMeter{pids: pids, label: label, postgres: postgres}
	m.servers, m.pg = m.read()
	return m
}

func (m *cpuMeter) read() (servers, pg time.Duration) {
	for _, pid := range m.pids {
		servers += procCPU(strconv.Itoa(pid), "")
	}
	if m.postgres {
		dirs, _ := filepath.Glob("/proc/[0-9]*")
		for _, d := range dirs {
			pg += procCPU(filepath.Base(d), "postgres")
		}
	}
	return servers, pg
}

// report writes the CPU time per request since the last report.
func (m *cpuMeter) report(w io.Writer, r Result) {
	servers, pg := m.read()
	if r.Requests == 0 {
		return
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(r.Requests) }
	line := fmt.Sprintf("  CPU per request: %s %.0f µs", m.label, per(servers-m.servers))
	if m.postgres {
		line += fmt.Sprintf(", postgres %.0f µs", per(pg-m.pg))
	}
	fmt.Fprintln(w, line)
	m.servers, m.pg = servers, pg
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
