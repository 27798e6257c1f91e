package notice

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"

	"github.com/kgsim/kgsim/simulator"
)

// maxEmail bounds what Parse reads: a record of 60 attempts with 64 KiB
// answers is a few MiB, base64 adds a third.
const maxEmail = 64 << 20

// maxNesting bounds how deep Parse looks into nested multiparts and
// forwarded messages.
const maxNesting = 8

// Parse reads a notice e-mail (as Mailer sends it, also forwarded as an
// attachment or nested in another multipart) back into its record, for
// kgsim replay --notice FILE. A file that already is the JSON record, the
// saved attachment, is returned as it is.
func Parse(r io.Reader) (record []byte, err error) {
	data, err := io.ReadAll(io.LimitReader(r, maxEmail+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxEmail {
		return nil, simulator.Errorf(simulator.EINVALID, "notice", "larger than %d MiB; a notice e-mail is a few MiB at most", maxEmail>>20)
	}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		return validRecord(t)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return nil, simulator.Errorf(simulator.EINVALID, "notice", "neither a JSON call record nor an e-mail: %v", err)
	}
	rec, err := findRecord(msg.Header, msg.Body, 0)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, simulator.Errorf(simulator.EINVALID, "notice", "the e-mail has no %s attachment: is it a kgsim failure notice? (product-status notices carry none)", RecordFile)
	}
	return validRecord(rec)
}

// header is what Parse reads of a MIME header: mail.Header or
// textproto.MIMEHeader.
type header interface{ Get(string) string }

// findRecord returns the decoded record attachment inside an entity with
// header h and body, or nil if there is none.
func findRecord(h header, body io.Reader, depth int) ([]byte, error) {
	if depth > maxNesting {
		return nil, nil
	}
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return nil, nil // not a part kgsim wrote: skip it
	}
	_, disposition, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	switch {
	case mediaType == "message/rfc822":
		msg, err := mail.ReadMessage(decode(h, body))
		if err != nil {
			return nil, nil
		}
		return findRecord(msg.Header, msg.Body, depth+1)
	case strings.HasPrefix(mediaType, "multipart/"):
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil, nil
			}
			if err != nil {
				return nil, simulator.Errorf(simulator.EINVALID, "notice", "the e-mail's MIME structure is broken: %v", err)
			}
			rec, err := findRecord(p.Header, p, depth+1)
			if rec != nil || err != nil {
				return rec, err
			}
		}
	case disposition["filename"] == RecordFile, mediaType == "application/json" && params["name"] == RecordFile:
		rec, err := io.ReadAll(decode(h, body))
		if err != nil {
			return nil, simulator.Errorf(simulator.EINVALID, "notice", "the %s attachment cannot be decoded: %v", RecordFile, err)
		}
		return rec, nil
	}
	return nil, nil
}

// decode undoes a part's base64 transfer encoding; multipart.Reader has
// already undone quoted-printable.
func decode(h header, body io.Reader) io.Reader {
	if strings.EqualFold(strings.TrimSpace(h.Get("Content-Transfer-Encoding")), "base64") {
		return base64.NewDecoder(base64.StdEncoding, body)
	}
	return body
}

func validRecord(rec []byte) ([]byte, error) {
	var probe struct {
		CallID string          `json:"callId"`
		RunID  string          `json:"runId"`
		Calls  json.RawMessage `json:"calls"`
	}
	if err := json.Unmarshal(rec, &probe); err != nil {
		return nil, simulator.Errorf(simulator.EINVALID, "notice", "the call record is not valid JSON: %v", err)
	}
	if probe.CallID == "" && probe.RunID == "" {
		return nil, simulator.Errorf(simulator.EINVALID, "notice", "the JSON has neither callId nor runId: it is not a kgsim call record")
	}
	return rec, nil
}
