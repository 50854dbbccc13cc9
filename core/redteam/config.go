package redteam

// Config holds the adversary's hyperparameters.
type Config struct {
	Steps      int     // clip length in env steps
	Refs       int     // reference clips of the policy (or random actions): the 90th percentile of their r̂ and the ordinary side of each pair
	Percentile float64 // r̂ of a failure must exceed this quantile of the reference clips' r̂
	Pop        int     // candidate clips per cross-entropy generation
	Elite      int     // candidates the next generation's distribution is fitted to
	Smooth     float64 // weight of the elites' fit against the previous distribution (CEM smoothing)
	Floor      float64 // probability mass of a discrete step kept uniform, so no action dies out
	MinStd     float64 // lower bound of a box action's standard deviation, as a fraction of its range
	Lambda     float64 // weight of the true score in the objective r̂/σ_r̂ − λ·true/σ_true
	FreshStart float64 // probability that a candidate starts from a fresh reset instead of an elite's start
	Budget     int     // env steps the search may simulate (reference clips not counted)
	Max        int     // stop after this many failures
}

// DefaultConfig returns the defaults: clips of 50 steps (~1-2.5 s, the loop's clip size),
// 64 references, generations of 64 with 8 elites.
func DefaultConfig() Config {
	return Config{
		Steps: 50, Refs: 64, Percentile: 0.9, Pop: 64, Elite: 8, Smooth: 0.7, Floor: 0.05,
		MinStd: 0.05, Lambda: 1, FreshStart: 0.5, Budget: 100000, Max: 8,
	}
}
