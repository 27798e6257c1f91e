package identity

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"time"
)

// Content types of the documents (identity.md §3, §4.2).
const (
	ContentTypeXML  = "application/xml;charset=UTF-8"
	ContentTypeJSON = "application/json;charset=UTF-8"
)

// CASCode is the code of a CAS authenticationFailure (identity.md §4.2).
type CASCode string

const (
	CASInvalidRequest CASCode = "INVALID_REQUEST" // service or ticket missing
	CASInvalidTicket  CASCode = "INVALID_TICKET"  // unknown, expired, used, or renew not satisfied
	CASInvalidService CASCode = "INVALID_SERVICE" // valid ticket, other service
	CASInternalError  CASCode = "INTERNAL_ERROR"  // fault injection only
)

// CASSuccess is a successful serviceValidate answer (vectors C1, C3).
//
// The string attributes are omitted from the document when empty: identity.md
// does not say, and CAS servers leave out attributes that have no value.
// (Userinfo is different: there the spec sends "".)
type CASSuccess struct {
	User               string    // the account; <cas:user>
	AuthenticationDate time.Time // rendered in UTC with milliseconds
	IsFromNewLogin     bool      // the ticket came from a form login, not the SSO session
	Role               string    // "user" or "admin"
	OrganizationCode   string    // authSync orgCode
	Name               string    // display name
	UserName           string    // the account again, as an attribute
	Tenant             string    // tenantId
}

// CASFailure is a failed serviceValidate answer (vectors C2, C4). The spec
// fixes the codes only; the description is free text for the merchant.
type CASFailure struct {
	Code        CASCode `xml:"code,attr" json:"code"`
	Description string  `xml:",chardata" json:"description"`
}

// XML and JSON render the answer in the two formats serviceValidate offers;
// the handler picks one from the format parameter.
func (s CASSuccess) XML() []byte  { return casResponse{Success: s.document()}.encodeXML() }
func (s CASSuccess) JSON() []byte { return casResponse{Success: s.document()}.encodeJSON() }
func (f CASFailure) XML() []byte  { return casResponse{Failure: &f}.encodeXML() }
func (f CASFailure) JSON() []byte { return casResponse{Failure: &f}.encodeJSON() }

// casResponse is the serviceResponse document, tagged for both formats so
// the element order lives in one place. The names carry the cas: prefix
// literally: encoding/xml cannot bind a prefix to a namespace, and the
// vectors fix both the prefix and the xmlns:cas declaration.
type casResponse struct {
	XMLName   xml.Name    `xml:"cas:serviceResponse" json:"-"`
	Namespace string      `xml:"xmlns:cas,attr" json:"-"`
	Success   *casSuccess `xml:"cas:authenticationSuccess,omitempty" json:"authenticationSuccess,omitempty"`
	Failure   *CASFailure `xml:"cas:authenticationFailure,omitempty" json:"authenticationFailure,omitempty"`
}

type casSuccess struct {
	User       string        `xml:"cas:user" json:"user"`
	Attributes casAttributes `xml:"cas:attributes" json:"attributes"`
}

// casAttributes lists the attributes in the order of identity.md §4.2.
type casAttributes struct {
	AuthenticationDate string `xml:"cas:authenticationDate" json:"authenticationDate"`
	// Always false: the unified login page has no "remember me".
	LongTerm         bool   `xml:"cas:longTermAuthenticationRequestTokenUsed" json:"longTermAuthenticationRequestTokenUsed"`
	IsFromNewLogin   bool   `xml:"cas:isFromNewLogin" json:"isFromNewLogin"`
	Role             string `xml:"cas:role,omitempty" json:"role,omitempty"`
	OrganizationCode string `xml:"cas:organizationCode,omitempty" json:"organizationCode,omitempty"`
	Name             string `xml:"cas:name,omitempty" json:"name,omitempty"`
	UserName         string `xml:"cas:userName,omitempty" json:"userName,omitempty"`
	Tenant           string `xml:"cas:tenant,omitempty" json:"tenant,omitempty"`
}

// casTime is ISO 8601 with milliseconds, as in the spec's example
// 2021-11-17T01:37:52.729Z.
const casTime = "2006-01-02T15:04:05.000Z"

func (s CASSuccess) document() *casSuccess {
	return &casSuccess{
		User: s.User,
		Attributes: casAttributes{
			AuthenticationDate: s.AuthenticationDate.UTC().Format(casTime),
			IsFromNewLogin:     s.IsFromNewLogin,
			Role:               s.Role,
			OrganizationCode:   s.OrganizationCode,
			Name:               s.Name,
			UserName:           s.UserName,
			Tenant:             s.Tenant,
		},
	}
}

// encodeXML renders r with 4-space indentation, LF line ends and a trailing LF,
// and no XML declaration, as vectors C1 and C2 fix.
func (r casResponse) encodeXML() []byte {
	r.Namespace = "http://www.yale.edu/tp/cas"
	var b bytes.Buffer
	enc := xml.NewEncoder(&b)
	enc.Indent("", "    ")
	if err := enc.Encode(r); err != nil {
		panic(err) // only strings and bools: cannot fail
	}
	b.WriteByte('\n')
	return b.Bytes()
}

func (r casResponse) encodeJSON() []byte {
	return compact(struct {
		R casResponse `json:"serviceResponse"`
	}{r})
}

// compact encodes v as JSON on one line with no trailing newline, leaving
// <, > and & as they are: the documents are never embedded in HTML, and the
// vectors fix the raw bytes (non-ASCII stays raw UTF-8 too).
func compact(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only strings, bools and numbers: cannot fail
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
