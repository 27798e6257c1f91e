package main

import (
	"context"
	"errors"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kgsim/kgsim/fixtures"
	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/certify"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/kgsim/kgsim/steps"
)

func certifyCommand() *command {
	return &command{
		name:    "certify",
		summary: "run the certification suite against a merchant's production interface",
		help: `Usage: kgsim certify --merchant-url URL --access-key KEY [--protocol v2|v1]
                     [--encrypt-type 1|2] [--modes MODES] [--catalogue FILE] [--features DIR]
                     [--order-notify-key KEY] [--timeout DURATION]
                     [--tags EXPR] [--format FORMAT]... [--strict]
                     [--kit-key KEY --public-key FILE [--app-id ID]]
                     [--login-url URL --redirect-uri URL [--refresh-url URL] [--logout-url URL]]
                     [--cas-login-url URL --cas-service URL]
                     [--open-api-addr HOST:PORT --ak AK --sk SK [--usage-wait DURATION] [--license-url URL]]
       kgsim certify --merchant-image IMAGE --merchant-port PORT [--merchant-path PATH]
                     [--merchant-env K=V]... --access-key KEY [the flags above]

Drives the merchant's real service through the marketplace's lifecycles
(purchase, renewal, freeze, release, upgrade, retries...) and checks every
answer as the marketplace would. Each failure shows the scenario and step,
the request sent with its signing inputs, the response, the spec section
and a hint at the fix.

  --merchant-url    the production interface, e.g. http://127.0.0.1:8081/produce
  --access-key      the key bound to the basic interfaces (never printed)
  --protocol        v2 (default, POST callbacks) or v1 (GET callbacks)
  --encrypt-type    the encryptType the merchant declares for appInfo:
                    1 (AES-256, default) or 2 (AES-128)
  --modes           the charging modes the merchant sells, comma-separated:
                    period, trial, on-demand, package, license, and upgrade
                    when its products can be upgraded (default: those of
                    --catalogue, else period,trial); checks of other modes
                    are not run
  --catalogue       the merchant's products, as in the products.json kgsim
                    serve --fixtures reads (url, protocol and accessKey may
                    be left out: the flags give them); the scenarios buy
                    them, one per charging mode, instead of kgsim's sample;
                    a product with "interfaceType": "generic" and its
                    "orderNotifyKey" is bought by the orderNotify checks
  --order-notify-key  the key bound to the generic order notification
                    (通用接口) that signs orderNotify (never printed): runs the
                    orderNotify checks (V2), with the catalogue's generic
                    product, whose key it replaces, or kgsim's sample product
  --features        a directory of the merchant's own .feature files, run after
                    kgsim's with the same steps (kgsim steps lists them), tags
                    and levels; an undefined step stops the run before it starts
  --timeout         the marketplace's limit for an answer (default 20s)
  --tags            select scenarios: tags joined by && (and) and , (or),
                    ~ negating one, e.g. "@required && ~@retries"
  --format          pretty (the terminal report, always printed),
                    junit:PATH, cucumber:PATH or html:PATH; repeatable
  --strict          recommended checks count as required
  --merchant-image  a local Docker image of the merchant's service, started
                    for the run and always removed afterwards (nothing is
                    pulled: build it first)
  --merchant-port   the port the service listens on inside the container
  --merchant-path   the production interface's path (default /produce)
  --merchant-env    K=V for the container's environment; repeatable

Joint operation (checks run only when their flags are given; the login
and CAS entries only with --merchant-url, as the application must reach
kgsim's identity provider on this machine's loopback):
  --kit-key         the key bound to 联营SaaS同步接口 that signs the kit syncs
                    (never printed); with --public-key, the kit syncs go to
                    the production interface + /produceAPI/v2/{call}
  --public-key      the application's RSA public key (PEM, 3072 bits or more)
                    that applicationSync encrypts clientSecret with
  --app-id          the application's appId (default kgsim-certification-app)
  --login-url       the application's entry that starts an OAuth login; kgsim
                    opens it with ?tenant={tenantId} in a cookie-keeping client
  --redirect-uri    the login callback the application registers
  --refresh-url     an entry that renews the logged-in user's access token
  --logout-url      the entry that logs the user out
  --cas-login-url   the entry that starts a CAS login, opened with ?tenant=
  --cas-service     the CAS service URL the application registers

The merchant's calls to the marketplace's open APIs (checks run only with
--open-api-addr): kgsim serves the order query, the usage pushes and the
License APIs at that address while the run lasts; set the merchant's
marketplace API base to http://HOST:PORT and its AK/SK to the ones given
here. Each call the merchant makes goes to the scenario that owns its order,
instance or License code, and is judged and shown in the report.
  --open-api-addr   HOST:PORT where the open APIs are served, e.g. 127.0.0.1:8090
  --ak, --sk        the seller's AK/SK the merchant signs its calls with (the
                    SK never printed; better KGSIM_SK than --sk)
  --usage-wait      how long a scenario waits for the merchant to push an
                    on-demand instance's usage (default 10s)
  --license-url     the merchant's License software, opened with
                    ?license={code} as a buyer enters a License code

Exit status: 0 every required check passed (recommended failures are
warnings); 1 a required check failed; 2 the suite could not run (bad
flags, merchant unreachable at the start, Docker missing for
--merchant-image).

Example:
  kgsim certify --merchant-url http://127.0.0.1:8081/produce --access-key "$KEY" --format junit:report.xml
  kgsim certify --merchant-url http://127.0.0.1:8081/produce --access-key "$KEY" --kit-key "$KIT_KEY" \
      --public-key app.pub --login-url http://127.0.0.1:8081/app/login \
      --redirect-uri http://127.0.0.1:8081/app/callback
  kgsim certify --merchant-url http://127.0.0.1:8081/produce --access-key "$KEY" \
      --open-api-addr 127.0.0.1:8090 --ak "$AK" --license-url http://127.0.0.1:8081/license   # KGSIM_SK set
  kgsim certify --merchant-image kgsim-merchant:local --merchant-port 8081 \
      --merchant-env KGSIM_ACCESS_KEY=kgsim-sample-access-key --access-key kgsim-sample-access-key`,
		run: runCertify,
	}
}

// certifyConfig is kgsim certify's command line, checked.
type certifyConfig struct {
	target    steps.Target // its URL the container's, once started
	options   certify.Options
	container *certify.Container // nil with --merchant-url
}

func parseCertify(args []string) (certifyConfig, error) {
	f := newFlags()
	merchantURL := f.string("merchant-url", "URL (e.g. http://127.0.0.1:8081/produce)", "production interface")
	key := f.string("access-key", "KEY", "access key")
	notifyKey := f.string("order-notify-key", "KEY", "the generic order notification's key")
	proto := f.string("protocol", "v2|v1", "protocol")
	encrypt := f.string("encrypt-type", "1|2", "encryptType of appInfo")
	modes := f.string("modes", "MODES (e.g. period,trial)", "charging modes")
	catalogue := f.string("catalogue", "FILE (products.json format)", "the merchant's products")
	own := f.string("features", "DIR (the merchant's .feature files)", "the merchant's own scenarios")
	timeout := f.string("timeout", "DURATION (e.g. 20s)", "answer time limit")
	tags := f.string("tags", "EXPR (e.g. \"@required && ~@retries\")", "scenario selection")
	formats := f.list("format", "pretty|junit:PATH|cucumber:PATH|html:PATH", "report")
	strict := f.fs.Bool("strict", false, "recommended checks count as required")
	image := f.string("merchant-image", "IMAGE (e.g. kgsim-merchant:local)", "Docker image")
	port := f.string("merchant-port", "PORT (inside the container)", "container port")
	path := f.string("merchant-path", "PATH (e.g. /produce)", "production path")
	env := f.list("merchant-env", "K=V", "container environment")
	joint := jointFlags(f)
	api := newOpenAPIFlags(f)
	if _, err := f.parse(args, 0, ""); err != nil {
		return certifyConfig{}, err
	}
	var c certifyConfig
	switch {
	case *merchantURL == "" && *image == "":
		return c, simulator.Errorf(simulator.EINVALID, "--merchant-url", "required; want --merchant-url URL, or --merchant-image IMAGE --merchant-port PORT")
	case *merchantURL != "" && *image != "":
		return c, simulator.Errorf(simulator.EINVALID, "--merchant-image", "give either --merchant-url or --merchant-image, not both")
	case *image == "":
		for _, name := range []string{"merchant-port", "merchant-path", "merchant-env"} {
			if f.given(name) {
				return c, simulator.Errorf(simulator.EINVALID, "--"+name, "only with --merchant-image")
			}
		}
		if !absoluteHTTP(*merchantURL) {
			return c, simulator.Errorf(simulator.EINVALID, "--merchant-url", "%q: want an absolute http(s) URL such as http://127.0.0.1:8081/produce", *merchantURL)
		}
	default:
		if err := f.need("merchant-port", *port); err != nil {
			return c, err
		}
		n, err := strconv.Atoi(*port)
		if err != nil || n < 1 || n > 65535 {
			return c, simulator.Errorf(simulator.EINVALID, "--merchant-port", "%q: want the port the service listens on inside the container, 1 to 65535", *port)
		}
		if *path != "" && !strings.HasPrefix(*path, "/") {
			return c, simulator.Errorf(simulator.EINVALID, "--merchant-path", "%q: want a path starting with /, such as /produce", *path)
		}
		for _, kv := range *env {
			if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
				return c, simulator.Errorf(simulator.EINVALID, "--merchant-env", "%q: want K=V", kv)
			}
		}
		c.container = &certify.Container{Image: *image, Port: n, Path: *path, Env: *env}
	}
	if err := f.need("access-key", *key); err != nil {
		return c, err
	}
	t := steps.Target{URL: *merchantURL, AccessKey: *key, OpenStore: memoryStore}
	var err error
	if t.Protocol, err = parseProtocol(*proto); err != nil {
		return c, err
	}
	switch *encrypt {
	case "", "1", "2":
		t.EncryptType = *encrypt
	default:
		return c, simulator.Errorf(simulator.EINVALID, "--encrypt-type", "%q: want 1 (AES-256) or 2 (AES-128)", *encrypt)
	}
	switch {
	case *notifyKey != "" && t.Protocol != simulator.V2:
		return c, simulator.Errorf(simulator.EINVALID, "--order-notify-key", "only with --protocol v2: orderNotify is a V2 call (callbacks.md §5.15)")
	case *notifyKey != "" && *notifyKey == *key:
		return c, simulator.Errorf(simulator.EINVALID, "--order-notify-key", "is the --access-key; the seller center binds a separate key to the generic order notification (callbacks.md §5.15)")
	}
	t.OrderNotifyKey = *notifyKey
	if err := readCatalogue(&t, *catalogue); err != nil {
		return c, err
	}
	if *modes != "" || t.Products == nil {
		// --modes says what is certified, whatever the catalogue sells.
		t.Modes, t.Trial, t.License = nil, false, false
		if err := parseModes(&t, *modes); err != nil {
			return c, err
		}
	}
	if err := t.CheckCatalogue(); err != nil {
		msg := err.Error()
		if e, ok := errors.AsType[*simulator.Error](err); ok {
			msg = e.Message
		}
		return c, simulator.Errorf(simulator.EINVALID, "--catalogue", "%s: %s", *catalogue, msg)
	}
	if t.Timeout, err = parseTimeout(*timeout, 0); err != nil {
		return c, err
	}
	if err := joint.apply(f, &t); err != nil {
		return c, err
	}
	if c.container != nil {
		for _, fl := range jointFlagNames[3:] {
			if *joint[fl.name] != "" {
				return c, simulator.Errorf(simulator.EINVALID, "--"+fl.name, "not with --merchant-image: the container cannot reach kgsim's identity provider on this machine's loopback; certify the login with --merchant-url")
			}
		}
	}
	c.options = certify.Options{Tags: *tags, Formats: *formats, Strict: *strict, Features: *own}
	if err := api.apply(&c.options, &t); err != nil {
		return c, err
	}
	c.target = t
	return c, nil
}

// jointFlagNames are the flags of the joint-operation checks, the kit
// key and public key first.
var jointFlagNames = []struct{ name, form string }{
	{"kit-key", "KEY"}, {"public-key", "FILE (PEM)"}, {"app-id", "ID"},
	{"login-url", "URL"}, {"redirect-uri", "URL"}, {"refresh-url", "URL"}, {"logout-url", "URL"},
	{"cas-login-url", "URL"}, {"cas-service", "URL"},
}

// joint is the joint-operation flags' values, by name.
type joint map[string]*string

func jointFlags(f *flags) joint {
	j := joint{}
	for _, fl := range jointFlagNames {
		j[fl.name] = f.string(fl.name, fl.form, fl.name)
	}
	return j
}

// apply checks the joint-operation flags and sets them on t: the kit key
// and public key go together and differ from the access key; the login
// and CAS entries need them, and each entry its callback.
func (j joint) apply(f *flags, t *steps.Target) error {
	v := func(name string) string { return *j[name] }
	for _, pair := range [][2]string{{"kit-key", "public-key"}, {"login-url", "redirect-uri"}, {"cas-login-url", "cas-service"}} {
		for i, name := range pair {
			if v(name) != "" && v(pair[1-i]) == "" {
				return simulator.Errorf(simulator.EINVALID, "--"+pair[1-i], "required with --%s; want --%s %s", name, pair[1-i], f.forms[pair[1-i]])
			}
		}
	}
	for _, fl := range jointFlagNames[3:] {
		if v(fl.name) != "" && !absoluteHTTP(v(fl.name)) {
			return simulator.Errorf(simulator.EINVALID, "--"+fl.name, "%q: want an absolute http(s) URL such as http://127.0.0.1:8081/app/login", v(fl.name))
		}
	}
	for _, name := range []string{"refresh-url", "logout-url"} {
		if v(name) != "" && v("login-url") == "" {
			return simulator.Errorf(simulator.EINVALID, "--"+name, "only with --login-url: the user logs in first")
		}
	}
	for _, fl := range jointFlagNames[2:] {
		if v(fl.name) != "" && v("kit-key") == "" {
			return simulator.Errorf(simulator.EINVALID, "--"+fl.name, "needs --kit-key and --public-key: the application learns its enterprises and client pairs from the kit syncs")
		}
	}
	if v("kit-key") == "" {
		return nil
	}
	if v("kit-key") == t.AccessKey {
		return simulator.Errorf(simulator.EINVALID, "--kit-key", "is the --access-key; the kit key is a separate key, bound to 联营SaaS同步接口 (kit-sync.md §2)")
	}
	pem, err := os.ReadFile(v("public-key"))
	if err != nil {
		return simulator.Errorf(simulator.EINVALID, "--public-key", "cannot read %s: %v (want the PEM file of the application's public key)", v("public-key"), errors.Unwrap(err))
	}
	if _, err := protocol.ParsePublicKeyPEM(pem); err != nil {
		return invalid("--public-key", err)
	}
	t.KitKey, t.PublicKeyPEM, t.AppID = v("kit-key"), string(pem), v("app-id")
	t.LoginURL, t.RedirectURI, t.RefreshURL, t.LogoutURL = v("login-url"), v("redirect-uri"), v("refresh-url"), v("logout-url")
	t.CASLoginURL, t.CASService = v("cas-login-url"), v("cas-service")
	return nil
}

// parseProtocol reads --protocol: v2 when empty.
func parseProtocol(v string) (simulator.Protocol, error) {
	switch strings.ToLower(v) {
	case "", "v2":
		return simulator.V2, nil
	case "v1":
		return simulator.V1, nil
	}
	return "", simulator.Errorf(simulator.EINVALID, "--protocol", "%q: want v2 or v1", v)
}

// parseTimeout reads --timeout: def when empty.
func parseTimeout(v string, def time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, simulator.Errorf(simulator.EINVALID, "--timeout", "%q: want a positive duration such as 20s", v)
	}
	return d, nil
}

// absoluteHTTP reports whether s is an absolute http(s) URL.
func absoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// readCatalogue reads --catalogue into the target: the merchant's products
// and, until --modes says otherwise, the modes they are sold in.
func readCatalogue(t *steps.Target, path string) error {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return simulator.Errorf(simulator.EINVALID, "--catalogue", "cannot read %s: %v (want the merchant's products, as in products.json)", path, errors.Unwrap(err))
	}
	ps, err := fixtures.Products(path, data)
	if err != nil {
		return simulator.Errorf(simulator.EINVALID, "--catalogue", "%v", err)
	}
	t.Products = ps
	t.Modes, t.Trial, t.License = steps.CatalogueModes(ps)
	return nil
}

// parseModes reads --modes into the target: period,trial when empty.
func parseModes(t *steps.Target, v string) error {
	if v == "" {
		v = "period,trial"
	}
	for m := range strings.SplitSeq(v, ",") {
		switch strings.TrimSpace(strings.ToLower(m)) {
		case "period":
			t.Modes = append(t.Modes, simulator.Period)
		case "trial":
			t.Trial = true
		case "on-demand":
			t.Modes = append(t.Modes, simulator.OnDemand)
		case "package":
			t.Modes = append(t.Modes, simulator.OnDemandPkg)
		case "license":
			t.License = true
		case "upgrade":
			t.Upgrade = true
		default:
			return simulator.Errorf(simulator.EINVALID, "--modes", "%q: want a comma-separated list of period, trial, on-demand, package, license, upgrade", v)
		}
	}
	if len(t.Modes) == 0 {
		// Trial and License are kinds of a product sold by period.
		t.Modes = []simulator.ChargingMode{simulator.Period}
	}
	return nil
}

func runCertify(e *env, args []string) error {
	c, err := parseCertify(args)
	if err != nil {
		return err
	}
	ctx := e.context()
	if c.container != nil {
		c.container.Progress = e.stdout
		m, err := certify.StartMerchant(ctx, *c.container)
		if err != nil {
			return couldNotRun(err)
		}
		// Removed on every way out: a failed run, an error, an interrupt
		// (ctx is cancelled by SIGINT, the suite stops, this runs).
		defer m.Close()
		c.target.URL = m.URL
	}
	c.options.Steps, c.options.Out = steps.NewCertification(c.target), e.stdout
	r, err := certify.Run(ctx, c.options)
	if err != nil {
		return couldNotRun(err)
	}
	if r.ExitCode() != 0 {
		return verdictError{}
	}
	return nil
}

// flagOf names the command-line flag of a certify field in errors.
func flagOf(field string) string {
	switch field {
	case "tags", "format", "catalogue", "features", "open-api-addr", "ak":
		return "--" + field
	case "merchant URL", "merchant image", "merchant port", "merchant path":
		return "--" + strings.ReplaceAll(strings.ToLower(field), " ", "-")
	}
	return field
}

// couldNotRun makes any error of a run that did not happen exit 2, naming
// the flag it is about.
func couldNotRun(err error) error {
	if errors.Is(err, context.Canceled) {
		return simulator.Errorf(simulator.EINVALID, "", "%v", err)
	}
	if e, ok := errors.AsType[*simulator.Error](err); ok {
		return simulator.Errorf(simulator.EINVALID, flagOf(e.Field), "%s", e.Message)
	}
	return simulator.Errorf(simulator.EINVALID, "", "%v", err)
}
