package worker

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	RemoveBuild()
	os.Exit(code)
}

// TestWranglerDevServesHealthFromD1 starts the Worker under wrangler dev --local on a fresh D1
// database with the store's migrations, checks that health reads the database, and that Stop
// ends the server.
func TestWranglerDevServesHealthFromD1(t *testing.T) {
	s := Start(t, nil)
	res, err := http.Get(s.URL + "/api/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Status        string `json:"status"`
		SchemaVersion int    `json:"schema_version"`
	}
	err = json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || body.Status != "ok" {
		t.Fatalf("health: %d %+v %v", res.StatusCode, body, err)
	}
	if body.SchemaVersion < 2 {
		t.Errorf("schema_version %d: the migrations were not applied", body.SchemaVersion)
	}
	// The browser app is served from public/ on the same origin; /api/* reaches the Worker, and
	// so does the teacher's link, which leads to the dashboard (server/classroom) as under
	// prefer serve.
	for _, c := range []struct{ path, ctype, want string }{
		{"/", "text/html", "<title>Prefer</title>"},
		{"/join?code=ABC123", "text/html", "<title>Prefer</title>"},
		{"/teacher?token=x", "text/html", `id="rater_rows"`},
		{"/app.css", "text/css", ""},
		{"/api/v1/no-such-route", "application/json", `"not_found"`},
	} {
		res, err := http.Get(s.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.HasPrefix(res.Header.Get("Content-Type"), c.ctype) || !strings.Contains(string(b), c.want) {
			t.Errorf("GET %s: %d %s %.80q", c.path, res.StatusCode, res.Header.Get("Content-Type"), b)
		}
	}
	t.Logf("worker: app.wasm %d bytes, upload %d bytes gzipped", s.Build.WasmBytes, s.Build.UploadGzip)
	if s.Build.UploadGzip > 10<<20 {
		t.Errorf("the Worker is %d bytes gzipped, over the paid plan's 10 MB limit", s.Build.UploadGzip)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 2 * time.Second}
	if res, err := c.Get(s.URL + "/api/v1/health"); err == nil {
		res.Body.Close()
		t.Fatalf("the server still answers after Stop: %d", res.StatusCode)
	}
}
