package classroom

import (
	"github.com/prefer-rlhf/prefer/core/jsonnum"
	"math"
	"sort"
	"time"

	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/stats"
)

// LabelRow is one comparison as the dashboard reads it.
type LabelRow struct {
	Rater     string // rater id
	RaterName string
	Pair      string
	Choice    prefs.Choice
	At        time.Time // when the hub received it
	Excluded  bool      // the teacher excluded the rater's labels
}

// RaterStats is one rater's row on the dashboard.
type RaterStats struct {
	Rater         string      `json:"rater"`
	Name          string      `json:"name"`
	Labels        int         `json:"labels"` // all answers received, cant_tell included
	Excluded      bool        `json:"excluded"`
	Gold          int         `json:"gold"` // answers to gold pairs
	GoldRate      jsonnum.Num `json:"gold_agreement"`
	Consensus     int         `json:"consensus"` // answers where the others have a consensus
	ConsensusRate jsonnum.Num `json:"consensus_agreement"`
	// Weight is the share of their labels the trainer uses, in [0, 1] (1 unless the teacher
	// down-weighted them); set by the dashboard, not by Summarize.
	Weight float64 `json:"weight"`
	// Participant is the rater's crowd participant id ("" for none); set by the dashboard.
	Participant string `json:"participant"`
	// ActiveMinutes sums the rater's response times, each label's capped at 5 minutes, and
	// MedianSeconds is their median time per label (store.Raters); set by the dashboard.
	ActiveMinutes float64     `json:"active_minutes"`
	MedianSeconds jsonnum.Num `json:"median_seconds_per_label"`
}

// Minute is the number of labels received in one clock minute.
type Minute struct {
	Start  time.Time `json:"start"`
	Labels int       `json:"labels"`
}

// Disputed is one of the most disputed pairs.
type Disputed struct {
	Pair         string       `json:"pair"`
	Left         int          `json:"left"`
	Right        int          `json:"right"`
	Equal        int          `json:"equal"`
	Disagreement jsonnum.Num  `json:"disagreement"`
	Gold         prefs.Choice `json:"gold,omitempty"` // the teacher's known answer, if a gold pair
}

// Summary is what the dashboard shows about the labels.
type Summary struct {
	Labels    int          `json:"labels"`
	PerRater  []RaterStats `json:"per_rater"`
	PerMinute []Minute     `json:"per_minute"` // the last SummaryMinutes minutes, oldest first
	// Agreement is the share of agreeing rater pairs on shared pairs (stats.Pairwise); Kappa is
	// Fleiss' kappa over the pairs with two answers or more. Both leave excluded raters out.
	Agreement   jsonnum.Num `json:"agreement"`
	Kappa       jsonnum.Num `json:"fleiss_kappa"`
	SharedPairs int         `json:"shared_pairs"` // pairs answered by two raters or more
	Disputed    []Disputed  `json:"disputed"`     // most disputed first, at most SummaryDisputed
	GoldPairs   int         `json:"gold_pairs"`   // pairs the teacher marked with a known answer
	// PairsLabelled counts the pairs with at least one label, PairsAtOverlap those labelled
	// by the project's overlap of distinct raters, and OverlapShare is their ratio (null
	// before any label); set by the dashboard.
	PairsLabelled  int         `json:"pairs_labelled"`
	PairsAtOverlap int         `json:"pairs_at_overlap"`
	OverlapShare   jsonnum.Num `json:"overlap_share"`
}

// How much history the summary keeps.
const (
	SummaryMinutes  = 10
	SummaryDisputed = 5
)

// Summarize computes the dashboard's label figures at time now. gold maps pair ids to their
// known answers. Excluded raters are listed and counted, but left out of the agreement
// figures and the consensus, as the trainer leaves them out of its data.
func Summarize(rows []LabelRow, gold map[string]prefs.Choice, now time.Time) Summary {
	s := Summary{Labels: len(rows)}
	byRater := map[string]*RaterStats{}
	var included []stats.Label
	minute0 := now.Truncate(time.Minute).Add(-(SummaryMinutes - 1) * time.Minute)
	s.PerMinute = make([]Minute, SummaryMinutes)
	for i := range s.PerMinute {
		s.PerMinute[i].Start = minute0.Add(time.Duration(i) * time.Minute).UTC()
	}
	for _, r := range rows {
		rs := byRater[r.Rater]
		if rs == nil {
			rs = &RaterStats{Rater: r.Rater, Name: r.RaterName, Excluded: r.Excluded}
			byRater[r.Rater] = rs
		}
		rs.Labels++
		if !r.At.Before(minute0) {
			if k := int(r.At.Sub(minute0) / time.Minute); k < SummaryMinutes {
				s.PerMinute[k].Labels++
			}
		}
		if !r.Excluded {
			included = append(included, stats.Label{Rater: r.Rater, Item: r.Pair, Choice: r.Choice})
		}
	}
	// Gold agreement for everyone (an excluded rater's quality is why they were excluded);
	// consensus among the included raters only.
	all := make([]stats.Label, len(rows))
	for i, r := range rows {
		all[i] = stats.Label{Rater: r.Rater, Item: r.Pair, Choice: r.Choice}
	}
	for _, q := range stats.Quality(all, gold) {
		rs := byRater[q.Rater]
		rs.Gold, rs.GoldRate = q.Gold, jsonnum.Num(q.GoldRate())
		rs.ConsensusRate = jsonnum.Num(math.NaN())
	}
	for _, q := range stats.Quality(included, nil) {
		rs := byRater[q.Rater]
		rs.Consensus, rs.ConsensusRate = q.Consensus, jsonnum.Num(q.ConsensusRate())
	}
	for _, rs := range byRater {
		if rs.Gold == 0 {
			rs.GoldRate = jsonnum.Num(math.NaN())
		}
		if rs.Consensus == 0 {
			rs.ConsensusRate = jsonnum.Num(math.NaN())
		}
		s.PerRater = append(s.PerRater, *rs)
	}
	sort.Slice(s.PerRater, func(i, j int) bool {
		a, b := s.PerRater[i], s.PerRater[j]
		if a.Labels != b.Labels {
			return a.Labels > b.Labels
		}
		return a.Rater < b.Rater
	})
	_, overall := stats.Pairwise(included)
	s.Agreement = jsonnum.Num(overall)
	s.Kappa = jsonnum.Num(stats.FleissKappa(included))
	s.SharedPairs = len(stats.Counts(included))
	for _, d := range stats.Disputed(included, SummaryDisputed) {
		s.Disputed = append(s.Disputed, Disputed{Pair: d.Item, Left: d.Counts[0], Right: d.Counts[1],
			Equal: d.Counts[2], Disagreement: jsonnum.Num(d.Disagreement)})
	}
	return s
}
