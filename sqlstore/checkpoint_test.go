package sqlstore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCheckpointBesideTheWriter: on SQLite the commits checkpoint the log
// themselves only past 16,384 pages, yet what the writer commits (far
// less here) reaches the database file while the store is open, the
// checkpointer having copied it there.
func TestCheckpointBesideTheWriter(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, "", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var auto int
	if err := s.db.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&auto); err != nil || auto != 16384 {
		t.Errorf("wal_autocheckpoint = %d, %v; want 16384", auto, err)
	}
	file := filepath.Join(dir, "seatkeeper.db")
	size := func() int64 {
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	const rows, width = 2000, 4000 // about 8 MB
	if err := s.ExecForTest(ctx, "CREATE TABLE ckpt_test (x TEXT)"); err != nil {
		t.Fatal(err)
	}
	blob := strings.Repeat("x", width)
	for i := 0; i < rows; i += 500 {
		err := s.write(ctx, func(t *tx) error {
			for range 500 {
				if _, err := t.exec("INSERT INTO ckpt_test (x) VALUES (?)", blob); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for size()-before < rows*width && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if grown := size() - before; grown < rows*width {
		t.Errorf("the database file grew %d bytes while open; want ≥ %d", grown, rows*width)
	}
}
