package reward

// FeaturesFor is what r̂ reads for a task: the observation alone when actions are discrete,
// the observation and the action otherwise. Christiano et al. 2017 fit r̂(o, a) (§2.1). The
// discrete-action tasks here (CartPole, Acrobot) reward states alone, and most steps of an
// early policy are spent in an absorbing failed state where the action does nothing: with the
// action in its input, the ensemble picks up chance differences between actions there, and
// PPO follows such an immediate, per-action reward into a constant policy rather than the
// delayed one of staying up. Continuous tasks (Pendulum, MountainCarContinuous) charge for the
// action (torque, fuel), so there the model reads it. The hub's trainer, the experiments
// (core/loop) and the browser's fitter all start their models with it.
func FeaturesFor(discreteActions bool) Features {
	if discreteActions {
		return Obs
	}
	return Obs | Act
}
