package sqlstore

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBatcherClose: everything submitted before close runs, once; a
// submit racing close either runs or is refused, and none is left
// waiting unanswered.
func TestBatcherClose(t *testing.T) {
	for range 50 {
		var ran atomic.Int64
		b := newBatcher(16, func(xs []int) {
			ran.Add(int64(len(xs)))
		})
		var accepted atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 100 {
					err := b.submit(context.Background(), 1)
					if err == nil {
						accepted.Add(1)
					} else if !errors.Is(err, errClosed) {
						t.Errorf("submit: %v", err)
						return
					}
				}
			}()
		}
		time.Sleep(time.Microsecond)
		b.close()
		wg.Wait()
		if got, want := ran.Load(), accepted.Load(); got != want {
			t.Fatalf("accepted %d submissions, ran %d", want, got)
		}
		if err := b.submit(context.Background(), 1); !errors.Is(err, errClosed) {
			t.Fatalf("submit after close = %v, want errClosed", err)
		}
	}
}

// TestBatcherLinger: with a linger, what comes within it after a batch's
// first joins that batch; without one, the first runs alone when nothing
// else is waiting.
func TestBatcherLinger(t *testing.T) {
	for _, linger := range []time.Duration{0, 200 * time.Millisecond} {
		sizes := make(chan int, 10)
		b := newBatcher(16, func(xs []int) { sizes <- len(xs) })
		b.linger = linger
		if err := b.submit(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
		// The loop has taken the first and begun its batch.
		for len(b.queue) > 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(5 * time.Millisecond)
		for i := range 4 {
			if err := b.submit(context.Background(), i+1); err != nil {
				t.Fatal(err)
			}
		}
		want := 1
		if linger > 0 {
			want = 5
		}
		if n := <-sizes; n != want {
			t.Errorf("linger %v: first batch of %d, want %d", linger, n, want)
		}
		b.close()
	}
}

// TestBatcherCloseRunsTheQueueInBatches: what is queued when close comes
// runs in batches of up to max, not one by one.
func TestBatcherCloseRunsTheQueueInBatches(t *testing.T) {
	release := make(chan struct{})
	var sizes []int
	b := newBatcher(4, func(xs []int) {
		<-release
		sizes = append(sizes, len(xs))
	})
	for i := range 9 {
		if err := b.submit(context.Background(), i); err != nil {
			t.Fatal(err)
		}
	}
	// The first batch holds the loop until close has begun, with the rest
	// queued.
	go func() {
		for {
			b.mu.RLock()
			closed := b.closed
			b.mu.RUnlock()
			if closed {
				break
			}
			time.Sleep(time.Millisecond)
		}
		close(release)
	}()
	b.close()
	total := 0
	for _, n := range sizes {
		total += n
	}
	if total != 9 || len(sizes) > 3 {
		t.Errorf("batches %v, want 9 items in at most 3 batches of up to 4", sizes)
	}
}

// TestBatcherParallel: with parallel, up to that many batches run at once
// and never more; every item runs once; close waits for the running ones.
func TestBatcherParallel(t *testing.T) {
	const parallel = 3
	var running, most, ran atomic.Int64
	var mu sync.Mutex
	seen := map[int]int{}
	b := newBatcher(4, func(xs []int) {
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		for _, x := range xs {
			seen[x]++
		}
		mu.Unlock()
		ran.Add(int64(len(xs)))
		running.Add(-1)
	})
	b.parallel = parallel
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				if err := b.submit(context.Background(), g*1000+i); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.close()
	if ran.Load() != 800 || len(seen) != 800 {
		t.Fatalf("ran %d items, %d distinct, want 800", ran.Load(), len(seen))
	}
	for x, n := range seen {
		if n != 1 {
			t.Fatalf("item %d ran %d times", x, n)
		}
	}
	if most.Load() != parallel {
		t.Errorf("at most %d batches ran at once, want %d", most.Load(), parallel)
	}
	if running.Load() != 0 {
		t.Errorf("close returned with %d batches running", running.Load())
	}
}
