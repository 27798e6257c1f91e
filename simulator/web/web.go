// Package web holds what kgsim shows to people in a browser, embedded in
// the binary: the page templates (html/template) and the static files they
// link to. It renders nothing itself; the packages that serve a page
// (identity for the unified login page, httpapi for the console) parse the
// templates once and fill them.
package web

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed templates/*.html templates/console/*.html static/*
var files embed.FS

// Templates parses every page template; each is named after its file
// (login.html).
func Templates() (*template.Template, error) {
	return template.ParseFS(files, "templates/*.html")
}

// Console parses the console's pages, by file name (messages.html): each
// page file of templates/console with the files every page shares, whose
// names start with "_" (the layout, executed as "layout", and the parts
// pages include). funcs are the helpers the templates call.
func Console(funcs template.FuncMap) (map[string]*template.Template, error) {
	names, err := fs.Glob(files, "templates/console/*.html")
	if err != nil {
		return nil, err
	}
	var shared, pages []string
	for _, n := range names {
		if strings.HasPrefix(path.Base(n), "_") {
			shared = append(shared, n)
		} else {
			pages = append(pages, n)
		}
	}
	out := make(map[string]*template.Template, len(pages))
	for _, p := range pages {
		t, err := template.New(path.Base(p)).Funcs(funcs).ParseFS(files, append(shared[:len(shared):len(shared)], p)...)
		if err != nil {
			return nil, err
		}
		out[path.Base(p)] = t
	}
	return out, nil
}

// Static serves the static files by name, for a caller that strips its own
// prefix first. It lists no directories, and lets browsers keep a file for
// an hour: the files change only with the binary.
func Static() http.Handler {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // "static" is embedded above: cannot fail
	}
	server := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		server.ServeHTTP(w, r)
	})
}
