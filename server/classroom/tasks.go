package classroom

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/text"
)

// Task is one entry of the teacher's task list.
type Task struct {
	Env string `json:"env"` // the registered env raters label
	// Goal is what the class teaches, in words; for a Gymnasium task, its own goal.
	Goal string `json:"goal"`
	// Checker is true for a behaviour with no built-in reward: its score comes from a
	// scripted checker that raters never see.
	Checker bool `json:"checker"`
	// Text is true for a text task (core/text): raters compare continuations of review
	// prompts. Its envs exist only once the server has loaded its corpus.
	Text bool `json:"text"`
	// Available is false where this server cannot start a session on the task; Note says
	// why, or what starting one will do first.
	Available bool   `json:"available"`
	Note      string `json:"note,omitempty"`
}

// Tasks returns the task list: the four Gymnasium tasks, the behaviours with no built-in
// reward (core/env's behaviours.go), then the text tasks (core/text's tasks; TextNoE-v0's
// score is a checker's). The text tasks are marked available here only once a text world is
// installed (text.Installed); a Handler says what this server can run (Handler.TaskList: on
// the Worker, text sessions trained by `prefer trainer --hub`).
func Tasks() []Task {
	ts := []Task{
		{Env: "CartPole-v1", Goal: "cartpole: keep the pole upright"},
		{Env: "Pendulum-v1", Goal: "pendulum: swing up and hold it upright"},
		{Env: "Acrobot-v1", Goal: "acrobot: swing the tip above the line"},
		{Env: "MountainCarContinuous-v0", Goal: "mountain car: reach the flag on the right"},
	}
	for _, b := range env.Behaviours() {
		ts = append(ts, Task{Env: b.Name, Goal: b.Goal, Checker: true})
	}
	for i := range ts {
		ts[i].Available = true
	}
	installed := text.Installed() != nil
	for _, t := range text.Tasks() {
		ts = append(ts, Task{Env: t.Name, Goal: t.Goal, Checker: t.NoReward, Text: true, Available: installed})
	}
	return ts
}

// TaskOf returns the task list's entry for envName.
func TaskOf(envName string) (Task, bool) {
	for _, t := range Tasks() {
		if t.Env == envName {
			return t, true
		}
	}
	return Task{}, false
}

// JoinHost returns the host:port that students' phones should use for a server listening on
// addr. A wildcard address (0.0.0.0, ::, or no host) is not reachable from another machine, so
// it is replaced by this machine's LAN address from addrs (the machine's interface addresses:
// net.InterfaceAddrs()); the first private IPv4 address wins, then any global unicast one. A
// specific address is kept as it is.
func JoinHost(addr string, addrs []net.Addr) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("classroom: listen address %q: %w", addr, err)
	}
	if host != "" && host != "0.0.0.0" && host != "::" {
		return addr, nil
	}
	var private, global netip.Addr
	for _, a := range addrs {
		s := a.String()
		if i := strings.IndexByte(s, '/'); i >= 0 {
			s = s[:i]
		}
		ip, err := netip.ParseAddr(s)
		if err != nil || !ip.Is4() || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
			continue
		}
		if ip.IsPrivate() && !private.IsValid() {
			private = ip
		}
		if ip.IsGlobalUnicast() && !global.IsValid() {
			global = ip
		}
	}
	switch {
	case private.IsValid():
		return net.JoinHostPort(private.String(), port), nil
	case global.IsValid():
		return net.JoinHostPort(global.String(), port), nil
	}
	return net.JoinHostPort("127.0.0.1", port), nil
}
