package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// tx is a write transaction with the store's helpers. Work that must wait
// for the commit (cache invalidation, notifications) goes in after.
type tx struct {
	*sql.Tx
	ctx     context.Context
	s       *Store
	writing bool
	after   []func()
}

func (t *tx) exec(q string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(t.ctx, t.s.rebind(q), args...)
}

func (t *tx) query(q string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(t.ctx, t.s.rebind(q), args...)
}

func (t *tx) queryRow(q string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(t.ctx, t.s.rebind(q), args...)
}

// forUpdate is the row-lock suffix of a SELECT. SQLite needs none: its
// writes are serialized by the writer.
func (t *tx) forUpdate() string {
	if t.s.postgres && t.writing {
		return " FOR UPDATE"
	}
	return ""
}

// changed queues a change notification for after the commit, and on
// PostgreSQL tells the other processes, atomically with the commit.
func (t *tx) changed(account, user string) error {
	c := Change{Account: account, User: user}
	t.after = append(t.after, func() { t.s.emit(c) })
	if t.s.postgres {
		_, err := t.exec("SELECT pg_notify('seatkeeper', ?)", account+"\x1f"+user)
		return err
	}
	return nil
}

// write runs fn in a write transaction and commits. On PostgreSQL each call
// is its own transaction, retried on serialization failures and deadlocks.
// On SQLite, calls are handed to the single writer, which runs several in
// one transaction (each in a savepoint) and shares one fsync among them.
func (s *Store) write(ctx context.Context, fn func(*tx) error) error {
	if s.writer != nil {
		return s.writer.do(ctx, s, fn)
	}
	for attempt := 0; ; attempt++ {
		err := s.writeOnce(ctx, fn)
		var pe *pgconn.PgError
		if attempt < 5 && errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01") {
			time.Sleep(time.Duration(attempt+1) * time.Millisecond)
			continue
		}
		return err
	}
}

func (s *Store) writeOnce(ctx context.Context, fn func(*tx) error) error {
	sqlTx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	t := &tx{Tx: sqlTx, ctx: ctx, s: s, writing: true}
	if err := fn(t); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return err
	}
	for _, f := range t.after {
		f()
	}
	return nil
}

// read runs fn in a read-only view. Reads need no writer.
func (s *Store) read(ctx context.Context, fn func(*tx) error) error {
	sqlTx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: s.postgres})
	if err != nil {
		return err
	}
	defer sqlTx.Rollback()
	return fn(&tx{Tx: sqlTx, ctx: ctx, s: s})
}

// writer is SQLite's group commit: one goroutine owns the write
// connection; each transaction it opens runs every write waiting at that
// moment, each in a savepoint so that one refused change does not undo the
// others, then commits once for all of them.
type writer struct {
	db    *sql.DB
	queue chan *writeOp
	done  chan struct{}
}

type writeOp struct {
	ctx   context.Context
	s     *Store
	fn    func(*tx) error
	err   error
	after []func()
	ready chan struct{}
}

const maxBatch = 128

func newWriter(db *sql.DB) *writer {
	w := &writer{db: db, queue: make(chan *writeOp, 4096), done: make(chan struct{})}
	go w.loop()
	return w
}

func (w *writer) do(ctx context.Context, s *Store, fn func(*tx) error) error {
	op := &writeOp{ctx: ctx, s: s, fn: fn, ready: make(chan struct{})}
	select {
	case w.queue <- op:
	case <-ctx.Done():
		return ctx.Err()
	case <-w.done:
		return errors.New("store closed")
	}
	<-op.ready // once queued, the op runs: wait for its outcome even if ctx ends
	if op.err != nil {
		return op.err
	}
	for _, f := range op.after {
		f()
	}
	return nil
}

func (w *writer) close() {
	close(w.done)
}

func (w *writer) loop() {
	for {
		var batch []*writeOp
		select {
		case op := <-w.queue:
			batch = append(batch, op)
		case <-w.done:
			return
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case op := <-w.queue:
				batch = append(batch, op)
			default:
				break drain
			}
		}
		w.run(batch)
	}
}

func (w *writer) run(batch []*writeOp) {
	finish := func(err error) {
		for _, op := range batch {
			if err != nil && op.err == nil {
				op.err, op.after = err, nil
			}
			close(op.ready)
		}
	}
	ctx := context.Background()
	sqlTx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		finish(err)
		return
	}
	for _, op := range batch {
		if err := op.ctx.Err(); err != nil {
			op.err = err
			continue
		}
		if _, err := sqlTx.ExecContext(ctx, "SAVEPOINT op"); err != nil {
			sqlTx.Rollback()
			finish(err)
			return
		}
		// Once started, an op runs to its end: a cancelled request must not
		// leave half a change inside the shared transaction.
		t := &tx{Tx: sqlTx, ctx: context.WithoutCancel(op.ctx), s: op.s, writing: true}
		op.err = op.fn(t)
		stmt := "RELEASE op"
		if op.err != nil {
			stmt = "ROLLBACK TO op; RELEASE op"
		} else {
			op.after = t.after
		}
		if _, err := sqlTx.ExecContext(ctx, stmt); err != nil {
			sqlTx.Rollback()
			finish(err)
			return
		}
	}
	finish(sqlTx.Commit())
}
