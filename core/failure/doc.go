// Package failure estimates the probability of a rare failure of a fixed policy: plain Monte
// Carlo with an exact binomial confidence interval, and importance sampling guided by a failure
// predictor learned on weaker policies (Uesato et al. 2018, "Rigorous agent evaluation: an
// adversarial approach to uncover catastrophic failures", §3).
//
// An episode is a deterministic function of a random vector x whose components are independent
// standard normals under the nominal distribution p: the start state (each component mapped
// onto Gymnasium's uniform reset range through the normal CDF) and the sizes of small random
// pushes at fixed steps. The policy acts deterministically, so x alone decides whether the
// episode fails, and an estimator only chooses which x to run.
package failure
