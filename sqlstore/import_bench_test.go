package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore/sqlstoretest"
)

// BenchmarkImport10k imports batches of 10,000 presence events (5,000
// presences of 4–9 hours in a month of 10,000 agents) into one account.
func BenchmarkImport10k(b *testing.B) {
	s := sqlstoretest.Open(b, "")
	ctx := context.Background()
	mustAccount(b, s, "acme", "contact-center")
	month := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	// Presences are imported into a concurrent plan's pool the account has.
	if _, _, err := s.PutSubscription(ctx, operator, seatkeeper.Subscription{Account: "acme", License: "essentials", Model: "concurrent", Quantity: 10000, StartsAt: month}); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	n := 0
	b.ResetTimer()
	for range b.N {
		batch := make([]seatkeeper.UsageEvent, 0, 10000)
		for len(batch) < 10000 {
			start := month.Add(time.Duration(r.Int64N(int64(30 * 24 * time.Hour))))
			user, session := fmt.Sprintf("a%05d", r.IntN(10000)), fmt.Sprintf("s%08d", n)
			n++
			batch = append(batch,
				seatkeeper.UsageEvent{Type: seatkeeper.EventPresenceStart, User: user, License: "essentials", Kind: "work_session", Session: session, At: start},
				seatkeeper.UsageEvent{Type: seatkeeper.EventPresenceEnd, User: user, License: "essentials", Kind: "work_session", Session: session, At: start.Add(5 * time.Hour)})
		}
		if _, err := s.ImportEvents(ctx, operator, "acme", batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "events/s")
}
