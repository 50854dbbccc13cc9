package env

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// registry maps a Gymnasium id to a constructor. Built-in environments register below; more
// (say, classroom behaviours on the same dynamics) can be added with Register.
var registry = struct {
	sync.RWMutex
	m map[string]func() Env
}{m: map[string]func() Env{
	"CartPole-v1":              func() Env { return NewCartPole() },
	"Pendulum-v1":              func() Env { return NewPendulum() },
	"Acrobot-v1":               func() Env { return NewAcrobot() },
	"MountainCarContinuous-v0": func() Env { return NewMountainCarContinuous() },
}}

// Register makes the environment that newEnv builds available to Lookup under name. It panics
// if name is empty, already registered, or not the name that the env's Spec reports.
func Register(name string, newEnv func() Env) {
	if name == "" || newEnv == nil {
		panic("env: Register needs a name and a constructor")
	}
	if got := newEnv().Spec().Name; got != name {
		panic(fmt.Sprintf("env: Register(%q) builds an env named %q", name, got))
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[name]; dup {
		panic("env: Register called twice for " + name)
	}
	registry.m[name] = newEnv
}

// Lookup returns a new instance of the environment registered as name (a Gymnasium id such as
// "CartPole-v1").
func Lookup(name string) (Env, error) {
	registry.RLock()
	newEnv, ok := registry.m[name]
	registry.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownEnv, name, strings.Join(Names(), ", "))
	}
	return newEnv(), nil
}

// Names returns the registered names, sorted.
func Names() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.m))
	for n := range registry.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
