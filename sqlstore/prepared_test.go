package sqlstore

import (
	"context"
	"testing"
)

// TestPreparedKeepsSmallBatches: on SQLite a statement is prepared once
// and kept, a batch statement too while it has at most maxPreparedRows
// rows; a larger batch is run unprepared, and temporary files (the
// savepoints' statement journal) stay in memory.
func TestPreparedKeepsSmallBatches(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "", t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var args []any
	row := []any{"a", "b"}
	small := "SELECT count(*) FROM users WHERE (account, id) IN (VALUES " + rowsOf([][]any{row}, &args) + ")"
	large := "SELECT count(*) FROM users WHERE (account, id) IN (VALUES " +
		rowsOf(make([][]any, maxPreparedRows+1), &args) + ")"
	s.prepared(ctx, small) // prepares it aside
	s.prepared(ctx, large)
	s.preparing.Wait()
	if s.prepared(ctx, small) == nil {
		t.Errorf("a one-row batch statement was not kept")
	}
	if s.prepared(ctx, large) != nil {
		t.Errorf("a statement of %d rows was kept", maxPreparedRows+1)
	}
	var store int
	if err := s.db.QueryRowContext(ctx, "PRAGMA temp_store").Scan(&store); err != nil || store != 2 {
		t.Errorf("temp_store = %d, %v; want 2 (memory)", store, err)
	}
}
