package sqlstore

import (
	"context"
	"time"

	"github.com/seatkeeper/seatkeeper"
)

// UsageEvents implements seatkeeper.UsageService.
func (s *Store) UsageEvents(ctx context.Context, account string, from, to time.Time) ([]seatkeeper.UsageEvent, error) {
	out := []seatkeeper.UsageEvent{}
	err := s.read(ctx, func(t *tx) error {
		rows, err := t.query(`SELECT id, at, type, user_id, license, kind, session, quantity, source FROM usage_events
			WHERE account = ? AND at >= ? AND at < ? ORDER BY id`, account, micros(from), micros(to))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e seatkeeper.UsageEvent
			var at int64
			if err := rows.Scan(&e.ID, &at, &e.Type, &e.User, &e.License, &e.Kind, &e.Session, &e.Quantity, &e.Source); err != nil {
				return err
			}
			e.At = fromMicros(at)
			out = append(out, e)
		}
		return rows.Err()
	})
	return out, err
}
