// Package redteam is an automated adversary for a learned reward model: it searches over start
// states (within the env's reset distribution) and action sequences for clips that r̂ scores
// high while the true reward, or a behaviour's checker, scores low (issue 15; the failure mode
// of Christiano et al. 2017's offline-trained Pong model). The search is the cross-entropy
// method (Rubinstein 1999) on r̂ − λ·true, optionally started from a policy's own actions.
package redteam
