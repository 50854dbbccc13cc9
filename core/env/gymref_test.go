package env

// Test-local, line-by-line transliterations of Gymnasium's step functions
// (gymnasium/envs/classic_control/*.py), written from the Python source and separately from
// the package's code: nothing here calls the package. Python floats are float64; Python
// rounds after every operation, so every step below is one rounded operation, written through
// float64() conversions so that no platform fuses a multiply and an add. Python's sin and cos
// are the C library's; here they are the package's cSin and cCos (trig.go, tested on its own
// against high-precision values), the one thing shared with the code under test.

import (
	"math"
)

// ---- cartpole.py: CartPoleEnv ----

type refCartPole struct {
	state                 [4]float64
	stepsBeyondTerminated int // -1 plays None
}

func (env *refCartPole) step(action int) (reward float64, terminated bool) {
	gravity := 9.8
	masscart := 1.0
	masspole := 0.1
	totalMass := masspole + masscart
	length := 0.5
	polemassLength := masspole * length
	forceMag := 10.0
	tau := 0.02
	pi := math.Pi // a variable: Go would fold 24 * math.Pi exactly, Python rounds it
	thetaThresholdRadians := float64(float64(12*2)*pi) / 360
	xThreshold := 2.4

	x, xDot, theta, thetaDot := env.state[0], env.state[1], env.state[2], env.state[3]
	force := -forceMag
	if action == 1 {
		force = forceMag
	}
	costheta := cCos(theta)
	sintheta := cSin(theta)
	thetaDotSq := float64(thetaDot * thetaDot)
	temp := (force + float64(float64(polemassLength*thetaDotSq)*sintheta)) / totalMass
	cosSq := float64(costheta * costheta)
	thetaacc := (float64(gravity*sintheta) - float64(costheta*temp)) /
		float64(length*(4.0/3.0-float64(masspole*cosSq)/totalMass))
	xacc := temp - float64(float64(polemassLength*thetaacc)*costheta)/totalMass

	x = x + float64(tau*xDot)
	xDot = xDot + float64(tau*xacc)
	theta = theta + float64(tau*thetaDot)
	thetaDot = thetaDot + float64(tau*thetaacc)
	env.state = [4]float64{x, xDot, theta, thetaDot}

	terminated = x < -xThreshold || x > xThreshold || theta < -thetaThresholdRadians || theta > thetaThresholdRadians
	switch {
	case !terminated:
		reward = 1.0
	case env.stepsBeyondTerminated == -1:
		env.stepsBeyondTerminated = 0
		reward = 1.0
	default:
		env.stepsBeyondTerminated++
		reward = 0.0
	}
	return reward, terminated
}

// ---- pendulum.py: PendulumEnv (g = 10.0) ----

type refPendulum struct{ state [2]float64 }

func refAngleNormalize(x float64) float64 {
	// ((x + np.pi) % (2 * np.pi)) - np.pi, with Python's modulo: the result has the sign of
	// the divisor.
	a, b := x+math.Pi, 2*math.Pi
	r := math.Mod(a, b)
	if r != 0 && (r < 0) != (b < 0) {
		r += b
	}
	return r - math.Pi
}

func (env *refPendulum) step(uIn float64) (reward float64) {
	maxSpeed := 8.0
	maxTorque := 2.0
	dt := 0.05
	g := 10.0
	m := 1.0
	l := 1.0
	th, thdot := env.state[0], env.state[1]
	u := uIn
	if u < -maxTorque {
		u = -maxTorque
	}
	if u > maxTorque {
		u = maxTorque
	}
	an := refAngleNormalize(th)
	costs := float64(an*an) + float64(0.1*float64(thdot*thdot)) + float64(0.001*float64(u*u))
	newthdot := thdot + float64((float64(3*g/(2*l)*cSin(th))+float64(3.0/float64(m*float64(l*l))*u))*dt)
	if newthdot < -maxSpeed {
		newthdot = -maxSpeed
	}
	if newthdot > maxSpeed {
		newthdot = maxSpeed
	}
	newth := th + float64(newthdot*dt)
	env.state = [2]float64{newth, newthdot}
	return -costs
}

// ---- acrobot.py: AcrobotEnv (book_or_nips = "book", torque_noise_max = 0) ----

type refAcrobot struct{ state [4]float64 }

func refDsdt(sAugmented [5]float64) [5]float64 {
	m1 := 1.0
	m2 := 1.0
	l1 := 1.0
	lc1 := 0.5
	lc2 := 0.5
	I1 := 1.0
	I2 := 1.0
	g := 9.8
	a := sAugmented[4]
	theta1 := sAugmented[0]
	theta2 := sAugmented[1]
	dtheta1 := sAugmented[2]
	dtheta2 := sAugmented[3]
	d1 := float64(m1*float64(lc1*lc1)) +
		float64(m2*(float64(l1*l1)+float64(lc2*lc2)+float64(float64(float64(2*l1)*lc2)*cCos(theta2)))) +
		I1 + I2
	d2 := float64(m2*(float64(lc2*lc2)+float64(float64(l1*lc2)*cCos(theta2)))) + I2
	phi2 := float64(float64(float64(m2*lc2)*g) * cCos(theta1+theta2-math.Pi/2.0))
	phi1 := float64(float64(float64(float64(-m2*l1)*lc2)*float64(dtheta2*dtheta2))*cSin(theta2)) -
		float64(float64(float64(float64(float64(float64(2*m2)*l1)*lc2)*dtheta2)*dtheta1)*cSin(theta2)) +
		float64(float64(float64(m1*lc1)+float64(m2*l1))*g*cCos(theta1-math.Pi/2)) +
		phi2
	// book
	ddtheta2 := (a + float64(float64(d2/d1)*phi1) -
		float64(float64(float64(float64(m2*l1)*lc2)*float64(dtheta1*dtheta1))*cSin(theta2)) - phi2) /
		(float64(m2*float64(lc2*lc2)) + I2 - float64(d2*d2)/d1)
	ddtheta1 := -(float64(d2*ddtheta2) + phi1) / d1
	return [5]float64{dtheta1, dtheta2, ddtheta1, ddtheta2, 0.0}
}

// refRK4 is acrobot.py's rk4(derivs, y0, t) for t = [0, dt], returning yout[-1][:4].
func refRK4(y0 [5]float64, t [2]float64) [4]float64 {
	this := t[0]
	dt := t[1] - this
	dt2 := dt / 2.0
	axpy := func(y [5]float64, h float64, k [5]float64) (out [5]float64) {
		for i := range out {
			out[i] = y[i] + float64(h*k[i])
		}
		return out
	}
	k1 := refDsdt(y0)
	k2 := refDsdt(axpy(y0, dt2, k1))
	k3 := refDsdt(axpy(y0, dt2, k2))
	k4 := refDsdt(axpy(y0, dt, k3))
	var out [4]float64
	for i := range out {
		// y0 + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
		s := k1[i] + float64(2*k2[i])
		s = s + float64(2*k3[i])
		s = s + k4[i]
		out[i] = y0[i] + float64(dt/6.0*s)
	}
	return out
}

func refWrap(x, m, M float64) float64 {
	diff := M - m
	for x > M {
		x = x - diff
	}
	for x < m {
		x = x + diff
	}
	return x
}

func refBound(x, m, M float64) float64 { return math.Min(math.Max(x, m), M) }

func (env *refAcrobot) step(a int) (reward float64, terminated bool) {
	availTorque := [3]float64{-1.0, 0.0, +1}
	s := env.state
	torque := availTorque[a]
	sAugmented := [5]float64{s[0], s[1], s[2], s[3], torque}
	ns := refRK4(sAugmented, [2]float64{0, 0.2})
	ns[0] = refWrap(ns[0], -math.Pi, math.Pi)
	ns[1] = refWrap(ns[1], -math.Pi, math.Pi)
	pi := math.Pi // MAX_VEL_2 = 9 * pi rounds 9 * float64(pi), not 9 pi exactly
	maxVel1, maxVel2 := 4*pi, 9*pi
	ns[2] = refBound(ns[2], -maxVel1, maxVel1)
	ns[3] = refBound(ns[3], -maxVel2, maxVel2)
	env.state = ns
	terminated = -cCos(ns[0])-cCos(ns[1]+ns[0]) > 1.0
	reward = -1.0
	if terminated {
		reward = 0.0
	}
	return reward, terminated
}

// ---- continuous_mountain_car.py: Continuous_MountainCarEnv (goal_velocity = 0) ----

type refMountainCar struct{ state [2]float64 } // float32 values after a step, as numpy stores them

func (env *refMountainCar) step(action float64) (reward float64, terminated bool) {
	minAction, maxAction := -1.0, 1.0
	minPosition, maxPosition := -1.2, 0.6
	maxSpeed := 0.07
	goalPosition := 0.45
	goalVelocity := 0.0
	power := 0.0015

	position := env.state[0]
	velocity := env.state[1]
	force := math.Min(math.Max(action, minAction), maxAction)
	velocity += float64(force*power) - float64(0.0025*cCos(3*position))
	if velocity > maxSpeed {
		velocity = maxSpeed
	}
	if velocity < -maxSpeed {
		velocity = -maxSpeed
	}
	position += velocity
	if position > maxPosition {
		position = maxPosition
	}
	if position < minPosition {
		position = minPosition
	}
	if position == minPosition && velocity < 0 {
		velocity = 0
	}
	terminated = position >= goalPosition && velocity >= goalVelocity
	reward = 0
	if terminated {
		reward = 100.0
	}
	reward -= float64(math.Pow(action, 2) * 0.1)
	// self.state = np.array([position, velocity], dtype=np.float32)
	env.state = [2]float64{float64(float32(position)), float64(float32(velocity))}
	return reward, terminated
}
