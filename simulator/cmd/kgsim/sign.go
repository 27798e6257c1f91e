package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/protocol"
)

func signCommand() *command {
	return &command{
		name:    "sign",
		summary: "compute a signature as the marketplace does (v1, v2, kit, bodysign, apig, usage)",
		help: `Usage: kgsim sign SCHEME [FLAGS] [ARGS]

Computes a signature exactly as the marketplace (or, for bodysign, apig and
usage, the merchant) must. Prints the signature alone, so it can be used in
scripts; --verbose also shows the signed string on standard error.`,
		sub: []*command{
			{name: "v1", summary: "V1 authToken of a GET callback's query", run: signV1, help: `Usage: kgsim sign v1 --access-key KEY [--verbose] QUERY

Prints the authToken of a V1 callback: Base64(HMAC-SHA256(accessKey + timeStamp,
the parameters URL-decoded and sorted by name)). QUERY is the query string as
it appears on the wire (URL-encoded); an authToken in it is ignored. Without a
timeStamp parameter, kgsim adds the current UTC time and prints the full query
string to send instead, authToken last.

Example:
  kgsim sign v1 --access-key xxxxxxx 'activity=newInstance&businessId=61e834ba-7b97-4418-b8f7-e5345137278c&customerId=68cbc86abc2018ab880d92f36422fa0e&expireTime=20200727153156&orderId=CS1906666666ABCDE&productId=00301-666666-0--0&testFlag=1&timeStamp=20200727073711903'
  Gzbfjf9LHRBcI3bFVi++sLinCNOBF6qa7is1fvjEgYQ=`},
			{name: "v2", summary: "V2 signature of a POST callback's body", run: signV2, help: `Usage: kgsim sign v2 --access-key KEY --body FILE [--timestamp MS --nonce N] [--raw] [--verbose]

Prints the V2 signature (lower-case hex) of a callback body:
  hex(HMAC-SHA256(key, key + nonce + timestamp + hex(HMAC-SHA256(key, reqParams)))).
The body is first put in the marketplace's canonical form (compact, top-level
members sorted, nulls dropped, nested objects kept in order); --raw signs the
file's bytes exactly as they are. --body - reads standard input. Without
--timestamp and --nonce, kgsim uses the current time and a fresh nonce and
prints the whole query string to append to the production URL.

Example:
  echo '{"testFlag":"1","activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001"}' |
    kgsim sign v2 --access-key xxxxxxx --timestamp 1680508066618 --nonce 50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA --body -
  5cba99cdfd4be412ef7ee87accf419acfc21297ae13a457e8776a5d0693ae907`},
			{name: "kit", summary: "x-sign of a joint-operation kit sync", run: signKit, help: `Usage: kgsim sign kit --access-key KITKEY --body FILE [--timestamp MS --nonce N] [--verbose]

Prints the x-sign of a kit sync (tenantSync, applicationSync, authSync,
singleOrgSync, allOrgSync): hex(HMAC-SHA256(kitKey, kitKey + x-nonce +
x-timestamp + reqParams)), reqParams being the body with members sorted at
every level, compact. KITKEY is the key bound to the kit interfaces, not the
basic-interface key. Without --timestamp and --nonce, kgsim uses the current
time and a fresh nonce and prints the three headers to send.

Example:
  kgsim sign kit --access-key xxxxxxx --timestamp 1680508066618 --nonce 50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA --body tenantSync.json`},
			{name: "bodysign", summary: "Body-Sign header of a V1 response", run: signBodySign, help: `Usage: kgsim sign bodysign --access-key KEY --body FILE

Prints the Body-Sign header value a V1 response must carry:
  sign_type="HMAC-SHA256", signature= "<Base64(HMAC-SHA256(key, body))>"
over the file's exact bytes, whitespace and final newline included.

Example:
  printf '{"resultCode":"000000","resultMsg":"success."}' | kgsim sign bodysign --access-key xxxxxxx --body -`},
			{name: "apig", summary: "Authorization header of an open-API call (AK/SK)", run: signAPIG, help: `Usage: kgsim sign apig --ak AK --sk SK --url URL [--method GET] [--header 'Name: value']... [--body FILE] [--date 20060102T150405Z] [--verbose]

Prints the Authorization header of an open-API request signed with APIG
SDK-HMAC-SHA256, as a merchant calling the marketplace must send it. Every
header given is signed, with Host (from the URL) and X-Sdk-Date. Without
--date, kgsim uses the current UTC time and also prints the X-Sdk-Date
header to send.

Example:
  kgsim sign apig --ak test --sk 123 --method POST --url https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/license/activate \
    --header 'Content-Type: application/json' --header 'x-stage: RELEASE' --date 20240317T144237Z`},
			{name: "usage", summary: "body signature of an on-demand usage push", run: signUsage, help: `Usage: kgsim sign usage --access-key KEY --body FILE [--timestamp MS --nonce N] [--verbose]

Prints the signature header of a usage push (new API):
  Base64(HMAC-SHA256(key, "ts={ts}&nonce={nonce}&body={body}")),
body being the canonical JSON (members sorted at every level, compact) and KEY
the basic-interface access key. Send that canonical body. Without --timestamp
and --nonce, kgsim uses the current time and a fresh nonce and prints the
headers and the body to send.

Example:
  kgsim sign usage --access-key xxxxxxx --timestamp 1716363778801 --nonce RLLUammMSInlrNWb --body usage.json`},
		},
	}
}

func signV1(e *env, args []string) error {
	f := newFlags()
	key := f.string("access-key", "KEY", "the merchant's access key")
	verbose := f.fs.Bool("verbose", false, "print the signed string on standard error")
	pos, err := f.parse(args, 1, "QUERY (the query string, e.g. 'activity=newInstance&timeStamp=...')")
	if err != nil {
		return err
	}
	if err := f.need("access-key", *key); err != nil {
		return err
	}
	params, err := protocol.ParseV1Query(strings.TrimPrefix(pos[0], "?"))
	if err != nil {
		return invalid("QUERY", err)
	}
	_, hasTS := protocol.ParamValue(params, protocol.V1TimeStamp)
	if !hasTS {
		params = append(params, protocol.Param{Name: protocol.V1TimeStamp, Value: protocol.V1Timestamp(e.now())})
	}
	token, err := protocol.SignV1(*key, params)
	if err != nil {
		return invalid("QUERY", err)
	}
	if *verbose {
		ts, _ := protocol.ParamValue(params, protocol.V1TimeStamp)
		fmt.Fprintf(e.stderr, "signed string: %s\nHMAC key:      <accessKey>%s\n", protocol.V1Canonical(params), ts)
	}
	if hasTS {
		fmt.Fprintln(e.stdout, token)
	} else {
		fmt.Fprintln(e.stdout, protocol.EncodeV1Query(params, token))
	}
	return nil
}

// freshSigning holds the timestamp and nonce of a signing command: given by
// flags, or now and a fresh nonce when neither was given.
type freshSigning struct {
	timestamp, nonce string
	generated        bool
}

func timestampAndNonce(e *env, timestamp, nonce string) (freshSigning, error) {
	switch {
	case timestamp == "" && nonce == "":
		n, err := protocol.NewNonce(e.random)
		if err != nil {
			return freshSigning{}, err
		}
		return freshSigning{timestamp: protocol.MillisTimestamp(e.now()), nonce: n, generated: true}, nil
	case nonce == "":
		return freshSigning{}, simulator.Errorf(simulator.EINVALID, "--nonce", "missing: give --timestamp and --nonce together, or neither to use now and a fresh nonce")
	case timestamp == "":
		return freshSigning{}, simulator.Errorf(simulator.EINVALID, "--timestamp", "missing: give --timestamp and --nonce together, or neither to use now and a fresh nonce")
	case strings.Trim(timestamp, "0123456789") != "":
		return freshSigning{}, simulator.Errorf(simulator.EINVALID, "--timestamp", "%q is not a number (want Unix epoch milliseconds, e.g. 1716363778801)", timestamp)
	}
	return freshSigning{timestamp: timestamp, nonce: nonce}, nil
}

// bodyFlags are the flags of the commands that sign a JSON body with a
// timestamp and a nonce.
type bodyFlags struct {
	*keyBodyFlags
	timestamp, nonce *string
	verbose          *bool
}

func newBodyFlags(keyUsage string) *bodyFlags {
	f := newKeyBodyFlags("KEY", keyUsage, "the JSON body")
	return &bodyFlags{
		keyBodyFlags: f,
		timestamp:    f.string("timestamp", "MS (Unix epoch milliseconds, 13 digits)", "signed timestamp"),
		nonce:        f.string("nonce", "N (e.g. 64 hex characters)", "signed nonce"),
		verbose:      f.fs.Bool("verbose", false, "print the signed string on standard error"),
	}
}

// load parses args and reads the body and the signing inputs.
func (b *bodyFlags) load(e *env, args []string) ([]byte, freshSigning, error) {
	_, body, err := b.keyBodyFlags.load(e, args, 0, "")
	if err != nil {
		return nil, freshSigning{}, err
	}
	s, err := timestampAndNonce(e, *b.timestamp, *b.nonce)
	return body, s, err
}

func signV2(e *env, args []string) error {
	f := newBodyFlags("the merchant's access key")
	raw := f.fs.Bool("raw", false, "sign the body bytes exactly as given instead of their canonical form")
	body, s, err := f.load(e, args)
	if err != nil {
		return err
	}
	if !*raw {
		if body, err = protocol.CanonicalJSON(body, protocol.SortTopLevel); err != nil {
			return invalid("--body", err)
		}
	}
	signed := protocol.SignV2(*f.key, s.timestamp, s.nonce, body)
	if *f.verbose {
		fmt.Fprintf(e.stderr, "reqParams:         %s\nbody HMAC:         %s\ncanonical request: %s\n", body, signed.BodyHMAC, signed.Canonical)
	}
	if s.generated {
		fmt.Fprintln(e.stdout, protocol.V2Query(signed.Signature, s.timestamp, s.nonce))
	} else {
		fmt.Fprintln(e.stdout, signed.Signature)
	}
	return nil
}

func signKit(e *env, args []string) error {
	f := newBodyFlags("the kit key (bound to the joint-operation sync interfaces)")
	body, s, err := f.load(e, args)
	if err != nil {
		return err
	}
	reqParams, err := protocol.CanonicalJSON(body, protocol.SortAllLevels)
	if err != nil {
		return invalid("--body", err)
	}
	sig := protocol.KitSign(*f.key, s.nonce, s.timestamp, reqParams)
	if *f.verbose {
		fmt.Fprintf(e.stderr, "reqParams:     %s\nsigned string: <kitKey>%s%s%s\n", reqParams, s.nonce, s.timestamp, reqParams)
	}
	if s.generated {
		fmt.Fprintf(e.stdout, "%s: %s\n%s: %s\n%s: %s\n", protocol.KitSignHeader, sig, protocol.KitTimestampHeader, s.timestamp, protocol.KitNonceHeader, s.nonce)
	} else {
		fmt.Fprintln(e.stdout, sig)
	}
	return nil
}

func signUsage(e *env, args []string) error {
	f := newBodyFlags("the basic-interface access key (not the APIG SK)")
	body, s, err := f.load(e, args)
	if err != nil {
		return err
	}
	canonical, err := protocol.CanonicalJSON(body, protocol.SortAllLevels)
	if err != nil {
		return invalid("--body", err)
	}
	sig := protocol.UsageSignature(*f.key, s.timestamp, s.nonce, canonical)
	if *f.verbose {
		fmt.Fprintf(e.stderr, "signed string: ts=%s&nonce=%s&body=%s\n", s.timestamp, s.nonce, canonical)
	}
	if s.generated {
		fmt.Fprintf(e.stdout, "%s: %s\n%s: %s\n%s: %s\n\n%s\n", protocol.UsageTimestampHeader, s.timestamp, protocol.UsageNonceHeader, s.nonce, protocol.UsageSignatureHeader, sig, canonical)
	} else {
		fmt.Fprintln(e.stdout, sig)
	}
	return nil
}

func signBodySign(e *env, args []string) error {
	f := newKeyBodyFlags("KEY", "the merchant's access key", "the exact response body")
	_, body, err := f.load(e, args, 0, "")
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, protocol.BodySignHeader(protocol.BodySign(*f.key, body)))
	return nil
}

// apigFlags are the flags that describe an open-API request.
type apigFlags struct {
	*flags
	ak, sk, method, rawURL, body, date *string
	headers                            *[]string
}

func newAPIGFlags() *apigFlags {
	f := newFlags()
	return &apigFlags{
		flags:   f,
		ak:      f.string("ak", "AK", "access key ID"),
		sk:      f.string("sk", "SK", "secret access key"),
		method:  f.string("method", "METHOD (GET, POST ...)", "HTTP method (default GET)"),
		rawURL:  f.string("url", "URL (e.g. https://mkt.myhuaweicloud.com/api/...?orderId=...)", "request URL"),
		body:    f.string("body", "FILE (or - for standard input)", "request body (default empty)"),
		date:    f.string("date", "yyyyMMddTHHmmssZ (e.g. 20191115T033655Z)", "X-Sdk-Date"),
		headers: f.list("header", "'Name: value'", "a header to sign; repeatable"),
	}
}

// load parses args and builds the APIG request the flags describe.
func (a *apigFlags) load(e *env, args []string) (*protocol.APIGRequest, error) {
	if _, err := a.parse(args, 0, ""); err != nil {
		return nil, err
	}
	for _, name := range []string{"ak", "sk", "url"} {
		if err := a.need(name, a.fs.Lookup(name).Value.String()); err != nil {
			return nil, err
		}
	}
	u, err := url.Parse(*a.rawURL)
	if err != nil || u.Host == "" {
		return nil, simulator.Errorf(simulator.EINVALID, "--url", "%q is not an absolute URL (want https://host/path?query)", *a.rawURL)
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, simulator.Errorf(simulator.EINVALID, "--url", "query string: %v", err)
	}
	r := &protocol.APIGRequest{Method: strings.ToUpper(*a.method), Path: u.Path, Query: query, Header: http.Header{}}
	if r.Method == "" {
		r.Method = http.MethodGet
	}
	r.Header.Set("Host", u.Host)
	for _, h := range *a.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, simulator.Errorf(simulator.EINVALID, "--header", "%q is not 'Name: value'", h)
		}
		r.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	if *a.body != "" {
		if r.Body, err = readInput(e, "body", *a.body); err != nil {
			return nil, err
		}
	}
	return r, nil
}

const sdkDateLayout = "20060102T150405Z"

func signAPIG(e *env, args []string) error {
	f := newAPIGFlags()
	verbose := f.fs.Bool("verbose", false, "print the canonical request and string to sign on standard error")
	r, err := f.load(e, args)
	if err != nil {
		return err
	}
	date := *f.date
	if date == "" {
		date = e.now().UTC().Format(sdkDateLayout)
	} else if _, err := time.Parse(sdkDateLayout, date); err != nil {
		return simulator.Errorf(simulator.EINVALID, "--date", "%q is not yyyyMMddTHHmmssZ (e.g. 20191115T033655Z)", date)
	}
	r.Header.Set("X-Sdk-Date", date)
	var signed []string
	for name := range r.Header {
		signed = append(signed, name)
	}
	if *verbose {
		fmt.Fprintf(e.stderr, "canonical request:\n%s\n\nstring to sign:\n%s\n\n", r.Canonical(signed), r.StringToSign(signed))
	}
	auth := protocol.SignAPIG(*f.ak, *f.sk, r, signed)
	if *f.date == "" {
		fmt.Fprintf(e.stdout, "X-Sdk-Date: %s\nAuthorization: %s\n", date, auth)
	} else {
		fmt.Fprintln(e.stdout, auth)
	}
	return nil
}
