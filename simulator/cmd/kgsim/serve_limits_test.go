package main

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// pipeListener hands out the server ends of in-memory connections, so
// that synctest's clock runs the server's deadlines.
type pipeListener struct{ conns chan net.Conn }

func (l pipeListener) Accept() (net.Conn, error) {
	c, ok := <-l.conns
	if !ok {
		return nil, net.ErrClosed
	}
	return c, nil
}
func (l pipeListener) Close() error   { return nil }
func (l pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// closedWithin says whether the server closed c within d of synctest's
// clock: a read then ends instead of blocking.
func closedWithin(t *testing.T, c net.Conn, d time.Duration) bool {
	t.Helper()
	ended := make(chan struct{})
	go func() {
		io.Copy(io.Discard, c)
		close(ended)
	}()
	time.Sleep(d)
	synctest.Wait()
	select {
	case <-ended:
		return true
	default:
		c.Close()
		<-ended
		return false
	}
}

// A client that trickles its request, or sends none, or leaves a
// kept-alive connection idle, is cut off at the listener's limits and not
// before.
func TestServeListenerLimits(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte("ok\n"))
	})
	cases := []struct {
		name  string
		send  func(c net.Conn)
		limit time.Duration
	}{
		{"headers never finished", func(c net.Conn) { io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n") }, readHeaderTimeout},
		{"body trickled", func(c net.Conn) {
			io.WriteString(c, "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
			go func() {
				for range 100 {
					if _, err := io.WriteString(c, "x"); err != nil {
						return
					}
					time.Sleep(time.Second)
				}
			}()
		}, readTimeout},
		{"kept alive and idle", func(c net.Conn) {
			io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("first request: %v, %v", resp, err)
				return
			}
			io.Copy(io.Discard, resp.Body)
		}, idleTimeout},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := pipeListener{make(chan net.Conn)}
				srv := httpServer(h, slog.New(slog.DiscardHandler))
				go srv.Serve(l)
				client, server := net.Pipe()
				l.conns <- server
				tc.send(client)
				if closedWithin(t, client, tc.limit-time.Second) {
					t.Fatalf("closed before its limit %v", tc.limit)
				}
				client, server = net.Pipe()
				l.conns <- server
				tc.send(client)
				if !closedWithin(t, client, tc.limit+time.Second) {
					t.Errorf("still open after its limit %v", tc.limit)
				}
				close(l.conns)
				srv.Close()
			})
		})
	}
}
