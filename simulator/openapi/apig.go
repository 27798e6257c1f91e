package openapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/protocol"
)

// MaxBody is the largest request body an open API reads: 1,000 usage
// records take about 300 KiB.
const MaxBody = 1 << 20

// call is a verified open-API call: who signed it, and its body.
type call struct {
	seller simulator.Seller
	body   []byte
}

// apig verifies a call's APIG signature (open-api.md §2.3) before next
// sees it: the method, the body's size, the Authorization header, the AK
// (a registered seller's), X-Sdk-Date within 15 minutes of the wall clock,
// and the signature.
func (s *Server) apig(method string, next func(w http.ResponseWriter, r *http.Request, c call)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			s.refuseAPIG(w, r, http.StatusNotFound, apigwNoAPI, msgNoAPI, &explanation{
				Problem: fmt.Sprintf("%s %s is no open API: this path takes %s", r.Method, r.URL.Path, method), Spec: "open-api.md §1",
			})
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				s.refuseAPIG(w, r, http.StatusRequestEntityTooLarge, apigwTooLarge, msgTooLarge, &explanation{
					Problem: fmt.Sprintf("the body is over %d bytes; push at most 1000 usage records at once", MaxBody), Spec: "open-api.md §4.1",
				})
				return
			}
			s.log.InfoContext(r.Context(), "open API call: the body could not be read", "path", r.URL.Path, "err", err)
			return // the client went away: nobody to answer
		}
		header := r.Header.Clone()
		header.Set("Host", r.Host) // net/http moves Host out of the header
		req := &protocol.APIGRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: header, Body: body}
		var (
			seller   simulator.Seller
			storeErr error
		)
		v := protocol.APIGVerifier{
			SK: func(ak string) (string, bool) {
				seller, storeErr = s.store.SellerByAK(r.Context(), ak)
				if simulator.ErrorCode(storeErr) == simulator.ENOTFOUND {
					storeErr = nil
					return "", false
				}
				return seller.SK, storeErr == nil
			},
			Others: func(ak string) []protocol.OtherSK { return s.otherSKs(r, ak) },
		}
		ak, err := v.Verify(req, s.wall())
		if storeErr != nil {
			s.internal(w, r, storeErr, usageAnswer)
			return
		}
		if err != nil {
			s.refuseAPIG(w, r, http.StatusUnauthorized, apigwAuth, authMessage(ak, err), explainAPIG(req, ak, err))
			return
		}
		next(w, r, call{seller: seller, body: body})
	})
}

// otherSKs are the SKs of the sellers other than the AK's, named by their
// seller ID, for the diagnosis of a mismatch.
func (s *Server) otherSKs(r *http.Request, ak string) []protocol.OtherSK {
	sellers, err := s.store.Sellers(r.Context())
	if err != nil {
		s.log.WarnContext(r.Context(), "open API: listing the sellers for a diagnosis failed", "err", err)
		return nil
	}
	var out []protocol.OtherSK
	for _, sl := range sellers {
		if sl.AK != ak {
			out = append(out, protocol.OtherSK{Name: "seller " + sl.ID, SK: sl.SK})
		}
	}
	return out
}

// authMessage is the gateway's message: an expired one for X-Sdk-Date,
// the signature failure for everything else.
func authMessage(ak string, err error) string {
	_, stale := errors.AsType[*protocol.StaleError](err)
	if m, ok := errors.AsType[*protocol.MalformedError](err); stale || ok && m.Field == "X-Sdk-Date" {
		return "Incorrect IAM authentication information: ak " + ak + " signature expired"
	}
	return msgVerifyFail
}

// explainAPIG says why a signature was refused. The problem never holds
// the expected signature (a Mismatch's Error() does).
func explainAPIG(req *protocol.APIGRequest, ak string, err error) *explanation {
	e := &explanation{Spec: "open-api.md §2"}
	e.CanonicalRequest, e.StringToSign, _ = req.Explain()
	var (
		mismatch *protocol.Mismatch
		stale    *protocol.StaleError
		bad      *protocol.MalformedError
		unknown  *protocol.UnknownAKError
	)
	switch {
	case errors.As(err, &mismatch):
		e.Problem = "the signature does not match the one kgsim computes with the SK of Access=" + ak + " over the canonical request below"
		e.ReceivedSignature = mismatch.Received
		e.LikelyCause = mismatch.Cause
		if e.LikelyCause == "" {
			e.LikelyCause = "none of the common mistakes matches: the request differs from the one that was signed (path, query, a signed header or the body), " +
				"or another SK signed it; compare the canonical request below with the signer's, line by line"
		}
	case errors.As(err, &stale):
		e.Problem, e.Field, e.LikelyCause = stale.Error(), "X-Sdk-Date", stale.Cause
		e.Spec = "open-api.md §2.3"
	case errors.As(err, &unknown):
		e.Problem, e.Field = "Access="+unknown.AK+" is not the AK of any seller registered in kgsim", "Authorization"
		e.LikelyCause = "the merchant is configured with an AK kgsim does not know: register the seller with PUT /admin/v1/sellers/{sellerId} {\"name\",\"ak\",\"sk\"}, or configure the sample seller's AK/SK (README)"
	case errors.As(err, &bad):
		e.Problem, e.Field = bad.Error(), bad.Field
	default:
		e.Problem = err.Error()
	}
	return e
}

// internal answers a failure of kgsim itself: MKT.0999 (open-api.md
// §4.3) in the API's shape, the detail in the log only.
func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error, shape answerShape) {
	id := requestID(w)
	s.log.ErrorContext(r.Context(), "open API call failed", "path", r.URL.Path, "requestId", id, "err", err)
	writeJSON(w, http.StatusInternalServerError, shape("MKT.0999", msgInternalError, &explanation{
		Problem: "kgsim failed to answer; its log has the detail under requestId " + id,
	}))
}

// answerShape builds an API's answer: the order query's resultCode and
// resultMsg, or the usage push's error_code and error_msg.
type answerShape func(code, msg string, e *explanation) any

// usageAnswer is the usage push's answer (open-api.md §4.3).
func usageAnswer(code, msg string, e *explanation) any {
	return struct {
		ErrorCode string       `json:"error_code"`
		ErrorMsg  string       `json:"error_msg"`
		Kgsim     *explanation `json:"kgsim,omitempty"`
	}{code, msg, e}
}
