package identity

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator/vectors"
	"github.com/tidwall/gjson"
)

// zhangsan is the user of vectors C1 and C3, logged in at noon Beijing time
// so that the rendering has to convert to UTC.
var zhangsan = CASSuccess{
	User:               "zhangsan",
	AuthenticationDate: time.Date(2024, 1, 1, 12, 0, 0, 0, time.FixedZone("CST", 8*60*60)),
	IsFromNewLogin:     true,
	Role:               "admin",
	OrganizationCode:   "123456789",
	Name:               "张三",
	UserName:           "zhangsan",
	Tenant:             "68cbc86abc2018ab880d92f36422fa0e",
}

// consumed is the failure of vectors C2 and C4.
var consumed = CASFailure{
	Code:        CASInvalidTicket,
	Description: "Ticket ST-1-kgsimAAAAAAAAAAAAAAAAAAAAAAAAA not recognized",
}

func TestCASVectors(t *testing.T) {
	for _, tc := range []struct {
		kind        string
		render      func() []byte
		contentType string
		wellFormed  func([]byte) error
	}{
		{"cas-xml-success", zhangsan.XML, ContentTypeXML, checkXML},
		{"cas-xml-failure", consumed.XML, ContentTypeXML, checkXML},
		{"cas-json-success", zhangsan.JSON, ContentTypeJSON, checkJSON},
		{"cas-json-failure", consumed.JSON, ContentTypeJSON, checkJSON},
	} {
		for _, v := range vectors.Of(t, "identity.json", tc.kind) {
			t.Run(v.Get("id").String(), func(t *testing.T) {
				got := tc.render()
				if want := v.Get("expected").String(); string(got) != want {
					t.Errorf("got\n%s\nwant\n%s", got, want)
				}
				if want := v.Get("inputs.contentType").String(); tc.contentType != want {
					t.Errorf("content type %q, vector says %q", tc.contentType, want)
				}
				if err := tc.wellFormed(got); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

// casDocument is serviceResponse as a CAS client reads it: by namespace, not
// by prefix.
type casDocument struct {
	XMLName xml.Name `xml:"http://www.yale.edu/tp/cas serviceResponse"`
	Success *struct {
		User       string `xml:"http://www.yale.edu/tp/cas user"`
		Attributes struct {
			All []struct {
				XMLName xml.Name
				Value   string `xml:",chardata"`
			} `xml:",any"`
		} `xml:"http://www.yale.edu/tp/cas attributes"`
	} `xml:"http://www.yale.edu/tp/cas authenticationSuccess"`
	Failure *struct {
		Code        string `xml:"code,attr"`
		Description string `xml:",chardata"`
	} `xml:"http://www.yale.edu/tp/cas authenticationFailure"`
}

// attributes returns the attributes of a success in document order as
// "name=value", failing on one outside the CAS namespace.
func (d casDocument) attributes(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, a := range d.Success.Attributes.All {
		if a.XMLName.Space != "http://www.yale.edu/tp/cas" {
			t.Errorf("attribute %s in namespace %q", a.XMLName.Local, a.XMLName.Space)
		}
		out = append(out, a.XMLName.Local+"="+a.Value)
	}
	return out
}

func parseCAS(t *testing.T, doc []byte) casDocument {
	t.Helper()
	if err := checkXML(doc); err != nil {
		t.Fatal(err)
	}
	var d casDocument
	if err := xml.Unmarshal(doc, &d); err != nil {
		t.Fatalf("%v in\n%s", err, doc)
	}
	return d
}

// checkXML reads every token of doc with a strict decoder.
func checkXML(doc []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func checkJSON(doc []byte) error {
	var v any
	return json.Unmarshal(doc, &v)
}

func TestCASSuccessAttributes(t *testing.T) {
	withoutOrg := zhangsan
	withoutOrg.Role, withoutOrg.OrganizationCode, withoutOrg.Name = "", "", ""
	fromSSO := zhangsan
	fromSSO.IsFromNewLogin = false
	fromSSO.AuthenticationDate = time.Date(2021, 11, 17, 1, 37, 52, 729_999_999, time.UTC)

	for _, tc := range []struct {
		name string
		in   CASSuccess
		want []string
	}{
		{"C1 attributes in the spec's order", zhangsan, []string{
			"authenticationDate=2024-01-01T04:00:00.000Z",
			"longTermAuthenticationRequestTokenUsed=false",
			"isFromNewLogin=true",
			"role=admin",
			"organizationCode=123456789",
			"name=张三",
			"userName=zhangsan",
			"tenant=68cbc86abc2018ab880d92f36422fa0e",
		}},
		{"empty optional attributes are omitted", withoutOrg, []string{
			"authenticationDate=2024-01-01T04:00:00.000Z",
			"longTermAuthenticationRequestTokenUsed=false",
			"isFromNewLogin=true",
			"userName=zhangsan",
			"tenant=68cbc86abc2018ab880d92f36422fa0e",
		}},
		{"spec's date example, ticket from SSO", fromSSO, []string{
			"authenticationDate=2021-11-17T01:37:52.729Z",
			"longTermAuthenticationRequestTokenUsed=false",
			"isFromNewLogin=false",
			"role=admin",
			"organizationCode=123456789",
			"name=张三",
			"userName=zhangsan",
			"tenant=68cbc86abc2018ab880d92f36422fa0e",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := strings.Join(tc.want, "\n")
			d := parseCAS(t, tc.in.XML())
			if d.Success == nil || d.Failure != nil {
				t.Fatalf("not a success:\n%s", tc.in.XML())
			}
			if got := strings.Join(d.attributes(t), "\n"); got != want {
				t.Errorf("XML attributes\n%s\nwant\n%s", got, want)
			}

			doc := tc.in.JSON()
			if err := checkJSON(doc); err != nil {
				t.Fatal(err)
			}
			var got []string
			gjson.GetBytes(doc, "serviceResponse.authenticationSuccess.attributes").ForEach(func(k, v gjson.Result) bool {
				got = append(got, k.String()+"="+v.String())
				return true
			})
			if got := strings.Join(got, "\n"); got != want {
				t.Errorf("JSON attributes\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestCASEscaping(t *testing.T) {
	const odd = `a<&>"b`
	success := zhangsan
	success.User, success.UserName, success.Name = odd, odd, odd
	failure := CASFailure{Code: CASInvalidService, Description: "service " + odd + " differs"}

	t.Run("XML success", func(t *testing.T) {
		doc := success.XML()
		if bytes.Contains(doc, []byte(odd)) {
			t.Errorf("raw %s in\n%s", odd, doc)
		}
		d := parseCAS(t, doc)
		if d.Success == nil || d.Success.User != odd {
			t.Fatalf("user does not read back as %s:\n%s", odd, doc)
		}
		attrs := strings.Join(d.attributes(t), "\n")
		for _, want := range []string{"name=" + odd, "userName=" + odd} {
			if !strings.Contains(attrs, want) {
				t.Errorf("attribute %s does not read back:\n%s", want, attrs)
			}
		}
	})
	t.Run("XML failure", func(t *testing.T) {
		d := parseCAS(t, failure.XML())
		if d.Failure == nil || d.Failure.Code != string(failure.Code) || d.Failure.Description != failure.Description {
			t.Errorf("failure does not read back:\n%s", failure.XML())
		}
	})
	t.Run("JSON success, no HTML escaping", func(t *testing.T) {
		doc := success.JSON()
		if !bytes.Contains(doc, []byte(`"user":"a<&>\"b"`)) {
			t.Errorf("user not escaped as JSON only: %s", doc)
		}
		var d struct {
			ServiceResponse struct {
				AuthenticationSuccess struct {
					User       string
					Attributes struct{ Name, UserName string }
				}
			}
		}
		if err := json.Unmarshal(doc, &d); err != nil {
			t.Fatal(err)
		}
		s := d.ServiceResponse.AuthenticationSuccess
		if s.User != odd || s.Attributes.Name != odd || s.Attributes.UserName != odd {
			t.Errorf("does not read back: %s", doc)
		}
	})
	t.Run("JSON failure", func(t *testing.T) {
		var d struct {
			ServiceResponse struct{ AuthenticationFailure CASFailure }
		}
		if err := json.Unmarshal(failure.JSON(), &d); err != nil {
			t.Fatal(err)
		}
		if d.ServiceResponse.AuthenticationFailure != failure {
			t.Errorf("does not read back: %s", failure.JSON())
		}
	})
}

// FuzzCAS checks that any user and description give well-formed documents.
func FuzzCAS(f *testing.F) {
	f.Add("zhangsan", "张三", "Ticket ST-1 not recognized")
	f.Add(`a<&>"b`, "]]>\r\n\t", "\x00\xff\u2028")
	f.Fuzz(func(t *testing.T, user, name, description string) {
		s := CASSuccess{User: user, UserName: user, Name: name, AuthenticationDate: time.Unix(0, 0)}
		c := CASFailure{Code: CASInvalidRequest, Description: description}
		for _, doc := range [][]byte{s.XML(), c.XML()} {
			if err := checkXML(doc); err != nil {
				t.Errorf("%v in\n%q", err, doc)
			}
		}
		for _, doc := range [][]byte{s.JSON(), c.JSON()} {
			if !json.Valid(doc) {
				t.Errorf("invalid JSON %q", doc)
			}
		}
	})
}
