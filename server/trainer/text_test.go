package trainer

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/lm"
	"github.com/prefer-rlhf/prefer/core/oracle"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/core/text/texttest"
	"github.com/prefer-rlhf/prefer/core/textrl"
	"github.com/prefer-rlhf/prefer/server/store"
)

// tinyText is a tiny text world and language model, built once: reviews from a small grammar,
// half praising and half panning, a gold score counting praise words minus blame words, and a
// model pretrained on them for a few hundred steps (a second or two).
var tinyText struct {
	once sync.Once
	w    *text.World
	m    *lm.Model
	err  error
}

func textWorld(t *testing.T) (*text.World, *lm.Model) {
	t.Helper()
	tinyText.once.Do(func() {
		corpus := texttest.Corpus(texttest.Reviews(1500))
		tok := text.Train([]byte(corpus), 300)
		sents := text.Sentences([]byte(corpus))
		gold := texttest.Gold
		w := &text.World{Tok: tok, Prompts: text.Prompts(tok, sents[1200:], 2), Sentiment: gold, Vocab: text.Vocabulary(sents), Train: sents[:1200], HeldOut: sents[1200:]}
		c := lm.DefaultConfig()
		c.Vocab, c.Ctx, c.Dim, c.Layers, c.Heads, c.Batch, c.Warmup = tok.VocabSize(), 16, 24, 1, 2, 16, 20
		m, err := lm.New(c, 1)
		if err == nil {
			err = lm.Pretrain(m, tok.Encode(strings.Join(w.Train, "\n")), 300, 1, nil)
		}
		tinyText.w, tinyText.m, tinyText.err = w, m, err
	})
	if tinyText.err != nil {
		t.Fatal(tinyText.err)
	}
	return tinyText.w, tinyText.m
}

// tinyLoop is the text loop's settings for the tiny model: small PPO batches, a larger step.
func tinyLoop() *textrl.Config {
	c := textrl.Defaults()
	c.PPO.Batch, c.PPO.Minibatch, c.PPO.LR, c.PPO.KLTarget, c.PPO.Beta = 32, 8, 1e-3, 0, 0.05
	c.PPO.OutBias = false // as the hub's textConfig
	c.Features = text.DefaultFeatures
	c.DPOEpochs, c.DPOLR = 4, 1e-3
	return &c
}

func setupText(t *testing.T, path string) (*store.Store, *store.Project, string) {
	t.Helper()
	st, err := store.Open(path, store.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	id := uuid.NewSHA1(uuid.NameSpaceURL, []byte(t.Name())).String()
	if p, err := st.Project(bg, id); err == nil {
		rs, _ := st.Raters(bg, id)
		return st, p, rs[0].ID
	}
	set := store.DefaultSettings()
	set.PairsPerRound = 60
	set.PPOStepsPerRound = 32 * 12 * 8 // 8 PPO iterations of 32 continuations of 12 tokens
	p := &store.Project{ID: id, Env: "TextPositive-v0", Settings: set, JoinCode: "TX1TX1"}
	if err := st.CreateProject(bg, p); err != nil {
		t.Fatal(err)
	}
	r := &store.Rater{ID: uuid.NewString(), ProjectID: p.ID, Name: "oracle"}
	if err := st.CreateRater(bg, r, "h"+id); err != nil {
		t.Fatal(err)
	}
	return st, p, r.ID
}

func newTextTrainer(t *testing.T, st *store.Store) *Trainer {
	t.Helper()
	w, m := textWorld(t)
	tr, err := New(st, Config{MinNewLabels: 1, Workers: 1, Log: quiet(), TextLoop: tinyLoop(),
		Text: func() (*text.World, *lm.Model, error) { return w, m, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// labelText answers every active pair with a noiseless synthetic rater on the gold score of
// the decoded continuations, checking that each clip is a text clip of the task's shape.
func labelText(t *testing.T, st *store.Store, pid, rater string, rng *rand.Rand) int {
	t.Helper()
	w, _ := textWorld(t)
	task, _ := text.TaskOf("TextPositive-v0")
	pairs, err := st.PairsFor(bg, pid, rater, 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	var cs []prefs.Comparison
	for _, p := range pairs {
		var l, r prefs.Clip
		mustJSON(t, p.Left, &l)
		mustJSON(t, p.Right, &r)
		var conts [2]string
		for i, c := range []prefs.Clip{l, r} {
			pr, ct, err := w.ClipTokens(c)
			if err != nil || c.Env != task.Name || len(c.StartState) != w.PromptLen()+task.Length || len(ct) != task.Length ||
				c.StartState[w.PromptLen()] != -1 || c.StartState[len(c.StartState)-1] != -1 {
				t.Fatalf("clip %+v is not a text clip of the task: %v", c, err)
			}
			if i == 1 && !slices.Equal(pr, first(w, l)) {
				t.Fatal("a pair's continuations follow different prompts")
			}
			conts[i] = w.Tok.Decode(ct)
		}
		ch := text.Rate(rng, oracle.Rater{}, func(s string) float64 { return w.Score(task, s) }, conts[0], conts[1])
		cs = append(cs, prefs.Comparison{ID: uuid.NewString(), PairID: p.ID, Choice: ch, CreatedAt: time.Now(), ResponseMS: 900})
	}
	if _, err := st.AddComparisons(bg, pid, rater, cs, time.Now()); err != nil {
		t.Fatal(err)
	}
	return len(cs)
}

func first(w *text.World, c prefs.Clip) []int {
	p, _, _ := w.ClipTokens(c)
	return p
}

// TestTextRoundsLearn: a text project's rounds publish the reference as policy 1, then, on
// the labels of a synthetic rater on the gold score, reward models and PPO policies whose
// gold score rises above the reference's, with KL from it; a restarted trainer resumes the
// policy and the reward model from the checkpoint; DPO (text_method) learns too.
func TestTextRoundsLearn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	st, p, rater := setupText(t, path)
	tr := newTextTrainer(t, st)
	rng := rand.New(rand.NewPCG(3, 3))
	if err := tr.Step(bg); err != nil {
		t.Fatal(err)
	}
	ref, err := st.LatestPolicy(bg, p.ID)
	if err != nil || ref.Version != 1 || ref.KL != 0 {
		t.Fatalf("first round: policy %+v, %v; want the reference as version 1", ref, err)
	}
	for range 3 {
		if n := labelText(t, st, p.ID, rater, rng); n != 60 {
			t.Fatalf("%d pairs to label, want 60", n)
		}
		if err := tr.Step(bg); err != nil {
			t.Fatal(err)
		}
	}
	hist, err := st.PolicyHistory(bg, p.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	last := hist[len(hist)-1]
	for _, h := range hist {
		t.Logf("policy %d: gold %.3f learned %.3f KL %.2f labels %d tokens %d", h.Version, h.TrueReturn, h.LearnedReturn, h.KL, h.Labels, h.EnvSteps)
	}
	if len(hist) != 4 || last.Labels != 180 || !(last.TrueReturn > hist[0].TrueReturn+0.5) || !(last.KL > 0) {
		t.Fatalf("%d policies, the last on %d labels with gold %.3f (reference %.3f) and KL %v: the rounds did not learn",
			len(hist), last.Labels, last.TrueReturn, hist[0].TrueReturn, last.KL)
	}
	m, err := st.Model(bg, p.ID, 0)
	if err != nil || m.Version != 3 || m.Metrics["text/positive_share"] <= 0 {
		t.Fatalf("model %d, metrics %v, %v", m.Version, m.Metrics, err)
	}
	pol, err := st.LatestPolicy(bg, p.ID)
	if err != nil {
		t.Fatal(err)
	}

	// A restarted trainer resumes from the checkpoint: the same policy, the same reward model.
	tr2 := newTextTrainer(t, st)
	pr, _ := st.Project(bg, p.ID)
	rp, err := tr2.project(bg, pr)
	if err != nil {
		t.Fatal(err)
	}
	lw, _ := lm.Decode(pol.Weights)
	if !slices.Equal(rp.text.l.Policy.Params, lw.Params) || rp.text.l.Model == nil || rp.text.l.PPOState() == nil || rp.policyVersion != 4 {
		t.Fatal("the restarted trainer lost the policy or the reward model")
	}

	// DPO on the same labels and a few more.
	pr.Settings.TextMethod = "dpo"
	if err := st.SetSettings(bg, p.ID, pr.Settings); err != nil {
		t.Fatal(err)
	}
	labelText(t, st, p.ID, rater, rng)
	if err := tr2.Step(bg); err != nil {
		t.Fatal(err)
	}
	d, err := st.LatestPolicy(bg, p.ID)
	if err != nil || d.Version != 5 || !(d.TrueReturn > hist[0].TrueReturn+0.3) {
		t.Fatalf("DPO policy %+v %v: gold not above the reference's %.3f", d, err, hist[0].TrueReturn)
	}
	t.Logf("dpo policy %d: gold %.3f KL %.2f", d.Version, d.TrueReturn, d.KL)
}

// TestTextConfigNoPtx: the hub's text loop with no TextLoop given runs `prefer experiment`'s
// PPO without its PPO-ptx term (measured to cost the hub share), with the browser's features,
// the log-sigmoid objective and the project's seed; the project's KL target is Ziegler et al.'s 6.
func TestTextConfigNoPtx(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tr, err := New(st, Config{Workers: 1, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	c := tr.textConfig("p1")
	if c.PPO.PtxCoef != 0 || !(textrl.Defaults().PPO.PtxCoef > 0) {
		t.Errorf("hub's text PPO: ptx γ %v, want 0 (prefer experiment's is %v)", c.PPO.PtxCoef, textrl.Defaults().PPO.PtxCoef)
	}
	if d := textrl.Defaults().PPO; c.PPO.OutBias || c.PPO.Batch != 64 || c.PPO.Minibatch != 16 || !d.OutBias || d.Batch != 256 {
		t.Errorf("hub's text PPO: output bias %v, rollouts %d in minibatches of %d, want none, 64 and 16 (prefer experiment's: %v, %d)", c.PPO.OutBias, c.PPO.Batch, c.PPO.Minibatch, d.OutBias, d.Batch)
	}
	if c.Features != text.DefaultFeatures || !c.LogSigmoid || c.Seed != tr.seed("p1", 0) {
		t.Errorf("hub's text loop: features %+v, log-sigmoid %v, seed %d", c.Features, c.LogSigmoid, c.Seed)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	if k := store.DefaultSettings().TextKLTarget; k != 6 {
		t.Errorf("the hub's default KL target %v, want 6", k)
	}
}
