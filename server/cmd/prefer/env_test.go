package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/prefer-rlhf/prefer/core/env"
)

func runPrefer(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestEnvReplay(t *testing.T) {
	in := `{"env": "CartPole-v1", "start_state": [0.01, -0.02, 0.03, 0.04], "actions": [1, 0, [1], 1, 0]}`
	code, out, errs := runPrefer(in, "env", "replay")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var got struct {
		States     [][]float64 `json:"states"`
		Rewards    []float64   `json:"rewards"`
		Terminated []bool      `json:"terminated"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	states, rewards, terminated, _ := env.Replay("CartPole-v1", []float64{0.01, -0.02, 0.03, 0.04}, [][]float64{{1}, {0}, {1}, {1}, {0}})
	// Full precision: the printed floats parse back to exactly the same float64s.
	if !reflect.DeepEqual(got.States, states) || !reflect.DeepEqual(got.Rewards, rewards) || !reflect.DeepEqual(got.Terminated, terminated) {
		t.Fatalf("replay output %s differs from env.Replay %v %v %v", out, states, rewards, terminated)
	}

	// A continuous action may be x or [x]; out-of-range values are clipped by the dynamics.
	_, a, _ := runPrefer(`{"env":"Pendulum-v1","start_state":[1,0],"actions":[5,[-7.5]]}`, "env", "replay")
	_, b, _ := runPrefer(`{"env":"Pendulum-v1","start_state":[1,0],"actions":[[5],-7.5]}`, "env", "replay")
	if a != b || !strings.HasPrefix(a, `{"states":[[`) {
		t.Fatalf("x and [x] differ: %s vs %s", a, b)
	}

	// Termination stops the replay; --fixed-horizon replays every action.
	clip := `{"env":"CartPole-v1","start_state":[0,0,0.2,0.1],"actions":[0,0,0,0,0,0,0,0,0,0]}`
	_, out, _ = runPrefer(clip, "env", "replay")
	if !strings.HasSuffix(strings.TrimSpace(out), `"terminated":[false,true]}`) {
		t.Fatalf("replay should stop after termination: %s", out)
	}
	_, out, _ = runPrefer(clip, "env", "replay", "--fixed-horizon")
	if strings.Contains(out, "true") || strings.Count(out, "],[") != 9 {
		t.Fatalf("fixed horizon: %s", out)
	}

	// An empty clip is valid and prints empty arrays, not null.
	_, out, _ = runPrefer(`{"env":"Acrobot-v1","start_state":[0,0,0,0],"actions":[]}`, "env", "replay")
	if strings.TrimSpace(out) != `{"states":[],"rewards":[],"terminated":[]}` {
		t.Fatalf("empty clip: %s", out)
	}
}

// TestEnvBadInput: every kind of bad input exits 2 with one line on stderr naming the problem.
func TestEnvBadInput(t *testing.T) {
	cases := []struct {
		name, stdin string
		args        []string
		says        string
	}{
		{"malformed JSON", `{"env": "CartPole-v1", `, nil, "malformed JSON"},
		{"not an object", `[1, 2]`, nil, "malformed JSON"},
		{"unknown field", `{"env":"CartPole-v1","start_state":[0,0,0,0],"actions":[],"seed":1}`, nil, `unknown field "seed"`},
		{"trailing data", `{"env":"CartPole-v1","start_state":[0,0,0,0],"actions":[]} {}`, nil, "more data"},
		{"string state", `{"env":"CartPole-v1","start_state":["0",0,0,0],"actions":[]}`, nil, "malformed JSON"},
		{"missing env", `{"start_state":[0,0,0,0],"actions":[]}`, nil, `missing "env"`},
		{"missing state", `{"env":"CartPole-v1","actions":[]}`, nil, `missing "start_state"`},
		{"unknown env", `{"env":"Pong-v5","start_state":[0],"actions":[]}`, nil, `unknown env "Pong-v5" (known: Acrobot-v1, CartPole-v1`},
		{"wrong state length", `{"env":"CartPole-v1","start_state":[0,0,0],"actions":[]}`, nil, "wrong state length: CartPole-v1 has a state of 4 numbers, got 3"},
		{"action out of space", `{"env":"CartPole-v1","start_state":[0,0,0,0],"actions":[0,1,2]}`, nil, "outside the discrete space: 2 is not in Discrete(2)"},
		{"fractional action", `{"env":"Acrobot-v1","start_state":[0,0,0,0],"actions":[1.5]}`, nil, "1.5 is not in Discrete(3)"},
		{"action step named", `{"env":"CartPole-v1","start_state":[0,0,0,0],"actions":[0,0,0,-1]}`, nil, "step 3"},
		{"string action", `{"env":"Pendulum-v1","start_state":[0,0],"actions":[1,"x"]}`, nil, "actions[1]: want a number or [number]"},
		{"null action", `{"env":"Pendulum-v1","start_state":[0,0],"actions":[null]}`, nil, "actions[0]"},
		{"two-number action", `{"env":"Pendulum-v1","start_state":[0,0],"actions":[[1,2]]}`, nil, "wrong action length"},
		{"huge number", `{"env":"Pendulum-v1","start_state":[1e999,0],"actions":[]}`, nil, "malformed JSON"},
		{"overflow", `{"env":"CartPole-v1","start_state":[0,0,0,1e200],"actions":[1]}`, nil, "not finite"},
		{"extra argument", `{}`, []string{"extra"}, "unexpected argument"},
		{"bad flag", `{}`, []string{"--nope"}, "flag provided but not defined"},
	}
	for _, sub := range []string{"replay", "render"} {
		for _, c := range cases {
			args := append([]string{"env", sub}, c.args...)
			code, out, errs := runPrefer(c.stdin, args...)
			if code != 2 {
				t.Errorf("%s %s: exit %d, want 2 (stderr %q)", sub, c.name, code, errs)
			}
			if out != "" {
				t.Errorf("%s %s: stdout %q", sub, c.name, out)
			}
			if !strings.Contains(errs, c.says) {
				t.Errorf("%s %s: stderr %q does not say %q", sub, c.name, errs, c.says)
			}
			if c.args == nil && strings.Count(strings.TrimRight(errs, "\n"), "\n") != 0 {
				t.Errorf("%s %s: stderr is not one line: %q", sub, c.name, errs)
			}
		}
	}
	for _, args := range [][]string{{"env"}, {"env", "fly"}, {"env", "render", "--mode", "gif"}, {"env", "list", "x"}} {
		if code, _, _ := runPrefer(`{}`, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestEnvRender(t *testing.T) {
	clip := `{"env":"Acrobot-v1","start_state":[0.1,0,0,0],"actions":[2,2,2,0,0,0,2,2,2,1,1,1,0,0,0,2,2,2,1,1]}`
	dir := t.TempDir()
	path := filepath.Join(dir, "clip.svg")
	if code, _, errs := runPrefer(clip, "env", "render", "-o", path); code != 0 {
		t.Fatalf("render: exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// 21 frames (the start state and 20 steps), every 3rd by default: 7 frames.
	if n := countElements(t, b, "svg"); n != 1+7 {
		t.Fatalf("filmstrip has %d svg elements, want 8", n)
	}
	code, out, _ := runPrefer(clip, "env", "render", "--mode", "animated", "--width", "200")
	if code != 0 || countElements(t, []byte(out), "svg") != 1+21 || !strings.Contains(out, "@keyframes") {
		t.Fatalf("animated: exit %d, %d svg elements", code, countElements(t, []byte(out), "svg"))
	}
	if !strings.Contains(out, "prefer-clip 4.2s") { // 21 frames at Acrobot's dt of 0.2 s
		t.Fatalf("animated clip should last 21 x 0.2 s")
	}
	code, out, _ = runPrefer(clip, "env", "render", "--every", "1")
	if code != 0 || countElements(t, []byte(out), "svg") != 1+21 {
		t.Fatalf("--every 1: exit %d", code)
	}
	if code, _, errs := runPrefer(clip, "env", "render", "-o", filepath.Join(dir, "no", "such", "dir.svg")); code != 1 || errs == "" {
		t.Fatalf("unwritable output: exit %d", code)
	}
}

func countElements(t *testing.T, b []byte, name string) int {
	t.Helper()
	n := 0
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatalf("bad SVG: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == name {
			n++
		}
	}
}

func TestEnvList(t *testing.T) {
	// With the shared test corpus, so that the default corpus (if this machine has it cached)
	// is not what the process registers: a process registers one corpus's text tasks.
	c := testCorpus(t)
	code, out, _ := runPrefer("", "env", "list", "--corpus", c)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"CartPole-v1", "Discrete(2)", "475", "Pendulum-v1", "Box([-2], [2])", "-200", "Acrobot-v1", "-100", "MountainCarContinuous-v0", "999", "90"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runPrefer("", "env", "list", "--json", "--corpus", c)
	var infos []envInfo
	if code != 0 || json.Unmarshal([]byte(out), &infos) != nil || len(infos) < 4 {
		t.Fatalf("list --json: exit %d: %s", code, out)
	}
	for _, in := range infos {
		if in.Name == "CartPole-v1" && (in.RewardThreshold == nil || *in.RewardThreshold != 475 || in.MaxEpisodeSteps != 500) {
			t.Errorf("CartPole info %+v", in)
		}
	}
}

// testCorpus writes the small corpus the text commands' tests share (a process registers one
// corpus's text world: corpus.Register refuses another) and returns its path.
func testCorpus(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for i := range 300 {
		b.WriteString([]string{"The film", "This phone", "The food"}[i%3] + " " + []string{"was great", "was awful", "felt good"}[(i/3)%3] + " and I would come back again.\n")
	}
	path := filepath.Join(t.TempDir(), "corpus.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestEnvText(t *testing.T) {
	path := testCorpus(t)
	// Byte tokens are tokens of every tokenizer: a 5-token prompt "Food " and "was great!!\n".
	clip := `{"env":"TextPositive-v0","start_state":[70,111,111,100,32,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1],"actions":[119,97,115,32,103,114,101,97,116,33,33,10]}`
	code, out, errs := runPrefer(clip, "env", "replay", "--corpus", path)
	var got clipOutput
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil {
		t.Fatalf("replay: exit %d: %s %s", code, out, errs)
	}
	if len(got.States) != 12 || !got.Terminated[11] || !(got.Rewards[11] > 0) {
		t.Fatalf("replay: %d states, terminated %v, rewards %v", len(got.States), got.Terminated, got.Rewards)
	}
	code, out, errs = runPrefer(clip, "env", "render", "--fixed-horizon", "--corpus", path)
	if code != 0 || !strings.Contains(out, "great!!") || !strings.Contains(out, "<svg") {
		t.Fatalf("render: exit %d: %s %s", code, out, errs)
	}
	if code, out, _ := runPrefer("", "env", "list", "--corpus", path); code != 0 || !strings.Contains(out, "TextNoE-v0") {
		t.Errorf("list: exit %d: %s", code, out)
	}
}
