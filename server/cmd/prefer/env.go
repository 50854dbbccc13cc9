package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/prefer-rlhf/prefer/core/env"
)

func init() {
	register("env", "replay or render a clip of an environment, or list the environments", runEnv)
}

const envUsage = `usage: prefer env <subcommand> [flags]

subcommands:
  replay   read {"env", "start_state", "actions"} JSON on stdin, write {"states", "rewards", "terminated"}
  render   read the same JSON, write the clip as an SVG filmstrip or animation
  list     the environments, their spaces, horizons and reward thresholds`

// runEnv dispatches `prefer env replay|render|list`.
func runEnv(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, envUsage)
		return 2
	}
	switch args[0] {
	case "replay":
		return envReplay(args[1:], stdin, stdout, stderr)
	case "render":
		return envRender(args[1:], stdin, stdout, stderr)
	case "list":
		return envList(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stderr, envUsage)
		return 0
	}
	fmt.Fprintf(stderr, "prefer env: unknown subcommand %q (want replay, render or list)\n", args[0])
	return 2
}

// clipInput is the JSON that replay and render read: a clip as (env, start state, actions).
type clipInput struct {
	Env        string            `json:"env"`
	StartState []float64         `json:"start_state"`
	Actions    []json.RawMessage `json:"actions"` // each a number, or [number]
}

// clipOutput is what replay writes: the state after each step, its reward and terminated flag.
type clipOutput struct {
	States     [][]float64 `json:"states"`
	Rewards    []float64   `json:"rewards"`
	Terminated []bool      `json:"terminated"`
}

// readClip decodes a clip strictly (unknown fields and trailing data are errors) and builds
// its env, in fixed-horizon mode if asked.
func readClip(stdin io.Reader, fixed bool) (env.Env, clipInput, [][]float64, error) {
	var in clipInput
	dec := json.NewDecoder(stdin)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, in, nil, fmt.Errorf("malformed JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, in, nil, errors.New("malformed JSON: more data after the clip object")
	}
	if in.Env == "" {
		return nil, in, nil, fmt.Errorf("missing \"env\" (known: %s)", strings.Join(env.Names(), ", "))
	}
	if in.StartState == nil {
		return nil, in, nil, errors.New("missing \"start_state\"")
	}
	if err := ensureText(in.Env); err != nil {
		return nil, in, nil, err
	}
	e, err := env.Lookup(in.Env)
	if err != nil {
		return nil, in, nil, err
	}
	if fixed {
		if e, err = env.FixedHorizon(e, 0); err != nil {
			return nil, in, nil, err
		}
	}
	actions := make([][]float64, len(in.Actions))
	for i, raw := range in.Actions {
		a, err := parseAction(raw)
		if err != nil {
			return nil, in, nil, fmt.Errorf("malformed JSON: actions[%d]: %v", i, err)
		}
		actions[i] = a
	}
	return e, in, actions, nil
}

// parseAction accepts a number (a discrete index or a continuous action) or an array of
// numbers ([x]; its length is checked against the env's action space later).
func parseAction(raw json.RawMessage) ([]float64, error) {
	var x float64
	if err := json.Unmarshal(raw, &x); err == nil && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return []float64{x}, nil
	}
	var xs []float64
	if err := json.Unmarshal(raw, &xs); err != nil || xs == nil {
		return nil, fmt.Errorf("want a number or [number], got %s", abbrev(raw))
	}
	return xs, nil
}

func abbrev(raw []byte) string {
	s := strings.Join(strings.Fields(string(raw)), " ")
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}

// badInput prints a one-line message for bad input and returns exit code 2.
func badInput(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "prefer env %s: %s\n", cmd, oneLine(err.Error()))
	return 2
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func envReplay(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("env replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fixed := fs.Bool("fixed-horizon", false, "replay in fixed-horizon mode: never terminate, fixed-horizon rewards")
	corpusFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: prefer env replay [--fixed-horizon] < clip.json
reads {"env": "CartPole-v1", "start_state": [...], "actions": [...]} and writes
{"states": [[...]], "rewards": [...], "terminated": [...]}, the state after each step,
stopping after the first terminating step`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "prefer env replay: unexpected argument %q (the clip comes on stdin)\n", fs.Arg(0))
		return 2
	}
	e, in, actions, err := readClip(stdin, *fixed)
	if err != nil {
		return badInput(stderr, "replay", err)
	}
	states, rewards, terminated, err := env.ReplayEnv(e, in.StartState, actions)
	if err != nil {
		return badInput(stderr, "replay", err)
	}
	// encoding/json prints the shortest decimal that parses back to the same float64.
	out, err := json.Marshal(clipOutput{States: states, Rewards: rewards, Terminated: terminated})
	if err != nil {
		fmt.Fprintf(stderr, "prefer env replay: %s\n", oneLine(err.Error()))
		return 1
	}
	out = append(out, '\n')
	if _, err := stdout.Write(out); err != nil {
		return 1
	}
	return 0
}

func envRender(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("env render", flag.ContinueOnError)
	fs.SetOutput(stderr)
	outPath := fs.String("o", "", "write the SVG to this file (default stdout)")
	mode := fs.String("mode", "filmstrip", "filmstrip (frames side by side) or animated (one frame at a time at 1/DT fps)")
	every := fs.Int("every", 0, "filmstrip: draw every k-th frame (default: about 10 frames)")
	width := fs.Float64("width", 0, "width of a frame in pixels (default 160 for a filmstrip, 400 animated)")
	fixed := fs.Bool("fixed-horizon", false, "replay in fixed-horizon mode (never terminate)")
	corpusFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: prefer env render [-o file.svg] [--mode filmstrip|animated] [--every k] [--width px] < clip.json
draws the start state and the state after each step of the clip`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "prefer env render: unexpected argument %q (the clip comes on stdin)\n", fs.Arg(0))
		return 2
	}
	if *mode != "filmstrip" && *mode != "animated" {
		fmt.Fprintf(stderr, "prefer env render: --mode %q, want filmstrip or animated\n", *mode)
		return 2
	}
	if *every < 0 || *width < 0 || math.IsInf(*width, 0) || math.IsNaN(*width) {
		fmt.Fprintln(stderr, "prefer env render: --every and --width must not be negative")
		return 2
	}
	e, in, actions, err := readClip(stdin, *fixed)
	if err != nil {
		return badInput(stderr, "render", err)
	}
	states, _, _, err := env.ReplayEnv(e, in.StartState, actions)
	if err != nil {
		return badInput(stderr, "render", err)
	}
	svg, isText := textSVG(e, in.StartState, states)
	scenes := env.Scenes(e, append([][]float64{in.StartState}, states...))
	if isText {
		// A text clip is read, not watched: one card whatever the mode.
	} else if *mode == "animated" {
		if *width == 0 {
			*width = 400
		}
		svg, err = env.Animated(scenes, e.Spec().DT, *width)
	} else {
		if *width == 0 {
			*width = 160
		}
		if *every == 0 {
			*every = max(1, (len(scenes)+9)/10)
		}
		svg, err = env.Filmstrip(scenes, *every, *width)
	}
	if err != nil {
		fmt.Fprintf(stderr, "prefer env render: %s\n", oneLine(err.Error()))
		return 1
	}
	if *outPath == "" {
		_, err = stdout.Write(svg)
	} else {
		err = os.WriteFile(*outPath, svg, 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "prefer env render: %s\n", oneLine(err.Error()))
		return 1
	}
	return 0
}

// envInfo is one line of `prefer env list --json`.
type envInfo struct {
	Name            string    `json:"name"`
	Action          string    `json:"action"`
	ActionLow       []float64 `json:"action_low,omitempty"`
	ActionHigh      []float64 `json:"action_high,omitempty"`
	ObsDim          int       `json:"obs_dim"`
	StateDim        int       `json:"state_dim"`
	MaxEpisodeSteps int       `json:"max_episode_steps"`
	RewardThreshold *float64  `json:"reward_threshold"` // null where none is defined
	DT              float64   `json:"dt"`
}

func envList(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("env list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print a JSON array")
	corpusFlag(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "prefer env list: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if err := listText(); err != nil {
		fmt.Fprintf(stderr, "prefer env list: the text envs are not listed: %s\n", oneLine(err.Error()))
	}
	var infos []envInfo
	for _, name := range env.Names() {
		e, err := env.Lookup(name)
		if err != nil {
			fmt.Fprintf(stderr, "prefer env list: %v\n", err)
			return 1
		}
		sp := e.Spec()
		info := envInfo{Name: sp.Name, ObsDim: sp.ObsDim, StateDim: sp.StateDim,
			MaxEpisodeSteps: sp.MaxEpisodeSteps, DT: sp.DT}
		if sp.Action.Discrete() {
			info.Action = fmt.Sprintf("Discrete(%d)", sp.Action.N)
		} else {
			info.Action = fmt.Sprintf("Box(%v, %v)", sp.Action.Low, sp.Action.High)
			info.ActionLow, info.ActionHigh = sp.Action.Low, sp.Action.High
		}
		if !math.IsNaN(sp.RewardThreshold) {
			t := sp.RewardThreshold
			info.RewardThreshold = &t
		}
		infos = append(infos, info)
	}
	if *asJSON {
		b, _ := json.MarshalIndent(infos, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
		return 0
	}
	fmt.Fprintf(stdout, "%-26s %-16s %4s %6s %10s %10s %8s\n", "env", "action", "obs", "state", "max_steps", "threshold", "dt")
	for _, in := range infos {
		thr := "none"
		if in.RewardThreshold != nil {
			thr = fmt.Sprint(*in.RewardThreshold)
		}
		fmt.Fprintf(stdout, "%-26s %-16s %4d %6d %10d %10s %8.4g\n", in.Name, in.Action, in.ObsDim, in.StateDim,
			in.MaxEpisodeSteps, thr, in.DT)
	}
	return 0
}
