// Package bench holds the benchmarks run by `seatkeeper bench`: each
// starts what it measures in-process on loopback and measures it beside a
// baseline, in the same run, with the same client.
package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Result is what one load run measured.
type Result struct {
	Name     string
	Requests int
	Failed   int
	Elapsed  time.Duration
	P50, P99 time.Duration
}

// Rate is requests per second.
func (r Result) Rate() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

func (r Result) String() string {
	return fmt.Sprintf("%-28s %9.0f req/s  p50 %7.3f ms  p99 %7.3f ms  (%d requests, %d failed)",
		r.Name, r.Rate(), ms(r.P50), ms(r.P99), r.Requests, r.Failed)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Op is one request of a load run, sent with the worker's own client. It
// returns false when the run should stop (there is no more work), and an
// error when the request failed.
type Op func(ctx context.Context, c *Client, worker int) (more bool, err error)

// Run drives op from workers goroutines, each with its own client, for at
// most d (0: until every worker's op says there is no more work) and
// measures it.
func Run(ctx context.Context, name string, workers int, d time.Duration, op Op) Result {
	return run(ctx, name, workers, d, 0, op)
}

// RunPaced drives op at a steady rate (requests per second) from workers
// goroutines until op says there is no more work. Latency is measured from
// each request's scheduled time, so a server that falls behind shows it.
// Each worker's client connects to the servers of urls before the clock
// starts: what is measured is the requests, not the load generator's own
// connecting (which put the first 40 ms of a run at 20–38 ms each).
func RunPaced(ctx context.Context, name string, workers int, rate float64, op Op, urls ...string) Result {
	return run(ctx, name, workers, 0, rate, op, urls...)
}

func run(ctx context.Context, name string, workers int, d time.Duration, rate float64, op Op, urls ...string) Result {
	if d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	end, _ := ctx.Deadline()
	lat := make([][]time.Duration, workers)
	var failed atomic.Int64
	var slot atomic.Int64
	var wg, connected sync.WaitGroup
	var start time.Time
	begin := make(chan struct{})
	for w := range workers {
		wg.Add(1)
		connected.Add(1)
		go func() {
			defer wg.Done()
			var c Client
			defer c.Close()
			err := c.connect(urls)
			connected.Done()
			<-begin
			if err != nil {
				failed.Add(1)
				return
			}
			buf := make([]time.Duration, 0, 1<<14)
			for ctx.Err() == nil {
				t0 := time.Now()
				if rate > 0 {
					t0 = start.Add(time.Duration(float64(slot.Add(1)-1) / rate * float64(time.Second)))
					time.Sleep(time.Until(t0))
				}
				more, err := op(ctx, &c, w)
				if !more {
					break
				}
				if ctx.Err() != nil || !end.IsZero() && !time.Now().Before(end) {
					break // a request cut short by the deadline is not counted
				}
				if err != nil {
					failed.Add(1)
				}
				buf = append(buf, time.Since(t0))
			}
			lat[w] = buf
		}()
	}
	connected.Wait()
	start = time.Now()
	close(begin)
	wg.Wait()
	all := slices.Concat(lat...)
	slices.Sort(all)
	r := Result{Name: name, Requests: len(all), Failed: int(failed.Load()), Elapsed: time.Since(start)}
	if d > 0 {
		r.Elapsed = d
	}
	if n := len(all); n > 0 {
		r.P50, r.P99 = all[n/2], all[n*99/100]
	}
	return r
}

// Get is an Op that GETs url with the given header lines and expects want.
func Get(url string, want int, header ...string) Op {
	return func(ctx context.Context, c *Client, _ int) (bool, error) {
		return true, expect(want)(c.Do(ctx, "GET", url, nil, header...))
	}
}

// expect turns an answer other than want into an error.
func expect(want int) func(Response, error) error {
	return func(res Response, err error) error {
		if err == nil && res.Status != want {
			err = fmt.Errorf("status %d, want %d: %s", res.Status, want, res.Body)
		}
		return err
	}
}
