package bench

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Client is the load generator's HTTP/1.1 client, one per worker: it keeps
// one connection to each server, writes a request with one write and reads
// the answer with http.ReadResponse, on the worker's own goroutine.
//
// net/http's Transport runs two goroutines per connection and hands every
// request and answer between them over channels; on this two-core machine,
// where the load generator shares the CPU with the servers it measures,
// that cost as much CPU as the servers did (a bare handler answered 19,000–
// 21,000 requests/s to it and 35,000–37,000/s to this client; see
// BENCHMARKS.md). Every bench drives its baseline with the same client.
type Client struct {
	conns map[string]*clientConn // by host:port
	buf   []byte
}

type clientConn struct {
	net.Conn
	r *bufio.Reader
}

// Response is an answer, its body read in full.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends one request to url ("http://host:port/path?query") with the
// given header lines ("Name: value") and body, and reads the answer. The
// context's deadline or cancellation cuts it short.
func (c *Client) Do(ctx context.Context, method, url string, body []byte, header ...string) (Response, error) {
	host, path, ok := splitURL(url)
	if !ok {
		return Response{}, errors.New("bench client: want an http://host/path URL, got " + url)
	}
	b := append(c.buf[:0], method...)
	b = append(b, " /"...)
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	if len(body) > 0 {
		b = append(b, "\r\nContent-Type: application/json"...)
	}
	for _, h := range header {
		b = append(b, "\r\n"...)
		b = append(b, h...)
	}
	b = append(b, "\r\n\r\n"...)
	b = append(b, body...)
	c.buf = b

	cc, err := c.conn(host)
	if err != nil {
		return Response{}, err
	}
	deadline, _ := ctx.Deadline() // zero: none
	cc.SetDeadline(deadline)
	if ctx.Done() != nil {
		// Cancelled without a deadline: cut the request short too.
		stop := context.AfterFunc(ctx, func() { cc.SetDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	res, keep, err := cc.roundTrip(method, b)
	if !keep {
		cc.Close()
		delete(c.conns, host)
	}
	return res, err
}

// roundTrip writes req and reads the answer; keep says whether the
// connection can carry another.
func (cc *clientConn) roundTrip(method string, req []byte) (res Response, keep bool, err error) {
	if _, err := cc.Write(req); err != nil {
		return Response{}, false, err
	}
	r, err := http.ReadResponse(cc.r, &http.Request{Method: method}) // an answer to HEAD has no body
	if err != nil {
		return Response{}, false, err
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	return Response{Status: r.StatusCode, Header: r.Header, Body: body}, err == nil && !r.Close, err
}

func (c *Client) conn(host string) (*clientConn, error) {
	if cc := c.conns[host]; cc != nil {
		return cc, nil
	}
	nc, err := net.DialTimeout("tcp", host, 10*time.Second)
	if err != nil {
		return nil, err
	}
	if c.conns == nil {
		c.conns = map[string]*clientConn{}
	}
	cc := &clientConn{Conn: nc, r: bufio.NewReader(nc)}
	c.conns[host] = cc
	return cc, nil
}

// connect opens the client's connections to the servers of urls
// ("http://host:port/…") now rather than at their first requests.
func (c *Client) connect(urls []string) error {
	for _, u := range urls {
		host, _, _ := splitURL(u)
		if _, err := c.conn(host); err != nil {
			return err
		}
	}
	return nil
}

// splitURL splits "http://host:port/path" into host:port and path (without
// its leading slash); ok is false for any other form.
func splitURL(url string) (host, path string, ok bool) {
	rest, isHTTP := strings.CutPrefix(url, "http://")
	host, path, ok = strings.Cut(rest, "/")
	return host, path, ok && isHTTP
}

// Close closes the client's connections.
func (c *Client) Close() {
	for host, cc := range c.conns {
		cc.Close()
		delete(c.conns, host)
	}
}
