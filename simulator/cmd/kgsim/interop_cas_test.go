package main

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/kgsim/kgsim/simulator/envtest"
	cas "gopkg.in/cas.v2"
)

// CAS clients that no one here wrote against kgsim serve: gopkg.in/cas.v2,
// and Apache httpd with mod_auth_cas (Debian's packages) protecting a
// page. Both read XML only, and mod_auth_cas cannot ask for it (it sets
// the validation URL's query to service and ticket alone): kgsim must be
// told to answer XML, with --cas-format xml.

// gopkg.in/cas.v2 against kgsim serve --cas-format xml: a ticket from the
// login page validated once, with the user and the attributes, and refused
// the second time (identity.md §4).
func TestCASLibraryAgainstServe(t *testing.T) {
	p := startIdentityServe(t, buildKgsim(t), "--cas-format", "xml")
	m := registration{tenantCode: "interop-cas", clientID: "interop-cas-client", clientSecret: rand.Text(),
		casService: "https://crm.example/cas/callback", userName: "zhangsan", password: rand.Text()}
	tenantID := register(t, p, m)
	b := p.browser(t)
	login := p.domain(m.tenantCode) + "/cas/login?service=" + url.QueryEscape(m.casService)
	back := b.logIn(t, b.get(t, login), m.userName, m.password).redirectedTo(t, m.casService+"?")
	ticket := back.Query().Get("ticket")

	casURL, err := url.Parse(p.domain(m.tenantCode) + "/cas/")
	if err != nil {
		t.Fatal(err)
	}
	service, err := url.Parse(m.casService)
	if err != nil {
		t.Fatal(err)
	}
	validator := cas.NewServiceTicketValidator(&http.Client{Timeout: clientTimeout}, casURL)
	res, err := validator.ValidateTicket(service, ticket)
	if err != nil {
		t.Fatalf("cas.v2 validation of the ticket %s came back with: %v", back, err)
	}
	if res.User != m.userName || !res.IsNewLogin || res.Attributes.Get("tenant") != tenantID || res.Attributes.Get("name") != "张三" {
		t.Errorf("cas.v2 read user %q, new login %t, attributes %v; want %s, true, tenant %s and name 张三",
			res.User, res.IsNewLogin, res.Attributes, m.userName, tenantID)
	}
	_, err = validator.ValidateTicket(service, ticket)
	var authErr *cas.AuthenticationError
	if !errors.As(err, &authErr) || authErr.Code != "INVALID_TICKET" {
		t.Errorf("the ticket validated again: %v, want cas.v2's AuthenticationError INVALID_TICKET", err)
	}
}

// debianApache and debianModules are where Debian's apache2 and
// libapache2-mod-auth-cas install the server and the modules.
const (
	debianApache  = "/usr/sbin/apache2"
	debianModules = "/usr/lib/apache2/modules"
)

// apacheWithCAS returns the server and the modules' directory. Without
// them the test is skipped, unless KGSIM_REQUIRE_APACHE is set (CI sets
// it after scripts/install-apache-cas.sh), where it fails.
func apacheWithCAS(t *testing.T) (bin, modules string) {
	t.Helper()
	bin, msg := findApache()
	if msg == "" {
		return bin, debianModules
	}
	if os.Getenv("KGSIM_REQUIRE_APACHE") != "" {
		t.Fatal(msg + "; KGSIM_REQUIRE_APACHE is set, so the Apache test must run")
	}
	t.Skip(msg + "; skipped (set KGSIM_REQUIRE_APACHE=1 to fail instead)")
	return "", ""
}

// findApache returns the server, or why it or the CAS module is missing.
func findApache() (bin, missing string) {
	bin, err := exec.LookPath("apache2")
	if err != nil {
		bin = debianApache // /usr/sbin is not on every user's PATH
	}
	var absent []string
	if _, err := os.Stat(bin); err != nil {
		absent = append(absent, "apache2 (Debian's apache2 package)")
	}
	if _, err := os.Stat(filepath.Join(debianModules, "mod_auth_cas.so")); err != nil {
		absent = append(absent, filepath.Join(debianModules, "mod_auth_cas.so")+" (Debian's libapache2-mod-auth-cas package)")
	}
	if len(absent) == 0 {
		return bin, ""
	}
	return "", "no " + strings.Join(absent, " and no ") + ": scripts/install-apache-cas.sh installs them"
}

// apacheNeed is Apache with mod_auth_cas as a need of this package's
// tests (TestMain).
func apacheNeed() envtest.Need {
	return envtest.Need{Name: "Apache with mod_auth_cas", Missing: func() string {
		if _, msg := findApache(); msg != "" {
			return msg + " (set KGSIM_REQUIRE_APACHE=1 to fail instead)"
		}
		return ""
	}}
}

// apacheConf protects /secret/ with CAS at kgsim. The page shows
// REMOTE_USER through server-side includes, which needs no CGI. Apache
// run as root serves from a user of its own (User, Group).
var apacheConf = template.Must(template.New("httpd.conf").Parse(`ServerRoot "{{.Dir}}"
ServerName 127.0.0.1
Listen {{.Addr}}
PidFile "{{.Dir}}/httpd.pid"
DefaultRuntimeDir "{{.Dir}}"
ErrorLog "{{.Dir}}/error.log"
LogLevel warn auth_cas:debug
{{with .User}}User {{.}}
Group {{.}}
{{end -}}
LoadModule mpm_event_module "{{.Modules}}/mod_mpm_event.so"
LoadModule authn_core_module "{{.Modules}}/mod_authn_core.so"
LoadModule authz_core_module "{{.Modules}}/mod_authz_core.so"
LoadModule authz_user_module "{{.Modules}}/mod_authz_user.so"
LoadModule mime_module "{{.Modules}}/mod_mime.so"
LoadModule include_module "{{.Modules}}/mod_include.so"
LoadModule auth_cas_module "{{.Modules}}/mod_auth_cas.so"
TypesConfig /dev/null
AddType text/html .html
DocumentRoot "{{.Dir}}/htdocs"

CASLoginURL {{.CAS}}/login
CASValidateURL {{.CAS}}/p3/serviceValidate
CASVersion 2
CASValidateSAML Off
# Required although CAS is reached over http here.
CASCertificatePath "{{.Dir}}/ca.pem"
CASCookiePath "{{.Dir}}/cas/"
CASDebug On

<Location /secret/>
	AuthType CAS
	Require valid-user
	Options +Includes
	AddOutputFilter INCLUDES .html
</Location>
`))

// apache is a running httpd.
type apache struct {
	errorLog string
}

// log is Apache's error log, where mod_auth_cas says why it refused.
func (a apache) log() string {
	b, _ := os.ReadFile(a.errorLog)
	return string(b)
}

// startApache starts httpd on addr, with /secret/hello.html protected by
// the CAS server at casBase (a tenant's .../api/v1/cas), and returns once it
// accepts connections.
func startApache(t *testing.T, bin, modules, addr, casBase string) apache {
	t.Helper()
	dir := t.TempDir()
	conf := struct{ Dir, Addr, Modules, CAS, User string }{dir, addr, modules, casBase, ""}
	files := map[string]string{
		"htdocs/secret/hello.html": `hello <!--#echo var="REMOTE_USER" -->` + "\n",
		"ca.pem":                   "",
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cookies := filepath.Join(dir, "cas")
	if err := os.Mkdir(cookies, 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// httpd will not serve as root: its workers run as www-data, which
		// must reach the page and write mod_auth_cas's cookies.
		conf.User = "www-data"
		u, err := user.Lookup(conf.User)
		if err != nil {
			t.Fatalf("apache2 run as root serves as %s: %v", conf.User, err)
		}
		uid, err := strconv.Atoi(u.Uid)
		if err != nil {
			t.Fatal(err)
		}
		gid, err := strconv.Atoi(u.Gid)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(cookies, uid, gid); err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o711); err != nil {
				t.Fatal(err)
			}
		}
	}
	var text strings.Builder
	if err := apacheConf.Execute(&text, conf); err != nil {
		t.Fatal(err)
	}
	confPath := filepath.Join(dir, "httpd.conf")
	if err := os.WriteFile(confPath, []byte(text.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	a := apache{errorLog: filepath.Join(dir, "error.log")}

	cmd := exec.Command(bin, "-f", confPath, "-DFOREGROUND")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	// Its own process group, so that stopping it reaches its workers.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) // a graceful stop
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return a
		}
		select {
		case <-exited:
			t.Fatalf("apache2 exited before accepting connections:\n%s\n%s", out.String(), a.log())
		case <-ctx.Done():
			t.Fatalf("apache2 accepts no connection on %s after 20 s:\n%s", addr, a.log())
		case <-time.After(20 * time.Millisecond): // the next poll
		}
	}
}

// Apache httpd with mod_auth_cas protects a page and logs its user in
// through kgsim serve --cas-format xml: the page redirects to kgsim's CAS
// login, the user logs in, Apache validates the ticket with kgsim server to
// server and shows the page with the user's name; the same ticket given
// again is refused. With kgsim's default JSON answer, the docs' default,
// mod_auth_cas cannot read the validation and refuses the user: kgsim must
// be told to answer XML.
func TestApacheModAuthCASAgainstServe(t *testing.T) {
	httpd, modules := apacheWithCAS(t)
	kgsimBin := buildKgsim(t)
	for _, tc := range []struct {
		format string
		reads  bool // whether mod_auth_cas reads kgsim's answer
	}{{"xml", true}, {"json", false}} {
		t.Run("cas-format "+tc.format, func(t *testing.T) {
			p := startIdentityServe(t, kgsimBin, "--cas-format", tc.format)
			addr := freeAddr(t)
			page := "http://" + addr + "/secret/hello.html"
			m := registration{tenantCode: "interop-apache", clientID: "interop-apache-client", clientSecret: rand.Text(),
				casService: page, userName: "zhangsan", password: rand.Text()}
			register(t, p, m)
			casBase := p.domain(m.tenantCode) + "/cas"
			a := startApache(t, httpd, modules, addr, casBase)

			b := newBrowser(nil)
			pg := b.get(t, page)
			if len(b.sent) == 0 || !strings.HasPrefix(b.sent[0].String(), casBase+"/login?") || b.sent[0].Query().Get("service") != page {
				t.Fatalf("the protected page sent the browser to %v, want kgsim's CAS login for %s", b.sent, page)
			}
			sent := len(b.sent)
			pg = b.logIn(t, pg, m.userName, m.password)
			ticket := ticketSent(b.sent[sent:], page)
			if ticket == "" {
				t.Fatalf("after the login the browser went to %v, none of them the page with a ticket", b.sent[sent:])
			}
			if !tc.reads {
				if pg.status != http.StatusUnauthorized || strings.Contains(pg.body, "hello") {
					t.Fatalf("Apache answered %d at %s:\n%s\nwant 401: mod_auth_cas reads XML only", pg.status, pg.url, pg.body)
				}
				if !strings.Contains(a.log(), "error parsing CASv2 response") {
					t.Errorf("Apache refused the user, but not for the JSON answer:\n%s", a.log())
				}
				return
			}
			if pg.status != http.StatusOK || pg.url.String() != page || pg.body != "hello "+m.userName+"\n" {
				t.Fatalf("Apache answered %d at %s: %q; want 200 at %s with %q\n%s", pg.status, pg.url, pg.body, page, "hello "+m.userName, a.log())
			}

			// The ticket given again, from another browser, is refused.
			replay := newBrowser(nil).get(t, page+"?ticket="+url.QueryEscape(ticket))
			if replay.status != http.StatusUnauthorized || strings.Contains(replay.body, "hello") {
				t.Errorf("the ticket given again: %d at %s: %q; want 401", replay.status, replay.url, replay.body)
			}
			if !strings.Contains(a.log(), `code="INVALID_TICKET"`) {
				t.Errorf("Apache's log does not show kgsim's INVALID_TICKET for the replayed ticket:\n%s", a.log())
			}
		})
	}
}

// ticketSent is the ticket of the first of urls that is page with a
// ticket, or "".
func ticketSent(urls []*url.URL, page string) string {
	for _, u := range urls {
		if ticket := u.Query().Get("ticket"); ticket != "" && strings.HasPrefix(u.String(), page+"?") {
			return ticket
		}
	}
	return ""
}
