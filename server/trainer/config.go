package trainer

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/prefer-rlhf/prefer/core/env"
	"github.com/prefer-rlhf/prefer/core/loop"
	"github.com/prefer-rlhf/prefer/core/query"
	"github.com/prefer-rlhf/prefer/core/reward"
	"github.com/prefer-rlhf/prefer/core/textrl"
	"github.com/prefer-rlhf/prefer/server/store"
)

// Config sets the trainer's cadence and budgets. Per-project knobs (clip length, pairs and PPO
// steps per round, query method, merging) are the project's store.Settings, which a teacher
// may change while it runs.
type Config struct {
	// Interval is the cadence: the least time between the starts of two rounds of one project.
	Interval time.Duration
	// MinNewLabels is how many labels must have arrived since the last round for a new one to
	// start (a pending private model update also starts one). Christiano et al. 2017 (§2.2,
	// App. A) keep asking for labels while the policy trains; rounds that learn nothing new
	// would only fill the database with pairs.
	MinNewLabels int
	// PausedSteps is how many env steps of PPO a project trains on its current reward model
	// while no new labels arrive, a round each Interval (as the paper's asynchronous processes
	// do: the policy keeps training while raters pause), before it waits for labels again.
	PausedSteps int64
	// RejectedRounds is how many PPO updates in a row, not kept because they lowered the
	// return under r̂ (loop.Learner.TrainKept), end a pause's training before PausedSteps: PPO
	// has converged on this r̂ and waits for labels.
	RejectedRounds int
	// KeepWorse keeps every PPO update, even one that lowers the return under r̂ (no
	// loop.Learner.TrainKept guard): for tests of a round's bookkeeping, whose tiny rounds
	// make the guard's verdicts noise.
	KeepWorse bool
	// Poll is how often the trainer looks for due work.
	Poll time.Duration
	// RefitUpdates caps the warm-start passes (reward.Model.Update, UpdateSteps minibatch
	// steps each) that refine the reward model in a round.
	RefitUpdates int
	// Replays is how many times a round replays each new label in the reward model's
	// minibatches (the epochs of a full fit; reward.Defaults has 10).
	Replays int
	// MinRefitSteps is the fewest minibatch steps a round spends on the reward model.
	MinRefitSteps int
	// EvalEpisodes is how many fresh episodes of the standard task measure the true return.
	EvalEpisodes int
	// OldPolicies is how many earlier policies are kept to make some of each round's clips
	// (with random-policy clips, they keep the reward model calibrated on old behaviour).
	OldPolicies int
	// RandomShare and OldShare are the shares of candidate clips from a uniformly random
	// policy and from older policies; the rest come from the newest policy (loop.PickSource;
	// the defaults are the loop's).
	RandomShare, OldShare float64
	// Oversample is how many candidate pairs are scored per pair published (§2.2.4 and App. A:
	// "we sample a large number of pairs ... and select those with the highest variance").
	Oversample int
	// Workers is how many goroutines PPO may use. The default leaves one core to the API.
	Workers int
	// Text gives text projects their world and reference language model (loaded on the first
	// text project); nil: a text project's rounds fail with an error saying so.
	Text TextSource
	// TextLoop is the text loop's settings (core/textrl); nil: langmodel.TextLoop without
	// PPO-ptx, with the browser's features (text.DefaultFeatures). Its Seed is replaced by the
	// project's.
	TextLoop *textrl.Config
	// TextEvalPerPrompt is how many continuations of each held-out prompt measure a text
	// policy each round.
	TextEvalPerPrompt int
	// Seed makes a project's runs reproducible (mixed with the project id and round).
	Seed uint64
	Log  *slog.Logger
	// Now is the clock (tests).
	Now func() time.Time
}

// DefaultConfig returns the trainer's defaults, which `prefer serve` and `prefer trainer`
// overlay with their flags. New fills every zero setting other than Interval and MinNewLabels
// (where zero means "no wait") from it, so a zero Config is DefaultConfig.
func DefaultConfig() Config {
	lc := loop.Defaults("")
	return Config{
		Interval:          10 * time.Second,
		MinNewLabels:      10,
		PausedSteps:       400000,
		RejectedRounds:    3,
		Poll:              500 * time.Millisecond,
		RefitUpdates:      40,
		Replays:           10,
		MinRefitSteps:     24,
		EvalEpisodes:      20,
		OldPolicies:       lc.OldPolicies,
		RandomShare:       lc.RandomShare,
		OldShare:          lc.OldShare,
		Oversample:        10,
		TextEvalPerPrompt: 8,
		Workers:           max(1, runtime.GOMAXPROCS(0)-1),
		Seed:              1,
	}
}

func (c *Config) fill() error {
	d := DefaultConfig()
	if c.Interval < 0 || c.MinNewLabels < 0 || c.Poll < 0 || c.RefitUpdates < 0 || c.Replays < 0 || c.MinRefitSteps < 0 || c.EvalEpisodes < 0 ||
		c.OldPolicies < 0 || c.Oversample < 0 || c.Workers < 0 {
		return errors.New("trainer: negative setting")
	}
	if c.RandomShare < 0 || c.OldShare < 0 || c.RandomShare+c.OldShare > 1 {
		return errors.New("trainer: RandomShare and OldShare must be >= 0 and sum to at most 1")
	}
	if c.PausedSteps < 0 || c.RejectedRounds < 0 {
		return errors.New("trainer: negative setting")
	}
	if c.PausedSteps == 0 {
		c.PausedSteps = d.PausedSteps
	}
	if c.RejectedRounds == 0 {
		c.RejectedRounds = d.RejectedRounds
	}
	if c.Poll == 0 {
		c.Poll = d.Poll
	}
	if c.RefitUpdates == 0 {
		c.RefitUpdates = d.RefitUpdates
	}
	if c.MinRefitSteps == 0 {
		c.MinRefitSteps = d.MinRefitSteps
	}
	if c.Replays == 0 {
		c.Replays = d.Replays
	}
	if c.EvalEpisodes == 0 {
		c.EvalEpisodes = d.EvalEpisodes
	}
	if c.TextEvalPerPrompt <= 0 {
		c.TextEvalPerPrompt = d.TextEvalPerPrompt
	}
	if c.Oversample == 0 {
		c.Oversample = d.Oversample
	}
	if c.OldPolicies == 0 {
		c.OldPolicies = d.OldPolicies
	}
	if c.RandomShare == 0 && c.OldShare == 0 {
		c.RandomShare, c.OldShare = d.RandomShare, d.OldShare
	}
	if c.Seed == 0 {
		c.Seed = d.Seed
	}
	if c.Workers == 0 {
		c.Workers = d.Workers
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// loopConfig is the loop's configuration for project id of env with settings set: the loop's
// defaults for env with the project's query strategy, robust fit (reward.DefaultRobust), PPO objective on the
// ensemble (issue 14) and clip length, the trainer's clip sources, old policies, oversampling
// and PPO workers, and the project's seed. Every round reads its learning choices from it, as
// `prefer experiment` reads its flags into one loop.Config.
func (t *Trainer) loopConfig(id, envName string, set store.Settings) (loop.Config, error) {
	lc := loop.Defaults(envName)
	e, err := env.Lookup(envName)
	if err != nil {
		return lc, fmt.Errorf("trainer: %w", err)
	}
	lc.Seed = t.seed(id, 0)
	lc.ClipSteps = clipSteps(e.Spec(), set.ClipSeconds)
	lc.RandomShare, lc.OldShare, lc.OldPolicies = t.cfg.RandomShare, t.cfg.OldShare, t.cfg.OldPolicies
	lc.PPO.Workers = t.cfg.Workers
	if lc.Query.Strategy, err = query.ParseStrategy(set.Query); err != nil {
		return lc, fmt.Errorf("trainer: project settings: %w", err)
	}
	lc.Query.Oversample = t.cfg.Oversample
	lc.Reward.Robust, lc.Reward.RobustMode = set.Robust, reward.DefaultRobust
	if lc.Objective, err = reward.ParseObjective(set.Objective); err != nil {
		return lc, fmt.Errorf("trainer: project settings: %w", err)
	}
	lc.ObjectiveLambda = set.UWOLambda
	lc.Reward.Prior = set.RewardPrior
	return lc, nil
}
