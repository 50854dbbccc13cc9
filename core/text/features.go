package text

import (
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/reward"
)

// Features turns a continuation into the rows of a core/reward segment, so that the text
// reward model is core/reward's Bradley-Terry ensemble unchanged: step t of a continuation is
// one transition whose observation is the hashed one-hot of its token and of the bigram
// (previous token, token) in Dim buckets (the hashing trick, Weinberger et al. 2009; the
// previous token of the first step is the prompt's last). r̂ of a continuation is then the sum
// of per-token rewards (Christiano et al. 2017, eq. 1), which PPO can credit token by token.
// The model is its own, small and independent of the language model: with Dim 256 and one
// hidden layer of 32 an ensemble of 3 is 25k weights, which the browser's worker downloads and
// refits at 500 labels quickly.
type Features struct {
	Dim int // hash buckets, the observation width; > 0
}

// DefaultFeatures are the text reward model's features.
var DefaultFeatures = Features{Dim: 256}

// Shape is the core/reward shape of the segments Segment makes.
func (f Features) Shape() reward.Shape { return reward.Shape{ObsDim: f.Dim} }

// RewardConfig returns core/reward's settings for the text reward model: the defaults
// (ensemble of 3, Bradley-Terry with ε = 0.1, adaptive L2), reading observations only, with
// one hidden layer of 32, enough for a sum of per-token scores over hashed n-grams.
func RewardConfig(seed uint64) reward.Config {
	c := reward.Defaults()
	c.Features = reward.Obs
	c.Hidden = []int{32}
	c.Seed = seed
	return c
}

// Segment returns the segment of a continuation cont of prompt (which may be empty): one
// row of Dim per token of cont. cont must not be empty.
func (f Features) Segment(prompt, cont []int) reward.Segment {
	s := reward.Segment{Len: len(cont), Obs: make([]float64, len(cont)*f.Dim)}
	prev := -1
	if len(prompt) > 0 {
		prev = prompt[len(prompt)-1]
	}
	for t, id := range cont {
		row := s.Obs[t*f.Dim : (t+1)*f.Dim]
		row[f.bucket(uint64(id))] = 1
		row[f.bucket(uint64(prev+1)<<32|uint64(id)|1<<63)] += 1
		prev = id
	}
	return s
}

// ClipSegment returns the segment of text clip c, decoded with l (ClipLayout.Tokens): the form
// in which clips reach the trainer and the browser.
func (f Features) ClipSegment(l ClipLayout, c *prefs.Clip) (reward.Segment, error) {
	prompt, cont, err := l.Tokens(c)
	if err != nil {
		return reward.Segment{}, err
	}
	return f.Segment(prompt, cont), nil
}

// bucket hashes a key into [0, Dim) with SplitMix64's finaliser: fixed, so the browser and the
// server put a token in the same bucket.
func (f Features) bucket(k uint64) int {
	k ^= k >> 30
	k *= 0xbf58476d1ce4e5b9
	k ^= k >> 27
	k *= 0x94d049bb133111eb
	k ^= k >> 31
	return int(k % uint64(f.Dim))
}
