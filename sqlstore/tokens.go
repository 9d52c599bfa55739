package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/seatkeeper/seatkeeper"
)

// CreateToken implements seatkeeper.TokenService.
func (s *Store) CreateToken(ctx context.Context, by seatkeeper.Actor, account, kind, name string) (seatkeeper.Token, string, error) {
	tok := seatkeeper.Token{ID: seatkeeper.NewID("tok_"), Account: account, Kind: kind, Name: strings.TrimSpace(name), CreatedAt: s.Now().UTC().Truncate(time.Microsecond)}
	switch {
	case account == "" && kind != seatkeeper.TokenOperator, account != "" && kind == seatkeeper.TokenOperator:
		return tok, "", seatkeeper.Errorf(seatkeeper.EInvalid, "operator tokens belong to no account; account tokens are admin, app or reader")
	case kind != seatkeeper.TokenOperator && kind != seatkeeper.TokenAdmin && kind != seatkeeper.TokenApp && kind != seatkeeper.TokenReader:
		return tok, "", &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid token",
			Fields: []seatkeeper.FieldError{{Field: "kind", Message: "must be admin, app or reader"}}}
	case len(tok.Name) > 200 || !seatkeeper.PlainText(tok.Name):
		return tok, "", &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid token",
			Fields: []seatkeeper.FieldError{{Field: "name", Message: "at most 200 characters, without control characters"}}}
	}
	secret := seatkeeper.NewSecret()
	err := s.write(ctx, func(t *tx) error {
		var acct any
		if account != "" {
			if _, err := t.state(account); err != nil {
				return err
			}
			acct = account
		}
		if _, err := t.exec("INSERT INTO tokens (id, account, kind, name, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
			tok.ID, acct, tok.Kind, tok.Name, seatkeeper.HashSecret(secret), micros(tok.CreatedAt)); err != nil {
			return err
		}
		if account == "" {
			return nil
		}
		return t.audit(account, by, "token.create", tok.ID, tok)
	})
	return tok, secret, err
}

// RevokeToken implements seatkeeper.TokenService.
func (s *Store) RevokeToken(ctx context.Context, by seatkeeper.Actor, account, id string) error {
	return s.write(ctx, func(t *tx) error {
		if _, err := t.state(account); err != nil {
			return err
		}
		res, err := t.exec("UPDATE tokens SET revoked_at = ? WHERE id = ? AND account = ? AND revoked_at IS NULL", micros(s.Now()), id, account)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return seatkeeper.Errorf(seatkeeper.ENotFound, "account %s has no live token %q", account, id)
		}
		t.changed(account, "")
		return t.audit(account, by, "token.revoke", id, nil)
	})
}

// TokenByHash implements seatkeeper.TokenService.
func (s *Store) TokenByHash(ctx context.Context, hash string) (seatkeeper.Token, error) {
	var tok seatkeeper.Token
	var account sql.NullString
	var created int64
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT t.id, t.account, t.kind, t.name, t.created_at FROM tokens t
		LEFT JOIN accounts a ON a.id = t.account
		WHERE t.hash = ? AND t.revoked_at IS NULL AND a.deleted_at IS NULL`), hash).
		Scan(&tok.ID, &account, &tok.Kind, &tok.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return tok, seatkeeper.Errorf(seatkeeper.ENotFound, "no such token")
	}
	tok.Account, tok.CreatedAt = account.String, fromMicros(created)
	return tok, err
}

// CountTokens implements seatkeeper.TokenService.
func (s *Store) CountTokens(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM tokens").Scan(&n)
	return n, err
}
