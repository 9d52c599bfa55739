package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

// TestSQLite_ProcessesShareTheFile: two stores over one SQLite file (two
// server processes, or a command run beside the server) write at once,
// each write reading before it writes. None is refused with
// SQLITE_BUSY: a write waits for the other's lock, and every write lands.
func TestSQLite_ProcessesShareTheFile(t *testing.T) {
	dir := t.TempDir()
	var stores []*sqlstore.Store
	for range 2 {
		s, err := sqlstore.Open(context.Background(), "", dir, catalog.NewSet())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	mustAccount(t, stores[0], "acme", "contact-center")
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		s := stores[w%2]
		wg.Go(func() {
			for i := range each {
				u := seatkeeper.User{Account: "acme", ID: fmt.Sprintf("u%d-%d", w, i), Active: true}
				if _, _, err := s.PutUser(context.Background(), operator, u); err != nil {
					errs <- fmt.Errorf("%s: %w", u.ID, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, s := range stores {
		users, _, err := s.Users(context.Background(), "acme", "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(users) != writers*each {
			t.Errorf("store %d sees %d users, want %d", i, len(users), writers*each)
		}
	}
}

// Close waits for the statements being prepared in the background: once
// it returns, nothing of the store touches its files (a preparation still
// running opened a connection after Close, whose WAL files appeared in a
// directory being removed).
func TestCloseLeavesNoFileTouched(t *testing.T) {
	ctx := context.Background()
	for i := range 25 {
		dir := t.TempDir()
		s, err := sqlstore.Open(ctx, "", dir, catalog.NewSet())
		if err != nil {
			t.Fatal(err)
		}
		// Each read's statement is new to the store, and prepared aside.
		s.Account(ctx, "nobody")
		s.User(ctx, "nobody", "nobody")
		s.Subscriptions(ctx, "nobody")
		s.CountTokens(ctx)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		before := names(t, dir)
		time.Sleep(20 * time.Millisecond)
		if after := names(t, dir); !slices.Equal(before, after) {
			t.Fatalf("run %d: after Close the directory held %v, 20 ms later %v", i, before, after)
		}
	}
}

func names(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, filepath.Base(e.Name()))
	}
	return out
}
