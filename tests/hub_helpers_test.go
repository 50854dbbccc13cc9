package tests

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prefer-rlhf/prefer/tests/worker"
)

// hubBinary is the real `prefer` binary the hub tests run (worker.PreferBin: $PREFER_BIN, or
// one built once into a temporary directory).
func hubBinary(t *testing.T) string {
	t.Helper()
	bin, err := worker.PreferBin()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// hubProc is a running `prefer serve`.
type hubProc struct {
	cmd     *exec.Cmd
	base    string // http://host:port
	code    string // the default project's join code
	teacher string // the teacher token
	stderr  *bytes.Buffer
	done    chan struct{}
}

var linkRE = regexp.MustCompile(`(http://[^/\s]+)/(join\?code=|teacher\?token=)(\S+)`)

// startHub runs `prefer serve` on a free loopback port with the given database and flags, and
// waits until it answers.
func startHub(t *testing.T, db string, flags ...string) *hubProc {
	t.Helper()
	args := append([]string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, flags...)
	cmd := exec.Command(hubBinary(t), args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	h := &hubProc{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = &lockedWriter{w: h.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(h.done) }()
	t.Cleanup(func() { h.kill() })
	sc := bufio.NewScanner(out)
	deadline := time.After(30 * time.Second)
	lines := make(chan string)
	go func() {
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for h.code == "" || h.teacher == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("prefer serve exited early: %s", h.stderr)
			}
			if m := linkRE.FindStringSubmatch(l); m != nil {
				h.base = m[1]
				if strings.HasPrefix(m[2], "join") {
					h.code = m[3]
				} else {
					h.teacher = m[3]
				}
			}
		case <-deadline:
			t.Fatalf("prefer serve printed no links in 30 s: %s", h.stderr)
		}
	}
	go func() {
		for range lines {
		}
	}()
	for i := 0; ; i++ {
		resp, err := http.Get(h.base + "/api/v1/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if i > 300 {
			t.Fatalf("prefer serve does not answer: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return h
}

// kill ends the process with SIGKILL (kill -9) and waits for it.
func (h *hubProc) kill() {
	select {
	case <-h.done:
		return
	default:
	}
	h.cmd.Process.Kill()
	<-h.done
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// hubClient calls the API.
type hubClient struct {
	http *http.Client
}

func newHubClient() *hubClient {
	return &hubClient{http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

// call sends a JSON request and decodes a JSON answer; it returns the status.
func (c *hubClient) call(method, url, token string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	if out != nil {
		return resp.StatusCode, json.Unmarshal(b, out)
	}
	return resp.StatusCode, nil
}

type hubJoin struct {
	RaterID   string `json:"rater_id"`
	Token     string `json:"token"`
	ProjectID string `json:"project_id"`
}

type hubClip struct {
	ID            string      `json:"id"`
	Env           string      `json:"env"`
	PolicyVersion int         `json:"policy_version"`
	StartState    []float64   `json:"start_state"`
	Actions       [][]float64 `json:"actions"`
}

type hubPair struct {
	ID    string  `json:"id"`
	Left  hubClip `json:"left"`
	Right hubClip `json:"right"`
}

type hubSync struct {
	Accepted   []string  `json:"accepted"`
	Duplicates []string  `json:"duplicates"`
	Rejected   []any     `json:"rejected"`
	Pairs      []hubPair `json:"pairs"`
	Project    struct {
		ModelVersion  int `json:"model_version"`
		PolicyVersion int `json:"policy_version"`
	} `json:"project"`
}

func (c *hubClient) join(base, code, name string) (hubJoin, error) {
	var j hubJoin
	_, err := c.call("POST", base+"/api/v1/join", "", map[string]string{"join_code": code, "name": name}, &j)
	return j, err
}

// exportIDs returns the ids of every comparison of a project, via the teacher export.
func (c *hubClient) exportIDs(base, teacher, pid string) ([]string, error) {
	req, _ := http.NewRequest("GET", base+"/api/v1/projects/"+pid+"/export?format=jsonl", nil)
	req.Header.Set("Authorization", "Bearer "+teacher)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("export: %d %s", resp.StatusCode, b)
	}
	var ids []string
	dec := json.NewDecoder(resp.Body)
	for dec.More() {
		var row struct {
			ID string `json:"id"`
		}
		if err := dec.Decode(&row); err != nil {
			return nil, err
		}
		ids = append(ids, row.ID)
	}
	return ids, nil
}
