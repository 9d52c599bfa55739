package sqlstore

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestPreparedKeepsSmallBatches: on SQLite a statement is prepared once
// and kept, a batch statement too while it has at most maxPreparedRows
// rows and any statement while it has at most maxPreparedArgs
// placeholders; larger ones are run unprepared. Temporary files (the
// savepoints' statement journal) stay in memory.
func TestPreparedKeepsSmallBatches(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "", t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	batch := func(n int) string {
		var args []any
		return "SELECT count(*) FROM users WHERE (account, id) IN (VALUES " + rowsOf(slices.Repeat([][]any{{"a", "b"}}, n), &args) + ")"
	}
	list := func(n int) string {
		return "SELECT count(*) FROM users WHERE id IN (" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
	}
	for _, c := range []struct {
		q    string
		kept bool
	}{
		{batch(1), true},
		{batch(maxPreparedRows), true},
		{batch(maxPreparedRows + 1), false},
		{list(maxPreparedArgs), true},
		{list(maxPreparedArgs + 1), false},
	} {
		s.prepared(ctx, c.q) // prepares it aside, if it is to be kept
		s.preparing.Wait()
		if got := s.prepared(ctx, c.q) != nil; got != c.kept {
			t.Errorf("kept %v, want %v: %.90s…", got, c.kept, c.q)
		}
	}
	var store int
	if err := s.db.QueryRowContext(ctx, "PRAGMA temp_store").Scan(&store); err != nil || store != 2 {
		t.Errorf("temp_store = %d, %v; want 2 (memory)", store, err)
	}
}
