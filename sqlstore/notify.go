package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// listen follows the other server processes' changes through PostgreSQL
// LISTEN/NOTIFY. Whenever the connection is (re)established, everything is
// reported changed, since notifications sent while it was down are lost.
func (s *Store) listen(dsn string) {
	ctx, cancel := context.WithCancel(context.Background())
	s.stopListen, s.listenDone = cancel, make(chan struct{})
	ready := make(chan struct{})
	go func() {
		defer close(s.listenDone)
		first := true
		for ctx.Err() == nil {
			err := s.listenOnce(ctx, dsn, func() {
				if first {
					close(ready)
					first = false
				} else {
					s.emit(Change{})
				}
			})
			if ctx.Err() != nil {
				return
			}
			_ = err
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
	}
}

func (s *Store) listenOnce(ctx context.Context, dsn string, connected func()) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN seatkeeper"); err != nil {
		return err
	}
	connected()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		account, user, _ := strings.Cut(n.Payload, "\x1f")
		s.emit(Change{Account: account, User: user})
	}
}
