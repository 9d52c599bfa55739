package seatkeeper

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"
)

// Token kinds (SPEC §4).
const (
	TokenOperator = "operator" // everything
	TokenAdmin    = "admin"    // everything in one account
	TokenApp      = "app"      // checks, presence and reads; more with an acting user
	TokenReader   = "reader"   // reads and reports
)

// Token is an API credential. Its secret is shown once at creation and
// stored only as a hash.
type Token struct {
	ID        string     `json:"id"`
	Account   string     `json:"account,omitempty"` // "" for operator tokens
	Kind      string     `json:"kind"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// NewSecret returns a fresh random token secret.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "sk_" + base64.RawURLEncoding.EncodeToString(b)
}

// NewID returns a random identifier with the given prefix.
func NewID(prefix string) string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// HashSecret is how token secrets are stored and looked up.
func HashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// TokenService manages tokens.
type TokenService interface {
	// CreateToken stores a new token and returns it with its secret.
	// account is "" for an operator token.
	CreateToken(ctx context.Context, by Actor, account, kind, name string) (Token, string, error)
	// RevokeToken returns ENotFound if the account has no such token.
	RevokeToken(ctx context.Context, by Actor, account, id string) error
	// TokenByHash returns the live token with that secret hash, or ENotFound.
	TokenByHash(ctx context.Context, hash string) (Token, error)
	// CountTokens counts tokens ever created, for the first-start bootstrap.
	CountTokens(ctx context.Context) (int, error)
}
