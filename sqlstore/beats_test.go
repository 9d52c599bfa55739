package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

// TestR6_HeartbeatsRaceSignOuts: sixteen goroutines heartbeat 40 sessions
// through two stores on PostgreSQL (two processes, each running several
// heartbeat batches at once) while each session is signed out partway,
// and the clock moves on. A goroutine's acknowledged expiries of a session
// never go back; a heartbeat begun after its session's sign-out returned
// gets session_ended; each session ends once in the ledger, at its
// sign-out; and the pool is empty afterwards (R6, R4).
func TestR6_HeartbeatsRaceSignOuts(t *testing.T) {
	eachProcesses(t, func(t *testing.T, stores []*sqlstore.Store) {
		ctx := context.Background()
		c := newClock()
		for _, st := range stores {
			st.Now = c.Now
		}
		const n = 40
		poolAccount(t, stores[0], n, 0, n)
		start := c.Now()
		ids := make([]string, n)
		for i := range n {
			sess, err := signIn(stores[i%len(stores)], fmt.Sprintf("u%d", i), seatkeeper.KindWorkSession)
			if err != nil {
				t.Fatal(err)
			}
			ids[i] = sess.ID
		}

		var mu sync.Mutex
		signedOut := make([]bool, n)       // the sign-out has returned
		endedAt := make([]time.Time, n)    // the clock when it returned
		endedAfter := make([]time.Time, n) // the clock when it began
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(w), 6))
				last := make([]time.Time, n)
				for range 150 {
					c.Add(10 * time.Millisecond) // 24 s in all: no session times out
					i := r.IntN(n)
					st := stores[r.IntN(len(stores))]
					if r.IntN(40) == 0 {
						mu.Lock()
						out := signedOut[i] || !endedAfter[i].IsZero()
						if !out {
							endedAfter[i] = c.Now()
						}
						mu.Unlock()
						if out {
							continue
						}
						if err := st.EndSession(ctx, operator, "acme", ids[i]); err != nil {
							t.Errorf("sign-out of %s: %v", ids[i], err)
						}
						mu.Lock()
						signedOut[i], endedAt[i] = true, c.Now()
						mu.Unlock()
						continue
					}
					mu.Lock()
					after := signedOut[i]
					mu.Unlock()
					got, err := st.Heartbeat(ctx, "acme", ids[i])
					switch {
					case after && code(err) != seatkeeper.ESessionEnded:
						t.Errorf("heartbeat of %s after its sign-out: %+v, %v; want session_ended", ids[i], got, err)
					case err == nil && got.ExpiresAt.Before(last[i]):
						t.Errorf("heartbeat of %s acknowledged expiry %v after %v", ids[i], got.ExpiresAt, last[i])
					case err == nil:
						last[i] = got.ExpiresAt
					case code(err) != seatkeeper.ESessionEnded:
						t.Errorf("heartbeat of %s: %v", ids[i], err)
					}
				}
			})
		}
		wg.Wait()
		for i := range n {
			if !signedOut[i] {
				endedAfter[i] = c.Now()
				if err := stores[0].EndSession(ctx, operator, "acme", ids[i]); err != nil {
					t.Fatal(err)
				}
				endedAt[i] = c.Now()
			}
		}

		events, err := stores[0].UsageEvents(ctx, "acme", start, c.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		ends := map[string][]time.Time{}
		for _, e := range events {
			if e.Type == seatkeeper.EventPresenceEnd {
				ends[e.Session] = append(ends[e.Session], e.At)
			}
		}
		for i, id := range ids {
			at := ends[id]
			if len(at) != 1 {
				t.Errorf("session %s ends %d times in the ledger: %v", id, len(at), at)
				continue
			}
			if at[0].Before(endedAfter[i]) || at[0].After(endedAt[i]) {
				t.Errorf("session %s ends at %v in the ledger, signed out between %v and %v", id, at[0], endedAfter[i], endedAt[i])
			}
		}
		for _, st := range stores {
			pools, err := st.Pools(ctx, "acme")
			if err != nil || len(pools) != 1 || pools[0].InUse != 0 {
				t.Errorf("pools = %+v (%v), want none in use", pools, err)
			}
		}
	})
}
