package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/server"
)

// CheckConfig configures BenchCheck.
type CheckConfig struct {
	DSN      string // "" for SQLite in a temporary directory
	DataDir  string
	Conns    int
	Duration time.Duration
	Out      io.Writer
}

// Check drives the HTTP check endpoint and a bare net/http handler that
// answers a constant JSON body of the same size, with the same client, and
// prints both throughputs, their ratio and the latencies. It returns the
// ratio.
func Check(ctx context.Context, cfg CheckConfig) (float64, error) {
	srv, err := server.Open(ctx, server.Config{DSN: cfg.DSN, DataDir: cfg.DataDir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return 0, err
	}
	defer srv.Close()
	account := seatkeeper.NewID("bench_")
	secret, err := setupCheck(ctx, srv, account)
	if err != nil {
		return 0, err
	}
	apiURL, stopAPI, err := listen(srv.Handler())
	if err != nil {
		return 0, err
	}
	defer stopAPI()

	checkURL := apiURL + "/v1/accounts/" + account + "/users/u1/check?feature=qm.evaluations"
	auth := "Authorization: Bearer " + secret
	var c Client
	res, err := c.Do(ctx, "GET", checkURL, nil, auth)
	c.Close()
	if err = expect(200)(res, err); err != nil {
		return 0, err
	}
	body, ctype := res.Body, res.Header.Get("Content-Type")
	bareURL, stopBare, err := listen(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctype)
		w.Write(body)
	}))
	if err != nil {
		return 0, err
	}
	defer stopBare()

	fmt.Fprintf(cfg.Out, "bench check: %d connections, %s each, store %s; body %d bytes: %s", cfg.Conns, cfg.Duration, srv.Store.Dialect(), len(body), body)
	// Warm both up, then measure each in turn.
	Run(ctx, "warm-up", cfg.Conns, cfg.Duration/5, Get(bareURL+"/", 200))
	Run(ctx, "warm-up", cfg.Conns, cfg.Duration/5, Get(checkURL, 200, auth))
	bare := Run(ctx, "bare net/http (baseline)", cfg.Conns, cfg.Duration, Get(bareURL+"/", 200))
	check := Run(ctx, "GET …/check", cfg.Conns, cfg.Duration, Get(checkURL, 200, auth))
	ratio := check.Rate() / bare.Rate()
	fmt.Fprintln(cfg.Out, bare)
	fmt.Fprintln(cfg.Out, check)
	fmt.Fprintf(cfg.Out, "ratio check/bare: %.2f (target ≥ 0.70)\n", ratio)
	if check.Failed > 0 || bare.Failed > 0 {
		return ratio, fmt.Errorf("%d check and %d bare requests failed", check.Failed, bare.Failed)
	}
	return ratio, nil
}

// setupCheck makes an account with a Premium user holding QM and returns
// the secret of an app token of the account.
func setupCheck(ctx context.Context, srv *server.Server, account string) (string, error) {
	st, op := srv.Store, seatkeeper.Actor{TokenKind: seatkeeper.TokenOperator}
	if _, _, err := st.PutAccount(ctx, op, seatkeeper.Account{ID: account, Name: "bench", Region: "us"}); err != nil {
		return "", err
	}
	for _, l := range []string{"premium", "qm"} {
		if _, _, err := st.PutSubscription(ctx, op, seatkeeper.Subscription{Account: account, License: l, Model: "named", Quantity: 10}); err != nil {
			return "", err
		}
	}
	if _, _, err := st.PutUser(ctx, op, seatkeeper.User{Account: account, ID: "u1", Active: true}); err != nil {
		return "", err
	}
	for _, l := range []string{"premium", "qm"} {
		if _, _, err := st.AssignLicense(ctx, op, account, "u1", l, seatkeeper.SourceManual); err != nil {
			return "", err
		}
	}
	_, secret, err := st.CreateToken(ctx, op, account, seatkeeper.TokenApp, "bench")
	return secret, err
}

// listen serves h on a loopback port and returns its base URL.
func listen(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	s := &http.Server{Handler: h}
	go s.Serve(ln)
	return "http://" + ln.Addr().String(), func() { s.Close() }, nil
}
