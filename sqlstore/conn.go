package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// conn is what a transaction runs its statements on: a database/sql
// transaction (SQLite, and reads), or, for PostgreSQL's writes, a pgx
// connection whose transaction is begun by hand. There, statements whose
// answer is not needed — BEGIN, SAVEPOINT, SET LOCAL, row locks, the last
// insert before COMMIT — and one-row reads whose answer can wait (queueRow)
// wait in pending and go out with the next statement, as one pgx batch:
// one round trip instead of several. An error
// of a pending statement comes back as the next statement's, and leaves
// the transaction aborted, so that nothing after it commits. pgx prepares
// the batch's statements it has not seen before sending any of it, so a
// statement PostgreSQL cannot even parse (a bug, not a refusal: those
// come when a statement runs) fails its whole transaction: a SAVEPOINT
// pending with it was never taken.
type conn struct {
	sql     *sql.Tx
	pg      *pgx.Conn
	pending []pending
}

// pending is a statement waiting to go out with the next one; row, if
// set, takes its answer (see queueRow).
type pending struct {
	stmt
	row *queuedRow
}

// queuedRow is the answer of a one-row read sent with the next statement:
// read it with scan.
type queuedRow struct {
	c    *conn
	dest []any
	err  error
	done bool
}

// rows and row are a statement's answer, from database/sql or from pgx.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

type row interface{ Scan(dest ...any) error }

// begin runs fn in a write transaction; fn commits (conn.commit), and
// the transaction is rolled back if fn fails.
func (s *Store) begin(ctx context.Context, fn func(*conn) error) error {
	run := func(c *conn) error {
		err := fn(c)
		if err != nil {
			c.rollback(ctx)
		}
		return err
	}
	if !s.postgres {
		sqlTx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		err = run(&conn{sql: sqlTx})
		if err == nil {
			s.committed()
		}
		return err
	}
	sc, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer sc.Close()
	// A connection given back in a transaction (fn panicked, or the
	// rollback failed) is closed by the driver, not reused.
	return sc.Raw(func(dc any) error {
		c := &conn{pg: dc.(*stdlib.Conn).Conn()}
		c.queue(ctx, "BEGIN")
		return run(c)
	})
}

// queue runs a statement whose answer is not needed: on PostgreSQL's
// writes, with the next statement.
func (c *conn) queue(ctx context.Context, q string, args ...any) error {
	if c.pg == nil {
		_, err := c.sql.ExecContext(ctx, q, args...)
		return err
	}
	c.pending = append(c.pending, pending{stmt: stmt{q, args}})
	return nil
}

// queueRow reads one row into dest with the next statement (see
// tx.queueRow). Its answer is there once queuedRow.scan returns.
func (c *conn) queueRow(q string, args []any, dest ...any) *queuedRow {
	r := &queuedRow{c: c, dest: dest}
	c.pending = append(c.pending, pending{stmt{q, args}, r})
	return r
}

// scan waits for the row, sending it (and what waits with it) if nothing
// has gone out since, and returns its error: sql.ErrNoRows if there was
// none.
func (r *queuedRow) scan(ctx context.Context) error {
	if !r.done {
		if err := r.c.flushPending(ctx); err != nil {
			return err
		}
	}
	if !r.done {
		return errors.New("sqlstore: a queued read was dropped with its transaction")
	}
	return r.err
}

// flushPending sends the pending statements on their own.
func (c *conn) flushPending(ctx context.Context) error {
	if len(c.pending) == 0 {
		return nil
	}
	last := c.pending[len(c.pending)-1]
	c.pending = c.pending[:len(c.pending)-1]
	br, err := c.send(ctx, last.q, last.args)
	if err != nil {
		if last.row != nil {
			last.row.err, last.row.done = err, true
		}
		return err
	}
	err = c.answer(br, last)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// answer reads the answer of one pending statement.
func (c *conn) answer(br pgx.BatchResults, p pending) error {
	if p.row == nil {
		_, err := br.Exec()
		return err
	}
	p.row.err, p.row.done = br.QueryRow().Scan(p.row.dest...), true
	if errors.Is(p.row.err, pgx.ErrNoRows) {
		return nil // the read's own answer, not a failure of the batch
	}
	return p.row.err
}

// send sends the pending statements and q in one batch, and reads the
// pending statements' answers.
func (c *conn) send(ctx context.Context, q string, args []any) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	for _, p := range c.pending {
		b.Queue(p.q, p.args...)
	}
	b.Queue(q, args...)
	sent := c.pending
	c.pending = nil
	br := c.pg.SendBatch(ctx, b)
	for i, p := range sent {
		if err := c.answer(br, p); err != nil {
			br.Close()
			for _, p := range sent[i+1:] {
				if p.row != nil {
					p.row.err, p.row.done = err, true
				}
			}
			return nil, err
		}
	}
	return br, nil
}

func (c *conn) pgExec(ctx context.Context, q string, args []any) (pgconn.CommandTag, error) {
	if len(c.pending) == 0 {
		return c.pg.Exec(ctx, q, args...)
	}
	br, err := c.send(ctx, q, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (c *conn) pgQuery(ctx context.Context, q string, args []any) (rows, error) {
	if len(c.pending) == 0 {
		r, err := c.pg.Query(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		return pgRows{Rows: r}, nil
	}
	br, err := c.send(ctx, q, args)
	if err != nil {
		return nil, err
	}
	r, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return pgRows{r, br}, nil
}

func (c *conn) pgQueryRow(ctx context.Context, q string, args []any) row {
	if len(c.pending) == 0 {
		return c.pg.QueryRow(ctx, q, args...)
	}
	br, err := c.send(ctx, q, args)
	return pgRow{br, err}
}

// pgRows closes the batch it came in, if any, with itself.
type pgRows struct {
	pgx.Rows
	br pgx.BatchResults
}

func (r pgRows) Close() error {
	r.Rows.Close()
	err := r.Rows.Err()
	if r.br != nil {
		if cerr := r.br.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

type pgRow struct {
	br  pgx.BatchResults
	err error
}

func (r pgRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	err := r.br.QueryRow().Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

// pgResult is a pgx command tag as a sql.Result.
type pgResult pgconn.CommandTag

func (r pgResult) LastInsertId() (int64, error) {
	return 0, fmt.Errorf("sqlstore: no LastInsertId on PostgreSQL")
}

func (r pgResult) RowsAffected() (int64, error) { return pgconn.CommandTag(r).RowsAffected(), nil }

// commit sends the pending statements and COMMIT.
func (c *conn) commit(ctx context.Context) error {
	if c.pg == nil {
		return c.sql.Commit()
	}
	tag, err := c.pgExec(ctx, "COMMIT", nil)
	if err == nil && tag.String() != "COMMIT" {
		// PostgreSQL answers COMMIT of a failed transaction with ROLLBACK.
		err = fmt.Errorf("sqlstore: the transaction was rolled back (%s)", tag)
	}
	return err
}

// rollbackTo goes back to a savepoint, at once: after an error the
// transaction takes nothing else, not even the preparing of a statement
// that would go out with it.
func (c *conn) rollbackTo(savepoint string) error {
	ctx := context.Background()
	if c.pg == nil {
		_, err := c.sql.ExecContext(ctx, "ROLLBACK TO "+savepoint)
		return err
	}
	_, err := c.pgExec(ctx, "ROLLBACK TO "+savepoint, nil)
	return err
}

// rollback undoes the transaction, if it was begun at all.
func (c *conn) rollback(ctx context.Context) {
	if c.pg == nil {
		c.sql.Rollback()
		return
	}
	if len(c.pending) > 0 && c.pending[0].q == "BEGIN" {
		c.pending = nil // never sent
		return
	}
	c.pending = nil
	// Even for a request that has gone: pgx sends nothing on a context
	// that is done, and the connection would go back to the pool in the
	// transaction, holding its row locks. Should it fail, the connection
	// is closed (and so discarded: stdlib checks before reuse).
	if _, err := c.pg.Exec(context.WithoutCancel(ctx), "ROLLBACK"); err != nil {
		c.pg.Close(context.WithoutCancel(ctx))
	}
}
