// Package web holds what kgsim shows to people in a browser, embedded in
// the binary: the page templates (html/template) and the static files they
// link to. It renders nothing itself; the packages that serve a page
// (identity for the unified login page) parse the templates once and fill
// them.
package web

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed templates/*.html static/*
var files embed.FS

// Templates parses every page template; each is named after its file
// (login.html).
func Templates() (*template.Template, error) {
	return template.ParseFS(files, "templates/*.html")
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
