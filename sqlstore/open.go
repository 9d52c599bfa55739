// Package sqlstore is the store: one implementation of the store contract
// (the service interfaces of package seatkeeper) over database/sql, with two
// dialects: SQLite (the embedded default, modernc.org/sqlite) and PostgreSQL
// (pgx). The SQL is shared; the dialects differ in placeholders, row locks
// and how writes are scheduled (see tx.go).
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQL store. Create it with Open; close it with Close.
type Store struct {
	db       *sql.DB
	postgres bool
	catalogs catalog.Set
	// Now is the clock; tests replace it.
	Now func() time.Time

	writer   *writer            // one goroutine committing batches of writes
	beats    *batcher[*beat]    // heartbeats, batched into one statement
	signIns  *batcher[*signIn]  // sign-ins, admitted a batch at a time
	signOuts *batcher[*signOut] // sign-outs, ended a batch at a time
	accounts accountCache

	stmtMu      sync.Mutex
	stmts       map[string]*sql.Stmt // SQLite's prepared statements (nil: being prepared)
	stmtsClosed bool
	preparing   sync.WaitGroup // statements being prepared aside; Close waits for them
	ckpt        *checkpointer  // SQLite's checkpoints, beside the writer

	mu         sync.Mutex
	listeners  []func(Change)
	stopListen context.CancelFunc
	listenDone chan struct{}
}

// Change says what changed, so that caches of other server processes can
// drop what is stale. User "" means the whole account; Account "" means
// everything (after a lost notification connection).
type Change struct {
	Account string
	User    string
}

// SQLitePath returns the file of the SQLite store that dsn and dataDir
// name (see Open), or ok=false for PostgreSQL.
func SQLitePath(dsn, dataDir string) (path string, ok bool) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return "", false
	case dsn == "":
		return filepath.Join(dataDir, "seatkeeper.db"), true
	}
	return strings.TrimPrefix(dsn, "sqlite:"), true
}

// Open opens (creating if needed) the store named by dsn and applies the
// migrations. A dsn of "" means SQLite in dataDir/seatkeeper.db; a
// "postgres://" or "postgresql://" dsn means PostgreSQL; "sqlite:PATH"
// names a SQLite file.
func Open(ctx context.Context, dsn, dataDir string, catalogs catalog.Set) (*Store, error) {
	s := &Store{catalogs: catalogs, Now: time.Now, stmts: map[string]*sql.Stmt{}}
	var err error
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s.postgres = true
		if s.db, err = sql.Open("pgx", dsn); err != nil {
			return nil, err
		}
	default:
		path, _ := SQLitePath(dsn, dataDir)
		if dsn == "" {
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return nil, fmt.Errorf("data directory: %w", err)
			}
		}
		// WAL lets readers run beside the one writer; synchronous=FULL
		// makes every acknowledged commit durable, and the writer batches
		// commits so that the fsync is shared (see tx.go). Write
		// transactions begin IMMEDIATE: one that began reading would be
		// refused at its first write, without waiting, had another
		// process sharing the file written meanwhile (read transactions
		// are marked read-only and begin as usual). Temporary files stay in
		// memory: above all the statement journal of the savepoint each
		// operation of a batch runs in, which SQLite otherwise moves to a
		// file past 64 KiB and opens, writes and closes in every commit.
		// The log is checkpointed beside the writer (see checkpointer);
		// the commits' own checkpoint waits for 64 MB of log.
		q := "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=cache_size(-32768)&_pragma=mmap_size(1073741824)&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(16384)&_txlock=immediate"
		if s.db, err = sql.Open("sqlite", "file:"+path+q); err != nil {
			return nil, err
		}
		s.db.SetMaxOpenConns(8)
		s.db.SetMaxIdleConns(8)
		s.startCheckpointer()
	}
	s.writer = newWriter()
	s.beats = newBatcher(maxBeats, s.runBeats)
	s.beats.linger = beatLinger
	s.signIns = newBatcher(maxSignIns, s.runSignIns)
	s.signOuts = newBatcher(maxSignOuts, s.runSignOuts)
	if err := s.db.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	if s.postgres {
		// An eighth of the server's connections (2 to 16) per process:
		// eight processes' pools fit a default PostgreSQL (100) at once,
		// and a burst of requests waits for a connection of its process
		// instead of being refused one by the server ("too many
		// clients", a 500). The writer needs one, heartbeat batches
		// up to beatsAtOnce, leaving at least one for reads.
		var limit int
		if err := s.db.QueryRowContext(ctx, "SELECT current_setting('max_connections')::int").Scan(&limit); err != nil {
			s.Close()
			return nil, fmt.Errorf("connect: %w", err)
		}
		n := min(16, max(2, limit/8))
		s.db.SetMaxOpenConns(n)
		s.db.SetMaxIdleConns(n)
		s.beats.parallel = min(beatsAtOnce, n-2)
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if s.postgres {
		s.listen(dsn)
	}
	return s, nil
}

// Close stops the writer and the listener and closes the database.
func (s *Store) Close() error {
	if s.stopListen != nil {
		s.stopListen()
		<-s.listenDone
	}
	s.beats.close()
	s.signIns.close()
	s.signOuts.close()
	s.writer.close()
	s.stopCheckpointer()
	s.stmtMu.Lock()
	s.stmtsClosed = true
	s.stmtMu.Unlock()
	s.preparing.Wait() // else one could open a connection after db.Close
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		if st != nil {
			st.Close()
		}
	}
	s.stmtMu.Unlock()
	return s.db.Close()
}

// Ping checks that the database answers, for /readyz.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Dialect returns "postgres" or "sqlite".
func (s *Store) Dialect() string {
	if s.postgres {
		return "postgres"
	}
	return "sqlite"
}

// OnChange registers fn to be called after every committed change, by this
// process or (PostgreSQL) another one sharing the database.
func (s *Store) OnChange(fn func(Change)) {
	s.mu.Lock()
	s.listeners = append(s.listeners, fn)
	s.mu.Unlock()
}

func (s *Store) emit(c Change) {
	s.mu.Lock()
	ls := s.listeners
	s.mu.Unlock()
	for _, fn := range ls {
		fn(c)
	}
}

// Migrate applies the embedded migrations not yet applied, in order, each
// in its own transaction. Several processes may start at once: PostgreSQL
// serializes them with an advisory lock.
func (s *Store) Migrate(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if s.postgres {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7263001)"); err != nil {
			return err
		}
		defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(7263001)")
	}
	if _, err := conn.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)"); err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	names, err := migrations.ReadDir("migrations")
	if err != nil {
		return err
	}
	var files []string
	for _, n := range names {
		files = append(files, n.Name())
	}
	sort.Strings(files)
	for _, name := range files {
		var n int
		if err := conn.QueryRowContext(ctx, s.rebind("SELECT count(*) FROM schema_migrations WHERE version = ?"), name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		body, _ := migrations.ReadFile("migrations/" + name)
		identity := "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
		if !s.postgres {
			identity = "INTEGER PRIMARY KEY"
		}
		text := strings.ReplaceAll(string(body), "{{identity}}", identity)
		if s.postgres {
			text = strings.ReplaceAll(text, "--postgres: ", "") // statements for PostgreSQL alone
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, text); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if fn := goMigrations[name]; fn != nil {
			if err := fn(ctx, tx, s.rebind); err != nil {
				tx.Rollback()
				return fmt.Errorf("migration %s: %w", name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.rebind("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"), name, s.Now().UnixMicro()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

// goMigrations are the steps of migrations that SQL cannot take, run in
// the migration's transaction after its SQL.
var goMigrations = map[string]func(ctx context.Context, tx *sql.Tx, rebind func(string) string) error{
	"0015_name_keys.sql":        fillNameKeys,
	"0018_name_keys_folded.sql": fillNameKeys,
}

// fillNameKeys gives every user name and group display name its key
// (seatkeeper.NameKey), where lower() gave it one by SQL's rules: ASCII
// only on SQLite, the database's locale on PostgreSQL (a Turkish one makes
// ADMIN admın). Only the keys that change are written. A key another name
// of the account has is left as it was: the unique index of the names as
// they were allowed both, and keeps allowing them (such a name keeps that
// key until it is renamed, see saveUser).
func fillNameKeys(ctx context.Context, tx *sql.Tx, rebind func(string) string) error {
	for _, tbl := range []struct{ table, name, key string }{
		{"users", "user_name", "user_name_key"},
		{"scim_groups", "display_name", "display_name_key"},
	} {
		type row struct{ account, id, key, want string }
		var rs []*row
		taken := map[[2]string]bool{} // account, key
		q, err := tx.QueryContext(ctx, "SELECT account, id, "+tbl.name+", "+tbl.key+" FROM "+tbl.table)
		if err != nil {
			return err
		}
		for q.Next() {
			var r row
			var name string
			if err := q.Scan(&r.account, &r.id, &name, &r.key); err != nil {
				q.Close()
				return err
			}
			r.want = seatkeeper.NameKey(name)
			taken[[2]string{r.account, r.key}] = true
			if r.want != r.key {
				rs = append(rs, &r)
			}
		}
		q.Close()
		if err := q.Err(); err != nil {
			return err
		}
		update := rebind("UPDATE " + tbl.table + " SET " + tbl.key + " = ? WHERE account = ? AND id = ?")
		// Until nothing moves: a key freed may be another's to take.
		for moved := true; moved; {
			moved = false
			for _, r := range rs {
				if r.key == r.want || taken[[2]string{r.account, r.want}] {
					continue
				}
				if _, err := tx.ExecContext(ctx, update, r.want, r.account, r.id); err != nil {
					return err
				}
				delete(taken, [2]string{r.account, r.key})
				taken[[2]string{r.account, r.want}] = true
				r.key, moved = r.want, true
			}
		}
	}
	return nil
}

// greatestLeast names the two-argument max and min of the dialect.
func (s *Store) greatestLeast() (greatest, least string) {
	if s.postgres {
		return "greatest", "least"
	}
	return "max", "min"
}

// rebind turns the ? placeholders of the shared SQL into $1, $2… for
// PostgreSQL (the shared SQL has no ? inside string literals), and
// PostgreSQL's string_agg into SQLite's group_concat.
func (s *Store) rebind(q string) string {
	if !s.postgres {
		if strings.Contains(q, "string_agg(") {
			q = strings.ReplaceAll(q, "string_agg(", "group_concat(")
		}
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }
