package conformance

import (
	"context"
	"testing"

	"github.com/prefer-rlhf/prefer/server/hub"
	"github.com/prefer-rlhf/prefer/server/store"
)

// testRobustnessSettings: issue 14's settings (query strategy, robust fit, objective and its
// λ) are validated naming their field, stored, and read back by GET and by the trainer API's
// client, which `prefer trainer --hub` reads its projects with.
func testRobustnessSettings(t *testing.T, a *api) {
	p := a.newProject(t, "CartPole-v1")
	base := "/api/v1/projects/" + p.ID
	for _, b := range []struct {
		field string
		value any
	}{
		{"query", "loudest"}, {"objective", "max"}, {"uwo_lambda", -0.5}, {"uwo_lambda", 101},
	} {
		a.req(t, "PATCH", base+"/settings", a.s.teacher, map[string]any{b.field: b.value}).isError(t, 400, "invalid", b.field)
		a.req(t, "POST", "/api/v1/projects", a.s.teacher, map[string]any{"env": "CartPole-v1", b.field: b.value}).isError(t, 400, "invalid", b.field)
	}
	a.req(t, "PATCH", base+"/settings", a.s.teacher, map[string]any{"robust": "yes"}).isError(t, 400, "bad_json", "robust")
	var def struct {
		Settings store.Settings `json:"settings"`
	}
	a.req(t, "GET", base, a.s.teacher, nil).ok(t, 200, &def)
	if def.Settings.Query != "disagreement" || def.Settings.Robust || def.Settings.Objective != "mean" || def.Settings.UWOLambda != 0.5 {
		t.Fatalf("default robustness settings %+v", def.Settings)
	}
	var created struct {
		ID string `json:"id"`
	}
	a.req(t, "POST", "/api/v1/projects", a.s.teacher, map[string]any{"env": "Pendulum-v1", "query": "infogain", "objective": "min"}).ok(t, 201, &created)
	set := map[string]any{"query": "kcenter_disagreement", "robust": true, "objective": "uwo", "uwo_lambda": 2}
	a.req(t, "PATCH", base+"/settings", a.s.teacher, set).ok(t, 200, nil)
	c := hub.NewClient(a.s.url, a.s.teacher)
	ps, err := c.Projects(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, pr := range ps {
		s := pr.Settings
		switch pr.ID {
		case p.ID:
			found++
			if s.Query != "kcenter_disagreement" || !s.Robust || s.Objective != "uwo" || s.UWOLambda != 2 {
				t.Fatalf("the trainer reads %+v", s)
			}
		case created.ID:
			found++
			if s.Query != "infogain" || s.Robust || s.Objective != "min" || s.UWOLambda != 0.5 {
				t.Fatalf("the trainer reads the created project as %+v", s)
			}
		}
	}
	if found != 2 {
		t.Fatalf("the trainer's client lists %d of the 2 projects", found)
	}
}
