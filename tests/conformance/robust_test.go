package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
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
	c.Retry = time.Minute // the suite shares one teacher token: wait out its rate limit, as a.req does
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

// testRedTeamPairs: the adversarial setting is stored; a round's pair tagged red_team keeps
// its tag and, at its high priority, reaches raters before the other pairs; an unknown tag is
// refused naming the field.
func testRedTeamPairs(t *testing.T, a *api) {
	p := a.newProject(t, "CartPole-v1")
	base := "/api/v1/projects/" + p.ID
	a.req(t, "PATCH", base+"/settings", a.s.teacher, map[string]any{"adversarial": "on"}).isError(t, 400, "bad_json", "adversarial")
	var got struct {
		Settings store.Settings `json:"settings"`
	}
	a.req(t, "PATCH", base+"/settings", a.s.teacher, map[string]any{"adversarial": true}).ok(t, 200, nil)
	a.req(t, "GET", base, a.s.teacher, nil).ok(t, 200, &got)
	if !got.Settings.Adversarial {
		t.Fatalf("adversarial setting not stored: %+v", got.Settings)
	}
	c1, c2, c3, c4 := clip(), clip(), clip(), clip()
	plain, red := uuid.NewString(), uuid.NewString()
	round := func(tag string) map[string]any {
		return map[string]any{"round": 1, "clips": []any{c1, c2, c3, c4}, "replace_pairs": true, "pairs": []any{
			map[string]any{"id": plain, "left": c1["id"], "right": c2["id"], "priority": 0.4},
			map[string]any{"id": red, "left": c3["id"], "right": c4["id"], "priority": 1000, "tag": tag},
		}}
	}
	a.req(t, "POST", base+"/trainer/rounds", a.s.teacher, round("blue_team")).isError(t, 400, "invalid", "pairs[1].tag")
	a.req(t, "POST", base+"/trainer/rounds", a.s.teacher, round("red_team")).ok(t, 201, nil)
	rt := a.join(t, p.JoinCode, "Ada")
	var out struct {
		Pairs []struct {
			ID  string  `json:"id"`
			Tag *string `json:"tag"`
		} `json:"pairs"`
	}
	a.req(t, "POST", base+"/sync", rt.Token, map[string]any{"comparisons": []any{}, "want_pairs": 10}).ok(t, 200, &out)
	if len(out.Pairs) != 2 || out.Pairs[0].ID != red || out.Pairs[0].Tag == nil || *out.Pairs[0].Tag != "red_team" || out.Pairs[1].ID != plain || out.Pairs[1].Tag != nil {
		t.Fatalf("pairs %+v: want the red-team pair first with its tag, then the other without one", out.Pairs)
	}
}
