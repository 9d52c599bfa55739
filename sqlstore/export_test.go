package sqlstore

import "context"

// ExecForTest runs a statement behind the store's back: tests use it to
// tamper with what no API may change.
func (s *Store) ExecForTest(ctx context.Context, q string, args ...any) error {
	_, err := s.db.ExecContext(ctx, s.rebind(q), args...)
	return err
}

// TestTx is a write transaction, for tests of the statements it queues.
type TestTx struct{ t *tx }

// Queue queues a statement whose answer is not needed (see conn).
func (x TestTx) Queue(q string, args ...any) error { return x.t.queue(q, args...) }

// Int reads one integer.
func (x TestTx) Int(q string, args ...any) (n int, err error) {
	err = x.t.queryRow(q, args...).Scan(&n)
	return n, err
}

// WriteForTest runs fn as a write: in a batch of the writer, or alone, in
// a transaction of its own.
func (s *Store) WriteForTest(ctx context.Context, alone bool, fn func(TestTx) error) error {
	w := func(t *tx) error { return fn(TestTx{t}) }
	if alone {
		return s.writeOnce(ctx, w)
	}
	return s.write(ctx, w)
}

// QueueInt reads one integer with the next statement; the function
// returned waits for it.
func (x TestTx) QueueInt(q string, args ...any) func() (int, error) {
	var n int
	r := x.t.queueRow(q, args, &n)
	return func() (int, error) { return n, r.scan(x.t.ctx) }
}

// Count takes (delta > 0) or frees a pool's places at the flush, as a
// sign-in or a sign-out does.
func (x TestTx) Count(account, license string, delta int) {
	x.t.countIn(account, "pools", license, delta)
}

// FillNameKeysForTest runs migration 0015's Go step again, in a
// transaction of its own.
func (s *Store) FillNameKeysForTest(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fillNameKeys(ctx, tx, s.rebind); err != nil {
		return err
	}
	return tx.Commit()
}

// StringForTest reads one string behind the store's back.
func (s *Store) StringForTest(ctx context.Context, q string, args ...any) (v string, err error) {
	err = s.db.QueryRowContext(ctx, s.rebind(q), args...).Scan(&v)
	return v, err
}
