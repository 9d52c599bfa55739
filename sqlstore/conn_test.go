package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper/sqlstore"
)

// Statements whose answer is not needed are queued on PostgreSQL and go
// out with the next one: what they write commits with the transaction, an
// error of theirs fails the statement after them and nothing of the
// transaction commits, and a write that fails after queueing leaves
// nothing behind.
func TestQueuedStatements(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		if err := s.ExecForTest(ctx, "CREATE TABLE queued_test (x INTEGER)"); err != nil {
			t.Fatal(err)
		}
		count := func() int {
			t.Helper()
			var n int
			err := s.WriteForTest(ctx, true, func(x sqlstore.TestTx) (err error) {
				n, err = x.Int("SELECT count(*) FROM queued_test")
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		for _, alone := range []bool{false, true} {
			t.Run(fmt.Sprintf("alone=%v", alone), func(t *testing.T) {
				before := count()
				// Queued last: it goes out with COMMIT, and commits.
				err := s.WriteForTest(ctx, alone, func(x sqlstore.TestTx) error {
					return x.Queue("INSERT INTO queued_test (x) VALUES (?)", 1)
				})
				if err != nil || count() != before+1 {
					t.Fatalf("queued insert: err %v, %d rows, want %d", err, count(), before+1)
				}
				// Read after a queued insert: the read sees it.
				err = s.WriteForTest(ctx, alone, func(x sqlstore.TestTx) error {
					if err := x.Queue("INSERT INTO queued_test (x) VALUES (?)", 2); err != nil {
						return err
					}
					n, err := x.Int("SELECT count(*) FROM queued_test")
					if err == nil && n != before+2 {
						err = fmt.Errorf("read %d rows after the queued insert, want %d", n, before+2)
					}
					return err
				})
				if err != nil || count() != before+2 {
					t.Fatalf("read after queued insert: err %v, %d rows", err, count())
				}
				// A queued statement that fails: the error comes back (from
				// the queue on SQLite, which runs it at once, or from the
				// next statement), and the insert before it is undone.
				errBad := errors.New("no error from the failing statement")
				err = s.WriteForTest(ctx, alone, func(x sqlstore.TestTx) error {
					if err := x.Queue("INSERT INTO queued_test (x) VALUES (?)", 3); err != nil {
						return err
					}
					if err := x.Queue("INSERT INTO no_such_table (x) VALUES (1)"); err != nil {
						return err
					}
					if _, err := x.Int("SELECT count(*) FROM queued_test"); err != nil {
						return err
					}
					return errBad
				})
				if err == nil || errors.Is(err, errBad) || count() != before+2 {
					t.Fatalf("failing queued statement: err %v, %d rows, want %d", err, count(), before+2)
				}
				// Queued reads: answered with the next statement, or on
				// their own when nothing follows; a read of no row says so.
				err = s.WriteForTest(ctx, alone, func(x sqlstore.TestTx) error {
					first := x.QueueInt("SELECT count(*) FROM queued_test WHERE x <= ?", 2)
					none := x.QueueInt("SELECT x FROM queued_test WHERE x = ?", 99)
					if n, err := x.Int("SELECT count(*) FROM queued_test"); err != nil || n != before+2 {
						return fmt.Errorf("count %d, %v", n, err)
					}
					if n, err := first(); err != nil || n != before+2 {
						return fmt.Errorf("queued read: %d, %v", n, err)
					}
					if _, err := none(); !errors.Is(err, sql.ErrNoRows) {
						return fmt.Errorf("queued read of no row: %v", err)
					}
					alone := x.QueueInt("SELECT count(*) FROM queued_test WHERE x <> ?", 99)
					if n, err := alone(); err != nil || n != before+2 {
						return fmt.Errorf("queued read sent alone: %d, %v", n, err)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				// A queued read after a failing queued statement has its error.
				err = s.WriteForTest(ctx, alone, func(x sqlstore.TestTx) error {
					if err := x.Queue("INSERT INTO no_such_table (x) VALUES (1)"); err != nil {
						return err
					}
					read := x.QueueInt("SELECT count(*) FROM queued_test")
					_, err := read()
					return err
				})
				if err == nil {
					t.Fatal("a read queued after a failing statement succeeded")
				}
				// A write that fails after queueing leaves nothing.
				errMine := errors.New("refused")
				err = s.WriteForTest(ctx, alone, func(x sqlstore.TestTx) error {
					if err := x.Queue("INSERT INTO queued_test (x) VALUES (?)", 4); err != nil {
						return err
					}
					return errMine
				})
				if !errors.Is(err, errMine) || count() != before+2 {
					t.Fatalf("failed write: err %v, %d rows, want %d", err, count(), before+2)
				}
			})
		}
	})
}

// A write that fails on the database (a unique violation), in a batch
// with others, is undone alone: the writes after it in the batch, even
// ones whose statements the connection has never prepared, succeed.
func TestFailedWriteInBatch(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		for _, q := range []string{"CREATE TABLE batch_test (x INTEGER)", "CREATE TABLE batch_taken (x INTEGER PRIMARY KEY)", "INSERT INTO batch_taken (x) VALUES (1)"} {
			if err := s.ExecForTest(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		const n = 64
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = s.WriteForTest(ctx, false, func(x sqlstore.TestTx) error {
					if i%2 == 1 {
						_, err := x.Int("INSERT INTO batch_taken (x) VALUES (?) RETURNING x", 1)
						return err
					}
					// A statement no write ran before.
					if _, err := x.Int(fmt.Sprintf("SELECT count(*) FROM batch_test WHERE x <> %d", i)); err != nil {
						return err
					}
					return x.Queue("INSERT INTO batch_test (x) VALUES (?)", i)
				})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if (err != nil) != (i%2 == 1) {
				t.Errorf("write %d: %v", i, err)
			}
		}
		err := s.WriteForTest(ctx, true, func(x sqlstore.TestTx) error {
			got, err := x.Int("SELECT count(*) FROM batch_test")
			if err == nil && got != n/2 {
				err = fmt.Errorf("%d rows, want %d", got, n/2)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// A write whose request goes away midway is rolled back on the spot: its
// connection does not go back to the pool in the transaction, holding
// row locks that other processes' writes wait for.
func TestCancelledWriteReleasesLocks(t *testing.T) {
	eachProcesses(t, func(t *testing.T, stores []*sqlstore.Store) {
		bg := context.Background()
		first, other := stores[0], stores[len(stores)-1]
		for _, q := range []string{"CREATE TABLE cancel_test (id INTEGER PRIMARY KEY, n INTEGER)", "INSERT INTO cancel_test (id, n) VALUES (1, 0)"} {
			if err := first.ExecForTest(bg, q); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithCancel(bg)
		err := first.WriteForTest(ctx, true, func(x sqlstore.TestTx) error {
			if _, err := x.Int("UPDATE cancel_test SET n = n + 1 WHERE id = ? RETURNING n", 1); err != nil {
				return err
			}
			cancel() // the client goes away
			_, err := x.Int("SELECT n FROM cancel_test WHERE id = ?", 1)
			return err
		})
		if err == nil {
			t.Fatal("a write whose context ended succeeded")
		}
		// The row is free, and the update was undone.
		wctx, stop := context.WithTimeout(bg, 5*time.Second)
		defer stop()
		var n int
		err = other.WriteForTest(wctx, true, func(x sqlstore.TestTx) (err error) {
			n, err = x.Int("UPDATE cancel_test SET n = n + 10 WHERE id = ? RETURNING n", 1)
			return err
		})
		if err != nil || n != 10 {
			t.Fatalf("update after the cancelled write: n = %d, %v (want 10)", n, err)
		}
	})
}
