package server

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/crossbill/crossbill"
)

// uiFiles is the web UI: plain HTML, CSS and JavaScript modules, no build
// step, nothing loaded from elsewhere.
//
//go:embed ui
var uiFiles embed.FS

// uiHandler serves the UI's files; any other path gets index.html, whose
// script routes on the URL fragment.
func (s *Server) uiHandler() http.Handler {
	sub, err := fs.Sub(uiFiles, "ui")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, r, crossbill.Errorf(crossbill.CodeInvalid, "ui", "the web UI answers GET only"))
			return
		}
		p := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if p == "" || p == "." {
			p = "index.html"
		}
		if _, err := fs.Stat(sub, p); err != nil {
			p = "index.html"
		}
		w.Header().Set("Cache-Control", "no-cache")
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + p
		if p == "index.html" {
			// FileServer redirects /index.html to /; serve the bytes directly.
			b, err := fs.ReadFile(sub, "index.html")
			if err != nil {
				writeError(w, r, err)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			if _, err := w.Write(b); err != nil {
				logger(r.Context()).Debug("writing index", "err", err)
			}
			return
		}
		files.ServeHTTP(w, r2)
	})
}
