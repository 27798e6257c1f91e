package openapi

import (
	"bytes"
	"io"
	"net/http"
	"time"

	"github.com/tidwall/gjson"
)

// Exchange is one call to an open API and kgsim's answer, as
// certification shows it to the merchant who made it.
type Exchange struct {
	API         string // APIName of the path
	Method, URL string // URL: the path and query as received
	Header      http.Header
	Body        []byte
	Status      int
	Answer      []byte
	At          time.Time // when it arrived, on the wall clock
	Took        time.Duration
}

// Code is the answer's code: resultCode (order query) or error_code
// (APIG, usage push, License).
func (e Exchange) Code() string {
	r := gjson.GetManyBytes(e.Answer, "resultCode", "error_code")
	if r[0].String() != "" {
		return r[0].String()
	}
	return r[1].String()
}

// Accepted reports whether the call was answered as a success: 200 with
// MKT.0000 or 92020000. A batch's codes may each have failed.
func (e Exchange) Accepted() bool {
	return e.Status == http.StatusOK && (e.Code() == mktSuccess || e.Code() == licSuccess)
}

// observed tells s.observe of every call next answers.
func (s *Server) observed(next http.Handler) http.Handler {
	if s.observe == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e := Exchange{API: APIName(r.URL.Path), Method: r.Method, URL: r.URL.RequestURI(), Header: r.Header.Clone(), At: s.wall()}
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
		if err != nil {
			return // the client went away: nobody to answer
		}
		e.Body = body
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		e.Status, e.Answer, e.Took = rec.status, rec.body.Bytes(), s.wall().Sub(e.At)
		s.observe(e)
	})
}

// recorder keeps a copy of an answer as it is written.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}
