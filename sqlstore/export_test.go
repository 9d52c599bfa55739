package sqlstore

import "context"

// ExecForTest runs a statement behind the store's back: tests use it to
// tamper with what no API may change.
func (s *Store) ExecForTest(ctx context.Context, q string, args ...any) error {
	_, err := s.db.ExecContext(ctx, s.rebind(q), args...)
	return err
}
