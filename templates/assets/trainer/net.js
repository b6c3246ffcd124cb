/* net.js: ReLU MLPs as flat parameter vectors, the way lossarticle/models.py lays them out, and everything that
 * runs them: initialization, the forward and backward passes, the loss, accuracy, live units and decision regions.
 *
 * Layout (models.Architecture): per layer, W (out × in) row-major, then b (out). ReLU after every layer but the
 * last; with skip, a hidden → hidden layer (index > 0, in = out) adds its input: h = h + relu(z).
 *
 * Activations are features-first, (width × n) row-major, as models.forward keeps its batched ones: every product
 * then runs along n contiguous samples. Everything is Float64Array, so the hot loops see one array type; the
 * buffers live in a workspace per network, reused from call to call. Uses random.js (seededUniform).
 */

// The network ``sizes`` = [inputs, hidden..., classes] describes; ``skip`` as models.Architecture.skip.
function net(sizes, skip) {
  if (!Array.isArray(sizes) || sizes.length < 2 || !sizes.every((s) => Number.isInteger(s) && s >= 1)) {
    throw new RangeError("sizes " + JSON.stringify(sizes) + ": need [inputs, hidden..., classes], integers >= 1");
  }
  const layers = [], last = sizes.length - 2;
  let offset = 0;
  for (let index = 0; index <= last; index++) {
    const inp = sizes[index], out = sizes[index + 1], w = offset, b = offset + out * inp;
    layers.push(Object.freeze({
      inp, out, w, b,
      residual: Boolean(skip) && index > 0 && index < last && inp === out,  // hidden -> hidden only
      // z = W·h + b (out × n), and its transpose for the backward pass: Wᵀ·dz (in × n), no bias.
      forward: Object.freeze({ at: w, rowStride: inp, colStride: 1, rows: out, cols: inp, bias: b }),
      backward: Object.freeze({ at: w, rowStride: 1, colStride: inp, rows: inp, cols: out, bias: -1 }),
    }));
    offset = b + out;
  }
  return Object.freeze({
    sizes: Object.freeze(sizes.slice()), skip: Boolean(skip), layers: Object.freeze(layers), params: offset,
    hidden: last, inputs: sizes[0], classes: sizes[last + 1], widest: Math.max(...sizes),
  });
}

// PyTorch's default nn.Linear initialization (models.init_params): W and b both U(-1/√fan_in, 1/√fan_in), drawn in
// parameter order from seededUniform(seed).
function initParams(network, seed) {
  const uniform = seededUniform(seed), theta = new Float64Array(network.params);
  for (const layer of network.layers) {
    const bound = 1 / Math.sqrt(layer.inp);
    for (let p = layer.w, end = layer.b + layer.out; p < end; p++) theta[p] = bound * (2 * uniform() - 1);
  }
  return theta;
}

const asFloat64 = (values) => (values instanceof Float64Array ? values : Float64Array.from(values));

// ------------------------------------------------------------------------------------------------ workspaces

const workspaces = new WeakMap();  // network -> {training, evaluation}: the latest of each kind, by sample count

// Buffers for a pass over n samples. ``act[l]`` is hidden layer l's ReLU output, ``out[l]`` its output (act[l] plus
// the input for a residual layer). Training keeps every layer for the backward pass; evaluation alternates two
// buffers (a residual layer then adds in place), which keeps a deep net's activations in cache.
function workspace(network, n, training) {
  const kind = training ? "training" : "evaluation";
  const cached = workspaces.get(network) || {};
  if (cached[kind] && cached[kind].n === n) return cached[kind];
  const wide = () => new Float64Array(network.widest * n);
  const act = [], out = [], pingPong = training ? null : [wide(), wide()];
  network.layers.slice(0, -1).forEach((layer, l) => {
    act.push(training ? new Float64Array(layer.out * n) : pingPong[l % 2]);
    out.push(training && layer.residual ? new Float64Array(layer.out * n) : act[l]);
  });
  const work = {
    n, act, out, input: new Float64Array(network.inputs * n), logits: new Float64Array(network.classes * n),
    dlogits: training ? new Float64Array(network.classes * n) : null,
    back: training ? [wide(), wide(), wide()] : null,  // gradients flowing down: see backward()
  };
  cached[kind] = work;
  workspaces.set(network, cached);
  return work;
}

// X (n × inputs, row-major, as the page holds points) into the features-first input buffer.
function loadInputs(X, inputs, n, into) {
  if (X.length !== n * inputs) throw new RangeError("X has " + X.length + " values, not " + n + " × " + inputs);
  for (let k = 0; k < n; k++) {
    for (let f = 0; f < inputs; f++) into[f * n + k] = X[k * inputs + f];
  }
}

// ------------------------------------------------------------------------------------------------ products

// output[r·n + k] = bias[r] + Σ_c M[r][c]·input[c·n + k] for the matrix M that ``shape`` places in theta.
// Two rows at a time and four columns per pass over the samples: measured in V8 on a 20 × 20 layer over 1083
// samples, 2.2 GMAC/s against 0.64 for one column per pass (each pass reads and writes the output row once).
function multiply(theta, shape, input, output, n) {
  let r = 0;
  for (; r + 2 <= shape.rows; r += 2) multiplyTwoRows(theta, shape, r, input, output, n);
  if (r < shape.rows) multiplyOneRow(theta, shape, r, input, output, n);
}

function multiplyOneRow(theta, shape, r, input, output, n) {
  const { cols, colStride } = shape, w = shape.at + r * shape.rowStride, o = r * n;
  const bias = shape.bias < 0 ? 0 : theta[shape.bias + r], lead = cols & 3;  // columns before the first full four
  for (let k = 0; k < n; k++) output[o + k] = bias;
  for (let c = 0; c < lead; c++) {
    const wc = theta[w + c * colStride], x = c * n;
    for (let k = 0; k < n; k++) output[o + k] += wc * input[x + k];
  }
  for (let c = lead; c < cols; c += 4) {
    const w0 = theta[w + c * colStride], w1 = theta[w + (c + 1) * colStride];
    const w2 = theta[w + (c + 2) * colStride], w3 = theta[w + (c + 3) * colStride];
    const x0 = c * n, x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
    for (let k = 0; k < n; k++) {
      output[o + k] += w0 * input[x0 + k] + w1 * input[x1 + k] + w2 * input[x2 + k] + w3 * input[x3 + k];
    }
  }
}

function multiplyTwoRows(theta, shape, r, input, output, n) {
  const { cols, colStride } = shape, wa = shape.at + r * shape.rowStride, wb = wa + shape.rowStride;
  const oa = r * n, ob = oa + n, lead = cols & 3;
  const biasA = shape.bias < 0 ? 0 : theta[shape.bias + r], biasB = shape.bias < 0 ? 0 : theta[shape.bias + r + 1];
  for (let k = 0; k < n; k++) {
    output[oa + k] = biasA;
    output[ob + k] = biasB;
  }
  for (let c = 0; c < lead; c++) {
    const a = theta[wa + c * colStride], b = theta[wb + c * colStride], x = c * n;
    for (let k = 0; k < n; k++) {
      const v = input[x + k];
      output[oa + k] += a * v;
      output[ob + k] += b * v;
    }
  }
  for (let c = lead; c < cols; c += 4) {
    const a0 = theta[wa + c * colStride], a1 = theta[wa + (c + 1) * colStride];
    const a2 = theta[wa + (c + 2) * colStride], a3 = theta[wa + (c + 3) * colStride];
    const b0 = theta[wb + c * colStride], b1 = theta[wb + (c + 1) * colStride];
    const b2 = theta[wb + (c + 2) * colStride], b3 = theta[wb + (c + 3) * colStride];
    const x0 = c * n, x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
    for (let k = 0; k < n; k++) {
      const v0 = input[x0 + k], v1 = input[x1 + k], v2 = input[x2 + k], v3 = input[x3 + k];
      output[oa + k] += a0 * v0 + a1 * v1 + a2 * v2 + a3 * v3;
      output[ob + k] += b0 * v0 + b1 * v1 + b2 * v2 + b3 * v3;
    }
  }
}

// grad[W[o][i]] = Σ_k dz[o·n + k]·h[i·n + k] and grad[b[o]] = Σ_k dz[o·n + k]: one pass over dz's row for four
// inputs at a time.
function weightGradient(grad, layer, dz, h, n) {
  const { inp, out } = layer, lead = inp & 3;
  for (let o = 0; o < out; o++) {
    const d = o * n, row = layer.w + o * inp;
    let sum = 0;
    for (let k = 0; k < n; k++) sum += dz[d + k];
    grad[layer.b + o] = sum;
    for (let i = 0; i < lead; i++) {
      let s = 0;
      for (let k = 0, x = i * n; k < n; k++) s += dz[d + k] * h[x + k];
      grad[row + i] = s;
    }
    for (let i = lead; i < inp; i += 4) {
      const x0 = i * n, x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = 0; k < n; k++) {
        const g = dz[d + k];
        s0 += g * h[x0 + k];
        s1 += g * h[x1 + k];
        s2 += g * h[x2 + k];
        s3 += g * h[x3 + k];
      }
      grad[row + i] = s0;
      grad[row + i + 1] = s1;
      grad[row + i + 2] = s2;
      grad[row + i + 3] = s3;
    }
  }
}

// ------------------------------------------------------------------------------------------------ passes

// Logits of the samples in work.input into work.logits (classes × n). ``live``, when given, receives per hidden
// layer the number of units whose ReLU output is nonzero for some sample: models.dead_layers' ``any()``, for which
// NaN counts as nonzero too.
function forward(network, theta, work, n, live) {
  const { layers, hidden } = network;
  let h = work.input;
  for (let l = 0; l < hidden; l++) {
    const layer = layers[l], act = work.act[l], out = work.out[l], size = layer.out * n;
    multiply(theta, layer.forward, h, act, n);
    for (let k = 0; k < size; k++) if (act[k] < 0) act[k] = 0;  // ReLU; NaN stays NaN, as torch.relu keeps it
    if (live) live[l] = countLive(act, layer.out, n);
    if (layer.residual) for (let k = 0; k < size; k++) out[k] = act[k] + h[k];  // in place when out === act
    h = out;
  }
  multiply(theta, layers[hidden].forward, h, work.logits, n);
}

function countLive(act, units, n) {
  let live = 0;
  for (let u = 0; u < units; u++) {
    for (let k = u * n, end = k + n; k < end; k++) {
      if (act[k] !== 0) { live++; break; }
    }
  }
  return live;
}

// Mean cross-entropy and accuracy of work.logits against labels y; with ``dlogits``, also d loss / d logits.
// Log-softmax shifted by each sample's largest logit (torch.log_softmax's way): exp never overflows.
// Accuracy takes the first largest logit, NaN counting as largest, as torch's max(dim).indices does.
function score(work, y, classes, n, dlogits) {
  const z = work.logits;
  let total = 0, correct = 0;
  for (let k = 0; k < n; k++) {
    let best = z[k], argmax = 0;
    for (let c = 1; c < classes; c++) {
      const v = z[c * n + k];
      if (v > best || (v !== v && best === best)) { best = v; argmax = c; }
    }
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(z[c * n + k] - best);
    const label = y[k];
    total -= z[label * n + k] - best - Math.log(sum);
    if (argmax === label) correct++;
    for (let c = 0; dlogits && c < classes; c++) {
      dlogits[c * n + k] = (Math.exp(z[c * n + k] - best) / sum - (c === label ? 1 : 0)) / n;  // (softmax − onehot) / n
    }
  }
  return { loss: total / n, accuracy: correct / n };
}

// d loss / d theta into grad, from the activations forward() left in a training workspace.
// Going down, layer l needs dz (the gradient at its pre-activation) and, when it is residual, dOut (at its output),
// which its skip passes straight to its input; three rotating buffers hold them and the input's gradient.
function backward(network, theta, work, n, grad) {
  const { layers } = network, spare = work.back;
  let dz = work.dlogits, dOut = null;
  for (let l = layers.length - 1; l >= 0; l--) {
    const layer = layers[l];
    weightGradient(grad, layer, dz, l === 0 ? work.input : work.out[l - 1], n);
    if (l === 0) break;  // the inputs need no gradient
    const dIn = spare.find((b) => b !== dz && b !== dOut), size = layer.inp * n;
    multiply(theta, layer.backward, dz, dIn, n);
    if (layer.residual) for (let k = 0; k < size; k++) dIn[k] += dOut[k];
    // Through the ReLU below: torch's threshold_backward passes the gradient where the output is not <= 0.
    const act = work.act[l - 1], dzBelow = spare.find((b) => b !== dIn);
    for (let k = 0; k < size; k++) dzBelow[k] = act[k] <= 0 ? 0 : dIn[k];
    dOut = dIn;
    dz = dzBelow;
  }
}

// ------------------------------------------------------------------------------------------------ the API

// The number of samples in X (n × inputs); with labels y, also checks there is one class index per sample.
function sampleCount(network, X, y) {
  const n = X.length / network.inputs;
  if (!Number.isInteger(n) || (y && y.length !== n)) {
    throw new RangeError("X holds " + X.length + " values, y " + (y && y.length) + " labels: not " +
      network.inputs + " inputs per label");
  }
  for (let k = 0; y && k < n; k++) {
    if (!(Number.isInteger(y[k]) && y[k] >= 0 && y[k] < network.classes)) {
      throw new RangeError("y[" + k + "] = " + y[k] + ": not a class index below " + network.classes);
    }
  }
  return n;
}

function checkTheta(network, theta) {
  if (theta.length !== network.params) {
    throw new RangeError("theta has " + theta.length + " values; the network has " + network.params + " parameters");
  }
  return asFloat64(theta);
}

// Loss and accuracy on (X, y) at theta, its gradient written into ``grad`` (Float64Array of network.params), and
// the live units of each hidden layer (Int32Array).
function lossAndGrad(network, theta, X, y, grad) {
  const n = sampleCount(network, X, y), work = workspace(network, n, true), weights = checkTheta(network, theta);
  const live = new Int32Array(network.hidden);
  loadInputs(X, network.inputs, n, work.input);
  forward(network, weights, work, n, live);
  const result = score(work, y, network.classes, n, work.dlogits);
  backward(network, weights, work, n, grad);
  return { loss: result.loss, accuracy: result.accuracy, live };
}

// Loss and accuracy on (X, y) at theta, without the gradient.
function evaluate(network, theta, X, y) {
  const n = sampleCount(network, X, y), work = workspace(network, n, false);
  loadInputs(X, network.inputs, n, work.input);
  forward(network, checkTheta(network, theta), work, n, null);
  return score(work, y, network.classes, n, null);
}

// Per hidden layer, the units whose ReLU output is nonzero for at least one row of X (a dead unit is 0 for all).
function liveUnits(network, theta, X) {
  const n = sampleCount(network, X, null), work = workspace(network, n, false), live = new Int32Array(network.hidden);
  loadInputs(X, network.inputs, n, work.input);
  forward(network, checkTheta(network, theta), work, n, live);
  return live;
}

// The predicted class at every point (xs[ix], ys[iy]) of an input grid, label[iy·nx + ix] (rows are y, as in
// lossarticle/surface.py decision_regions); the first largest logit wins, as torch's max(dim).indices.
function regions(network, theta, xs, ys) {
  if (network.inputs !== 2) throw new RangeError("decision regions need 2 inputs, not " + network.inputs);
  const nx = xs.length, n = nx * ys.length, work = workspace(network, n, false);
  for (let j = 0; j < n; j++) {
    work.input[j] = xs[j % nx];
    work.input[n + j] = ys[Math.floor(j / nx)];
  }
  forward(network, checkTheta(network, theta), work, n, null);
  const label = new Uint8Array(n), z = work.logits;
  for (let k = 0; k < n; k++) {
    let best = z[k];
    for (let c = 1; c < network.classes; c++) {
      const v = z[c * n + k];
      if (v > best || (v !== v && best === best)) { best = v; label[k] = c; }
    }
  }
  return label;
}
