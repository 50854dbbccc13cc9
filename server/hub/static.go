package hub

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
)

// static serves the browser app from an fs.FS with correct content types and compression:
// brotli when the client accepts it and a precompressed name.br file exists (Go's standard
// library has no brotli encoder; build.sh writes the .br files), else gzip: a precompressed
// name.gz, or the file compressed once and cached.
type static struct {
	fsys  fs.FS
	mu    sync.Mutex
	cache map[string]*asset // by file name and encoding ("", "gzip", "br")
}

type asset struct {
	body     []byte
	etag     string
	encoding string
}

func newStatic(fsys fs.FS) *static { return &static{fsys: fsys, cache: map[string]*asset{}} }

// contentTypes fixes types that mime.TypeByExtension may not know on a minimal system.
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".wasm":        "application/wasm",
	".json":        "application/json",
	".webmanifest": "application/manifest+json",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".ico":         "image/x-icon",
	".txt":         "text/plain; charset=utf-8",
}

func contentType(name string) string {
	ext := path.Ext(name)
	if ct, ok := contentTypes[ext]; ok {
		return ct
	}
	if ct := mime.TypeByExtension(ext); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

// compressible reports whether gzip is worth it for this type (images are compressed already).
func compressible(ct string) bool {
	return strings.HasPrefix(ct, "text/") || strings.HasPrefix(ct, "application/wasm") ||
		strings.Contains(ct, "json") || strings.Contains(ct, "svg") || strings.Contains(ct, "javascript")
}

// appIndex serves index.html for the app's routes (/join, /teacher); the app reads the query.
func (h *Hub) appIndex(w http.ResponseWriter, r *http.Request) { h.appFile(w, r, "index.html") }

// appFiles serves the app's files at /.
func (h *Hub) appFiles(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	h.appFile(w, r, name)
}

func (h *Hub) appFile(w http.ResponseWriter, r *http.Request, name string) {
	s := h.static
	if !fs.ValidPath(name) || strings.HasSuffix(name, ".go") || !s.exists(name) {
		h.writeError(w, r, errNotFound("", "no file /"+name))
		return
	}
	ct := contentType(name)
	accept := r.Header.Get("Accept-Encoding")
	var a *asset
	var err error
	switch {
	case acceptsEncoding(accept, "br") && s.exists(name+".br"):
		a, err = s.load(name, "br")
	case acceptsEncoding(accept, "gzip") && compressible(ct):
		a, err = s.load(name, "gzip")
	default:
		a, err = s.load(name, "")
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", ct)
	hd.Set("ETag", a.etag)
	hd.Set("Vary", "Accept-Encoding")
	// The app's files are not fingerprinted: let the browser (and the service worker) revalidate
	// each time, which costs a 304 when nothing changed.
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	if a.encoding != "" {
		hd.Set("Content-Encoding", a.encoding)
	}
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Length", itoa(len(a.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(a.body)
	}
}

func (s *static) exists(name string) bool {
	st, err := fs.Stat(s.fsys, name)
	return err == nil && !st.IsDir()
}

// load returns a file's bytes in an encoding, reading (and compressing) it once.
func (s *static) load(name, encoding string) (*asset, error) {
	key := name + "\x00" + encoding
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.cache[key]; ok {
		return a, nil
	}
	var body []byte
	var err error
	switch encoding {
	case "br":
		body, err = fs.ReadFile(s.fsys, name+".br")
	case "gzip":
		if s.exists(name + ".gz") {
			body, err = fs.ReadFile(s.fsys, name+".gz")
			break
		}
		var raw []byte
		if raw, err = fs.ReadFile(s.fsys, name); err == nil {
			var b bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
			zw.Write(raw)
			zw.Close()
			body = b.Bytes()
		}
	default:
		body, err = fs.ReadFile(s.fsys, name)
	}
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	a := &asset{body: body, etag: `"` + hex.EncodeToString(sum[:8]) + encoding + `"`, encoding: encoding}
	s.cache[key] = a
	return a, nil
}

// acceptsEncoding reports whether an Accept-Encoding header accepts enc (q > 0).
func acceptsEncoding(header, enc string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), enc) && strings.TrimSpace(name) != "*" {
			continue
		}
		params = strings.ReplaceAll(params, " ", "")
		if params == "q=0" || params == "q=0.0" || params == "q=0.00" || params == "q=0.000" {
			return false
		}
		return true
	}
	return false
}
