package sqlstore_test

import (
	"context"
	"sync"
	"testing"

	"github.com/seatkeeper/seatkeeper/sqlstore"
	"github.com/seatkeeper/seatkeeper/sqlstore/sqlstoretest"
)

// TestCountersLockInOneOrder: two processes' writes, one taking a place
// of pool a and freeing one of pool b, the other the reverse, lock the two
// rows in the same order, takes and frees alike, and so never wait for
// each other: PostgreSQL would find the deadlock only after a second and
// fail one of them. A trigger makes each update wait, so that both are
// inside their statement at once.
func TestCountersLockInOneOrder(t *testing.T) {
	dsn := sqlstoretest.PostgresDSN(t)
	ctx := context.Background()
	s1, s2 := sqlstoretest.Open(t, dsn), sqlstoretest.Open(t, dsn)
	for _, q := range []string{
		"INSERT INTO pools (account, license, in_use, cap) VALUES ('a', 'p', 5, 100), ('b', 'p', 5, 100)",
		`CREATE FUNCTION slow_update() RETURNS trigger AS $$ BEGIN PERFORM pg_sleep(0.2); RETURN NEW; END $$ LANGUAGE plpgsql`,
		"CREATE TRIGGER slow_update BEFORE UPDATE ON pools FOR EACH ROW EXECUTE FUNCTION slow_update()",
	} {
		if err := s1.ExecForTest(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range []*sqlstore.Store{s1, s2} {
		take, free := "a", "b"
		if i == 1 {
			take, free = "b", "a"
		}
		wg.Go(func() {
			errs[i] = s.WriteForTest(ctx, true, func(x sqlstore.TestTx) error {
				x.Count(take, "p", +1)
				x.Count(free, "p", -1)
				return nil
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
	var a, b int
	if err := s1.WriteForTest(ctx, true, func(x sqlstore.TestTx) (err error) {
		if a, err = x.Int("SELECT in_use FROM pools WHERE account = 'a'"); err == nil {
			b, err = x.Int("SELECT in_use FROM pools WHERE account = 'b'")
		}
		return err
	}); err != nil || a != 5 || b != 5 {
		t.Errorf("in use: a %d, b %d (%v); want 5 and 5", a, b, err)
	}
}
