package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

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
