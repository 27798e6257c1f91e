package delivery

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// DefaultTimeout is the marketplace's limit for a complete answer: connect,
// TLS, request and the whole body (callbacks.md §8).
const DefaultTimeout = 20 * time.Second

// maxAnswer bounds how much of an answer is read: real answers are a few
// hundred bytes, and a merchant must not be able to exhaust the simulator.
// maxAnswerHeader bounds its headers likewise: more is a failed attempt
// ("server response headers exceeded ...") and nothing of them is kept.
const (
	maxAnswer       = 1 << 20
	maxAnswerHeader = 64 << 10
)

// Sender performs attempts over HTTP. It never follows a redirect (a 3xx
// is judged as the answer) and so calls no URL but the one configured.
type Sender struct {
	client *http.Client
}

// NewSender returns a Sender whose attempts fail after timeout. It keeps
// as many idle connections to a merchant as attempts may be in flight to
// it.
func NewSender(timeout time.Duration) *Sender {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxResponseHeaderBytes = maxAnswerHeader
	t.MaxIdleConnsPerHost = DefaultWorkers
	return &Sender{client: &http.Client{
		Timeout:   timeout,
		Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// Send performs one attempt and returns the answer, or the transport error
// in Answer.Err.
func (s *Sender) Send(ctx context.Context, r *Request) Answer {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return Answer{Err: err}
	}
	req.Header = r.Header.Clone()
	resp, err := s.client.Do(req)
	if err != nil {
		return Answer{Err: err, Elapsed: time.Since(start), Limit: s.client.Timeout}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	a := Answer{Status: resp.StatusCode, Header: resp.Header, Body: body, Elapsed: time.Since(start), Err: err, Limit: s.client.Timeout}
	if err == nil && len(body) > maxAnswer {
		a.Body, a.Err = body[:maxAnswer], errTooLarge
	}
	return a
}

// errTooLarge marks an answer cut at maxAnswer; it is judged unparseable.
var errTooLarge = fmt.Errorf("the answer is larger than %d bytes", maxAnswer)
