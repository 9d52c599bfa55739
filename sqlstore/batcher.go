package sqlstore

import (
	"context"
	"errors"
	"sync"
	"time"
)

// batcher gathers requests of one kind (heartbeats, sign-ins) and hands
// every one waiting when the previous batch finishes to run, together:
// many requests become a few statements of one write. With a linger, a
// batch once begun also waits that long for more (up to max).
type batcher[T any] struct {
	mu      sync.RWMutex // held to read closed and send; Lock to close
	closed  bool
	queue   chan T
	done    chan struct{} // closed by close
	stopped chan struct{} // closed when the loop has run what was queued
	max     int
	linger  time.Duration // how long a batch waits for more, once begun
	run     func([]T)
	// parallel is how many batches may run at once (0 or 1: one after
	// the other). Like linger, it is set before the first submit.
	parallel int
	running  chan struct{} // a token for each batch running, with parallel
}

func newBatcher[T any](max int, run func([]T)) *batcher[T] {
	b := &batcher[T]{queue: make(chan T, 8192), done: make(chan struct{}), stopped: make(chan struct{}), max: max, run: run}
	go b.loop()
	return b
}

// errClosed is submit's answer once close has begun.
var errClosed = errors.New("store closed")

// submit queues x; once queued, run will see it. After close it queues
// nothing and says so.
func (b *batcher[T]) submit(ctx context.Context, x T) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return errClosed
	}
	select {
	case b.queue <- x:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *batcher[T]) loop() {
	defer close(b.stopped)
	defer b.waitRunning()
	closing := false
	for {
		var batch []T
		if !closing {
			select {
			case x := <-b.queue:
				batch = append(batch, x)
			case <-b.done:
				// What was queued before close is still run; nothing
				// more can be (see submit).
				closing = true
			}
		}
		batch = b.drain(batch)
		if len(batch) == 0 {
			return // closing, and all was run
		}
		if b.linger > 0 && !closing && len(batch) < b.max {
			t := time.NewTimer(b.linger)
		wait:
			for len(batch) < b.max {
				select {
				case x := <-b.queue:
					batch = append(batch, x)
				case <-t.C:
					break wait
				case <-b.done:
					closing = true // nothing more can come
					break wait
				}
			}
			t.Stop()
		}
		// With batches at once, wait for a turn; what came meanwhile
		// joins this batch.
		if b.acquire() {
			batch = b.drain(batch)
		}
		b.start(batch)
	}
}

// drain adds to batch what is queued, up to max, without waiting.
func (b *batcher[T]) drain(batch []T) []T {
	for len(batch) < b.max {
		select {
		case x := <-b.queue:
			batch = append(batch, x)
		default:
			return batch
		}
	}
	return batch
}

// acquire waits, when batches may run at once, until fewer than parallel
// are running, takes a turn and says so.
func (b *batcher[T]) acquire() bool {
	if b.parallel <= 1 {
		return false
	}
	if b.running == nil {
		b.running = make(chan struct{}, b.parallel)
	}
	b.running <- struct{}{}
	return true
}

// release gives back a turn that acquire took.
func (b *batcher[T]) release() {
	if b.running != nil {
		<-b.running
	}
}

// start runs batch: on its own goroutine, in the turn acquire took, when
// batches may run at once.
func (b *batcher[T]) start(batch []T) {
	if b.running == nil {
		b.run(batch)
		return
	}
	go func() {
		defer b.release()
		b.run(batch)
	}()
}

// waitRunning waits for the batches running on their own goroutines.
func (b *batcher[T]) waitRunning() {
	for range cap(b.running) {
		b.running <- struct{}{}
	}
}

// close stops the loop once what is queued has run.
func (b *batcher[T]) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	close(b.done)
	<-b.stopped
}
