package bench

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestClient: the load generator's client sends the method, path, headers
// and body it is given, reads answers of every framing net/http writes
// (a length, chunks, none), keeps its connection between requests, and
// opens another once the server closes one.
func TestClient(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/echo":
			w.Header().Set("X-Seen", r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Authorization")+" "+r.Header.Get("Content-Type"))
			w.WriteHeader(http.StatusCreated)
			w.Write(body)
		case "/chunked":
			for range 3 {
				w.Write([]byte(strings.Repeat("x", 5000)))
				w.(http.Flusher).Flush()
			}
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/close":
			w.Header().Set("Connection", "close")
			w.Write([]byte("bye"))
		case "/slow":
			time.Sleep(300 * time.Millisecond)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	ctx := context.Background()
	var c Client
	defer c.Close()

	res, err := c.Do(ctx, "POST", srv.URL+"/echo?a=1", []byte(`{"x":1}`), "Authorization: Bearer s")
	if err != nil || res.Status != 201 || string(res.Body) != `{"x":1}` || res.Header.Get("X-Seen") != "POST /echo?a=1 Bearer s application/json" {
		t.Fatalf("echo: %+v, %s, %v", res, res.Body, err)
	}
	res, err = c.Do(ctx, "GET", srv.URL+"/chunked", nil)
	if err != nil || res.Status != 200 || len(res.Body) != 15000 {
		t.Fatalf("chunked: status %d, %d bytes, %v", res.Status, len(res.Body), err)
	}
	res, err = c.Do(ctx, "DELETE", srv.URL+"/empty", nil)
	if err != nil || res.Status != 204 || len(res.Body) != 0 {
		t.Fatalf("empty: %+v, %v", res, err)
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for three requests, want one kept", n)
	}
	res, err = c.Do(ctx, "GET", srv.URL+"/close", nil)
	if err != nil || string(res.Body) != "bye" {
		t.Fatalf("close: %+v, %v", res, err)
	}
	if res, err = c.Do(ctx, "GET", srv.URL+"/empty", nil); err != nil || res.Status != 204 {
		t.Fatalf("after close: %+v, %v", res, err)
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections, want a second after the server closed the first", n)
	}

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := c.Do(short, "GET", srv.URL+"/slow", nil); err == nil {
		t.Fatal("a request past its context's deadline succeeded")
	}
	if res, err = c.Do(ctx, "GET", srv.URL+"/empty", nil); err != nil || res.Status != 204 {
		t.Fatalf("after a timeout: %+v, %v", res, err)
	}
	cancelled, cancelNow := context.WithCancel(ctx)
	time.AfterFunc(50*time.Millisecond, cancelNow)
	if _, err := c.Do(cancelled, "GET", srv.URL+"/slow", nil); err == nil {
		t.Fatal("a request whose context was cancelled succeeded")
	}
	if res, err = c.Do(ctx, "HEAD", srv.URL+"/chunked", nil); err != nil || res.Status != 200 || len(res.Body) != 0 {
		t.Fatalf("HEAD: %+v, %v", res, err)
	}
	if res, err = c.Do(ctx, "DELETE", srv.URL+"/empty", nil); err != nil || res.Status != 204 {
		t.Fatalf("after HEAD: %+v, %v", res, err)
	}
	if _, err := c.Do(ctx, "GET", "https://example.com/", nil); err == nil {
		t.Fatal("an https URL was accepted")
	}
}

// TestRunPacedConnectsFirst: a paced run's workers have their connections
// open before the first request is sent, so that no request's latency
// holds the load generator's connecting; and every request is counted.
func TestRunPacedConnectsFirst(t *testing.T) {
	const workers, requests = 8, 16
	var conns, atFirst atomic.Int64
	var first atomic.Bool
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if first.CompareAndSwap(false, true) {
			// The connections dialed are being accepted: wait for them a
			// little, less than the 20 ms between two requests.
			for end := time.Now().Add(15 * time.Millisecond); conns.Load() < workers && time.Now().Before(end); {
				time.Sleep(time.Millisecond)
			}
			atFirst.Store(conns.Load())
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	var sent atomic.Int64
	r := RunPaced(context.Background(), "paced", workers, 50, func(ctx context.Context, c *Client, _ int) (bool, error) {
		if sent.Add(1) > requests {
			return false, nil
		}
		return true, expect(200)(c.Do(ctx, "GET", srv.URL+"/", nil))
	}, srv.URL)
	if r.Requests != requests || r.Failed != 0 {
		t.Errorf("%d requests, %d failed; want %d, 0", r.Requests, r.Failed, requests)
	}
	if got := atFirst.Load(); got != workers {
		t.Errorf("%d connections open at the first request, want all %d", got, workers)
	}
}
