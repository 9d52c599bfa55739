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
