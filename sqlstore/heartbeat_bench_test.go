package sqlstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/seatkeeper/seatkeeper/sqlstore/sqlstoretest"
)

// BenchmarkHeartbeats sends heartbeats for 1,000 live sessions from 256
// goroutines at once, as agents do: the store's batched path, without HTTP.
func BenchmarkHeartbeats(b *testing.B) {
	s := sqlstoretest.Open(b, "")
	poolAccount(b, s, 1000, 0, 1000)
	var ids []string
	for i := range 1000 {
		sess, err := signIn(s, fmt.Sprintf("u%d", i), "work_session")
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, sess.ID)
	}
	var next atomic.Int64
	b.SetParallelism(128) // 256 goroutines on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := ids[int(next.Add(1))%len(ids)]
			if _, err := s.Heartbeat(context.Background(), "acme", id); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "heartbeats/s")
}
