package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOveroptFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"overopt", "--env", "NoSuchEnv-v0"},
		{"overopt", "--objective", "max"},
		{"overopt", "--objectives", "mean,max"},
		{"overopt", "--objectives", "mean,mean"},
		{"overopt", "--objectives", ","},
		{"overopt", "--seeds", "0"},
		{"overopt", "--steps", "0"},
		{"overopt", "--points", "2"},
		{"overopt", "--lambda", "-1"},
		{"overopt", "--labels", "-1"},
		{"overopt", "--loop-steps", "-1"},
		{"overopt", "--members", "-1"},
		{"overopt", "--prior", "-1"},
		{"overopt", "--prior", "NaN"},
		{"overopt", "--kl-episodes", "0"},
		{"overopt", "--teacher", "lazy"},
		{"overopt", "extra"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(args, strings.NewReader(""), &stdout, &stderr)
		msg := strings.TrimRight(stderr.String(), "\n")
		if code != 2 || msg == "" || strings.Contains(msg, "\n") || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and a one-line message", args, code, msg)
		}
	}
}

// TestOveroptJSON runs a tiny over-optimisation run, two seeds and two objectives, with random
// priors on the members, and checks its JSON report and files.
func TestOveroptJSON(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "oo")
	var stdout, stderr bytes.Buffer
	code := run([]string{"overopt", "--labels", "12", "--loop-steps", "2048", "--steps", "4096", "--points", "3",
		"--seeds", "2", "--objectives", "mean,min", "--kl-episodes", "2", "--prior", "1.5", "--json", "--out", prefix},
		strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	type point struct {
		KL            *float64 `json:"kl"`
		D             *float64 `json:"d"`
		TrueReturn    *float64 `json:"true_return"`
		LearnedReturn *float64 `json:"learned_return"`
		ProxyReturn   *float64 `json:"proxy_return"`
	}
	var got struct {
		Seeds      []uint64 `json:"seeds"`
		Window     int      `json:"window"`
		Prior      float64  `json:"prior"`
		Objectives []struct {
			Objective  string                     `json:"objective"`
			Points     []point                    `json:"points"`
			Runs       []struct{ Points []point } `json:"runs"`
			PeakTrue   *float64                   `json:"peak_true"`
			FinalTrue  *float64                   `json:"final_true"`
			Drop       *float64                   `json:"drop"`
			SeedDrops  []float64                  `json:"seed_drops"`
			DropVsMean any                        `json:"drop_vs_mean"`
			Alpha      *float64                   `json:"alpha"`
			Beta       *float64                   `json:"beta"`
		} `json:"objectives"`
		Conservation *struct {
			MeanDrop *float64 `json:"mean_drop"`
			Best     string   `json:"best"`
			BestDrop *float64 `json:"best_drop"`
			Met      *bool    `json:"met"`
		} `json:"conservation"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("stdout %q: %v", stdout.String(), err)
	}
	if len(got.Seeds) != 2 || got.Seeds[0] != 1 || got.Seeds[1] != 2 || got.Window != 3 || got.Prior != 1.5 || len(got.Objectives) != 2 {
		t.Fatalf("report %s", stdout.String())
	}
	for i, o := range got.Objectives {
		if o.Objective != []string{"mean", "min"}[i] || len(o.Points) != 4 || len(o.Runs) != 2 || len(o.Runs[1].Points) != 4 ||
			o.PeakTrue == nil || o.FinalTrue == nil || o.Drop == nil || *o.Drop < 0 || len(o.SeedDrops) != 2 || o.Alpha == nil || o.Beta == nil {
			t.Errorf("objective %d: %+v", i, o)
		}
		for _, p := range o.Points {
			if p.KL == nil || p.D == nil || p.TrueReturn == nil || p.LearnedReturn == nil || p.ProxyReturn == nil {
				t.Errorf("%s: point %+v", o.Objective, p)
			} else if o.Objective == "min" && *p.LearnedReturn > *p.ProxyReturn {
				t.Errorf("min: learned return %v above the ensemble mean's %v", *p.LearnedReturn, *p.ProxyReturn)
			}
		}
	}
	if c := got.Conservation; c == nil || c.MeanDrop == nil || c.Best != "min" || c.BestDrop == nil || c.Met == nil {
		t.Errorf("conservation %+v", c)
	}
	var keys struct {
		Objectives   []map[string]any `json:"objectives"`
		Conservation map[string]any   `json:"conservation"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ratio", "ratio_ci", "met"} {
		if _, ok := keys.Conservation[k]; !ok {
			t.Errorf("conservation has no %q", k)
		}
	}
	if _, ok := keys.Objectives[1]["drop_vs_mean_ci"]; !ok {
		t.Error("min has no drop_vs_mean_ci")
	}
	for _, name := range []string{".json", ".svg", "-mean.svg", "-min.svg"} {
		if b, err := os.ReadFile(prefix + name); err != nil || len(b) < 50 {
			t.Errorf("%s: %d bytes, %v", name, len(b), err)
		}
	}
}

// TestOveroptMerge pools two one-seed reports and checks the result is the two-seed run's, and
// that reports of other settings or the same seed are refused.
func TestOveroptMerge(t *testing.T) {
	dir := t.TempDir()
	tiny := []string{"overopt", "--env", "checker/MountainCarRock-v0", "--labels", "12", "--loop-steps", "2048", "--steps", "4096",
		"--points", "3", "--objectives", "mean,min", "--kl-episodes", "2"}
	runOne := func(args ...string) []byte {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(append(append([]string{}, tiny...), args...), strings.NewReader(""), &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
		return stdout.Bytes()
	}
	runOne("--seed", "1", "--json", "--out", filepath.Join(dir, "a"))
	runOne("--seed", "2", "--json", "--out", filepath.Join(dir, "b"))
	// c is b run with another λ.
	var c map[string]any
	b, err := os.ReadFile(filepath.Join(dir, "b.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	c["lambda"] = 1.0
	b, _ = json.Marshal(c)
	if err := os.WriteFile(filepath.Join(dir, "c.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	both := runOne("--seed", "1", "--seeds", "2", "--json", "--out", filepath.Join(dir, "ab"))

	var stdout, stderr bytes.Buffer
	files := filepath.Join(dir, "a.json") + "," + filepath.Join(dir, "b.json")
	if code := run([]string{"overopt", "--merge", files, "--json", "--out", filepath.Join(dir, "m")}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("merge: exit %d: %s", code, stderr.String())
	}
	var merged, whole map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &merged); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(both, &whole); err != nil {
		t.Fatal(err)
	}
	mb, _ := json.Marshal(merged)
	wb, _ := json.Marshal(whole)
	if !bytes.Equal(mb, wb) {
		t.Errorf("merged reports differ from the two-seed run:\n%s\n%s", mb, wb)
	}
	if _, err := os.Stat(filepath.Join(dir, "m-min.svg")); err != nil {
		t.Error(err)
	}
	cons, _ := merged["conservation"].(map[string]any)
	for _, k := range []string{"seed_ratio", "seed_ratio_ci"} {
		if _, ok := cons[k]; !ok {
			t.Errorf("conservation has no %q: %v", k, cons)
		}
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--merge", filepath.Join(dir, "a.json") + "," + filepath.Join(dir, "c.json")}, "--merge"},
		{[]string{"--merge", filepath.Join(dir, "a.json") + "," + filepath.Join(dir, "ab.json")}, "seed 1"},
		{[]string{"--merge", filepath.Join(dir, "nothere.json")}, "--merge"},
		{[]string{"--merge", files, "--seeds", "3"}, "--seeds"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"overopt"}, tc.args...), strings.NewReader(""), &stdout, &stderr)
		msg := strings.TrimRight(stderr.String(), "\n")
		if code != 2 || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
			t.Errorf("%v: exit %d, %q; want exit 2 and a line naming %s", tc.args, code, msg, tc.want)
		}
	}
}

func TestOutNameKeepsTheDirectory(t *testing.T) {
	if got := outName("overopt", "checker/MountainCarRock-v0", "1"); got != "overopt-checker-MountainCarRock-v0-1" {
		t.Errorf("outName: %q", got)
	}
}
