package sqlstore

import (
	"context"
	"time"
)

// checkpointer copies SQLite's write-ahead log into the database file
// beside the writer. SQLite's automatic checkpoint runs inside the commit
// that crosses its threshold, so the writer, and every request waiting
// for it, would wait for the copy and for the database file's fsync. Here
// a commit only kicks the checkpointer; it checkpoints at most once per
// checkpointEvery, and not at all while nothing is written. Its
// checkpoints are PASSIVE: they copy what no reader still needs and block
// no one.
//
// The log is reused from its start only by a write that begins when all
// of it has been copied, which a writer writing without a pause seldom
// does: the automatic checkpoint is kept, with a threshold 16 times
// SQLite's (Open), so that the log stays bounded. When a commit crosses
// it, the checkpointer has copied all but the last moments of the log,
// and the commit's checkpoint has little left to copy.
type checkpointer struct {
	kick chan struct{}
	stop context.CancelFunc // interrupts a checkpoint too
	done chan struct{}
}

const checkpointEvery = 200 * time.Millisecond

func (s *Store) startCheckpointer() {
	ctx, stop := context.WithCancel(context.Background())
	c := &checkpointer{kick: make(chan struct{}, 1), stop: stop, done: make(chan struct{})}
	s.ckpt = c
	go func() {
		defer close(c.done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-c.kick:
			}
			// An error (another process of the same file checkpointing
			// at the same moment) leaves the log to the next kick.
			s.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
			select {
			case <-ctx.Done():
				return
			case <-time.After(checkpointEvery):
			}
		}
	}()
}

// committed tells the checkpointer, if any, that the log has grown.
func (s *Store) committed() {
	if s.ckpt != nil {
		select {
		case s.ckpt.kick <- struct{}{}:
		default:
		}
	}
}

// stopCheckpointer interrupts a running checkpoint (what it copied
// stays copied); closing the last connection then checkpoints what is
// left, as SQLite always does.
func (s *Store) stopCheckpointer() {
	if s.ckpt != nil {
		s.ckpt.stop()
		<-s.ckpt.done
	}
}
