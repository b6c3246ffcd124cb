/* optimizers.js: torch.optim's Adam, SGD and RMSprop, as lossarticle/train.py make_optimizer builds them.
 *
 * Each step() is the single-tensor update of torch.optim (adam.py _single_tensor_adam, sgd.py _single_tensor_sgd,
 * rmsprop.py _single_tensor_rmsprop; read in torch 2.13), operation for operation, with torch's defaults for
 * everything the pipeline leaves unstated: no weight decay, not amsgrad, not centred, no Nesterov, dampening 0.
 * Where torch's CPU kernels fuse a multiply-add (lerp's vectorized path) the results may differ in the last bit;
 * tests/test_trainer.py holds 30 steps of each to 1e-9 of torch's in float64.
 */

const ADAM_BETA2 = 0.999;  // torch's default; the pipeline never changes it
const EPS = 1e-8;  // Adam's and RMSprop's default eps

// An optimizer of ``kind`` ("adam" | "sgd" | "rmsprop"); ``settings``: lr, and beta1 (Adam, default 0.9),
// momentum (SGD, default 0: plain gradient descent), alpha (RMSprop, default 0.99). step(theta, grad) updates
// theta in place from the gradient at theta.
function optimizer(kind, settings) {
  const lr = settings.lr;
  if (!(Number.isFinite(lr) && lr > 0)) throw new RangeError("optimizer lr " + lr + ": must be a finite number > 0");
  if (kind === "adam") {
    return adam(lr, setting(settings, "beta1", 0.9));
  } else if (kind === "sgd") {
    return sgd(lr, setting(settings, "momentum", 0));
  } else if (kind === "rmsprop") {
    return rmsprop(lr, setting(settings, "alpha", 0.99));
  } else {
    throw new RangeError("unknown optimizer " + JSON.stringify(kind) + " (known: adam, sgd, rmsprop)");
  }
}

// settings[name] if given (null and undefined mean "the default"), which must lie in [0, 1).
function setting(settings, name, fallback) {
  const value = settings[name] == null ? fallback : settings[name];
  if (!(Number.isFinite(value) && value >= 0 && value < 1)) {
    throw new RangeError("optimizer " + name + " " + value + ": must lie in [0, 1)");
  }
  return value;
}

// m ← lerp(m, g, 1 − β1) (torch's two-sided lerp: exact at both ends), v ← β2·v + (1 − β2)·g²,
// θ ← θ − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + eps).
function adam(lr, beta1) {
  let m = null, v = null, t = 0;
  const weight = 1 - beta1, small = Math.abs(weight) < 0.5;
  return {
    kind: "adam",
    step(theta, grad) {
      if (m === null) { m = new Float64Array(theta.length); v = new Float64Array(theta.length); }
      t += 1;
      const stepSize = lr / (1 - Math.pow(beta1, t)), correction2 = Math.pow(1 - Math.pow(ADAM_BETA2, t), 0.5);
      for (let p = 0; p < theta.length; p++) {
        const g = grad[p];
        m[p] = small ? m[p] + weight * (g - m[p]) : g - (g - m[p]) * (1 - weight);
        v[p] = v[p] * ADAM_BETA2 + (1 - ADAM_BETA2) * g * g;
        theta[p] += -stepSize * (m[p] / (Math.sqrt(v[p]) / correction2 + EPS));
      }
    },
  };
}

// Heavy ball: the buffer starts as the first gradient (not 0), then buf ← μ·buf + g; θ ← θ − lr·buf.
function sgd(lr, momentum) {
  let buffer = null;
  return {
    kind: "sgd",
    step(theta, grad) {
      if (momentum === 0) {
        for (let p = 0; p < theta.length; p++) theta[p] += -lr * grad[p];
        return;
      }
      if (buffer === null) {
        buffer = Float64Array.from(grad);
      } else {
        for (let p = 0; p < theta.length; p++) buffer[p] = buffer[p] * momentum + grad[p];
      }
      for (let p = 0; p < theta.length; p++) theta[p] += -lr * buffer[p];
    },
  };
}

// v ← α·v + (1 − α)·g²; θ ← θ − lr · g / (√v + eps).
function rmsprop(lr, alpha) {
  let v = null;
  return {
    kind: "rmsprop",
    step(theta, grad) {
      if (v === null) v = new Float64Array(theta.length);
      for (let p = 0; p < theta.length; p++) {
        const g = grad[p];
        v[p] = v[p] * alpha + (1 - alpha) * g * g;
        theta[p] += -lr * (g / (Math.sqrt(v[p]) + EPS));
      }
    },
  };
}
