/* worker.js: the trainer's API, and the message loop of the Web Worker the page trains in.
 *
 * The page starts the worker as new Worker(URL.createObjectURL(new Blob(["(" + trainer + ")(self)"]))), where
 * ``trainer`` is the function lossarticle/trainer_script.py wraps these parts in; trainer(null) on the main thread
 * returns the same API without a worker (tests/test_trainer.py checks it against PyTorch and the Python pipeline).
 *
 * The API (pure functions; X is n × inputs row-major, any typed array; y integer labels; θ a Float64Array):
 *   net(sizes, skip)                        -> network: {sizes, skip, params, hidden, inputs, classes, layers}
 *   initParams(network, seed)               -> θ₀, Float64Array; seed an integer in [0, 2³²) (random.js)
 *   lossAndGrad(network, θ, X, y, grad)     -> {loss, accuracy, live}; the gradient written into grad
 *   evaluate(network, θ, X, y)              -> {loss, accuracy}: mean cross-entropy, share of argmax = label
 *   liveUnits(network, θ, X)                -> Int32Array per hidden layer: units > 0 for some row of X
 *   optimizer(kind, {lr, momentum, beta1, alpha}) -> {kind, step(θ, grad)}, kind "adam" | "sgd" | "rmsprop"
 *   norm(θ)                                 -> |θ|
 *   project(plane, θ)                       -> {a, b, distance}; plane = {origin, d1, d2}
 *   pca(rows, origin)                       -> {d1, d2, shares: [s1, s2]}; rows: Float64Arrays (snapshots)
 *   symmetricAxis(values, margin, resolution) -> Float64Array, as surface.symmetric_axis
 *   surface(network, plane, xs, ys, X, y)   -> {loss, accuracy}: Float64Arrays, value at (xs[ix], ys[iy]) at iy·nx + ix
 *   regions(network, θ, xs, ys)             -> Uint8Array of argmax classes, label[iy·nx + ix]
 *
 * The protocol. One request at a time, in the order they arrive (a request runs to its end before the next one
 * starts); to cancel, the page terminates the worker. Typed arrays in replies are transferred, not copied.
 *   in  {type: "train", id, sizes, skip, theta0 (array) | seed (int), X, y, optimizer: {kind, lr, momentum, beta1,
 *        alpha}, epochs, plane: {origin, d1, d2} (optional), regions: {xs, ys, every} (optional)}
 *       Full-batch training; row e is snapshot θ_e, the weights after e steps, and its loss on (X, y): the rows of
 *       lossarticle/train.py's Trajectory. Training stops at the first row whose loss or |θ| is not finite.
 *   out {type: "epochs", id, first, loss, accuracy, norm, live, a, b, distance}: rows first, first + 1, …, each
 *       batch the rows computed in about BATCH_MS; loss, accuracy, norm Float64Array per row; live Int32Array,
 *       row-major rows × hidden layers; a, b, distance Float64Array per row, only when a plane was given.
 *   out {type: "regions", id, epoch, label}: Uint8Array label[iy·nx + ix] at θ_epoch, for every ``every``-th epoch
 *       (0 included) and the last kept one; posted after the epochs batch holding that row.
 *   out {type: "done", id, epochs, diverged}: epochs = the last kept row (-1 when θ₀'s loss is not finite). The
 *       worker keeps the run's snapshots, network and data under ``id`` for "map".
 *   in  {type: "map", id, runs: [run id, …], resolution, margin, coarse (optional, default COARSE_RESOLUTION)}
 *       The PCA plane of the runs' joined snapshots through the first run's last snapshot (directions.make_plane,
 *       "pca"), the runs' paths on it, and the loss (first run's data) on the square grid symmetric about the
 *       origin that covers every path point plus ``margin`` (surface.view_axes' "true" view).
 *   out {type: "map", id, resolution, final, shares, plane: {origin, d1, d2}, paths: [{a, b, distance}, …], xs, ys,
 *       loss, accuracy}: first at the coarse resolution (final false) when the request asks for more, then at the
 *       requested resolution (final true). loss and accuracy as surface() returns them.
 *   out {type: "error", id, message}: a request that could not be carried out (unknown run, bad sizes, …).
 */

const BATCH_MS = 30;  // rows per "epochs" message: frequent updates for the page, few messages
const COARSE_RESOLUTION = 21;  // a map's first, quick grid unless the request names one: 441 points, not 1681 at 41

const api = Object.freeze({
  net, initParams, lossAndGrad, evaluate, liveUnits, optimizer, norm, project, pca, symmetricAxis, surface, regions,
});

const finishedRuns = new Map();  // run id -> {network, X, y, rows: one Float64Array view per kept snapshot}

// A train request's state: the network, θ (updated in place), its optimizer, and where the snapshots go.
function startRun(request) {
  const network = net(request.sizes, request.skip), P = network.params;
  const theta = request.theta0 != null ? checkTheta(network, Float64Array.from(request.theta0))
    : initParams(network, request.seed);
  if (!(Number.isInteger(request.epochs) && request.epochs >= 0)) {
    throw new RangeError("epochs " + request.epochs + ": must be an integer >= 0");
  }
  const { kind, ...settings } = request.optimizer;
  const plane = request.plane ? planeOf(network, request.plane) : null;
  const regionGrid = request.regions ? gridOf(request.regions) : null;
  sampleCount(network, request.X, request.y);
  return { id: request.id, network, theta, X: request.X, y: request.y, epochs: request.epochs, plane, regionGrid,
    step: optimizer(kind, settings), grad: new Float64Array(P), snapshots: new Float64Array((request.epochs + 1) * P) };
}

function planeOf(network, plane) {
  const result = { origin: asFloat64(plane.origin), d1: asFloat64(plane.d1), d2: asFloat64(plane.d2) };
  for (const [name, vector] of Object.entries(result)) {
    if (vector.length !== network.params) throw new RangeError("plane." + name + " has " + vector.length + " values");
  }
  return result;
}

function gridOf(regionRequest) {
  if (!(Number.isInteger(regionRequest.every) && regionRequest.every >= 1)) {
    throw new RangeError("regions.every " + regionRequest.every + ": must be an integer >= 1");
  }
  return { xs: asFloat64(regionRequest.xs), ys: asFloat64(regionRequest.ys), every: regionRequest.every };
}

// The rows from ``first`` on, as they are computed; flush() posts them with the regions they reached.
function newBatch(first) {
  return { first, loss: [], accuracy: [], norm: [], live: [], a: [], b: [], distance: [], regions: [] };
}

// Row ``epoch``: the loss at θ_epoch (and its gradient), recorded, then the step to θ_epoch+1. False, recording
// nothing, when the loss or |θ| is not finite (train.finite_prefix).
function trainRow(run, epoch, batch) {
  const { network, theta } = run, result = lossAndGrad(network, theta, run.X, run.y, run.grad), size = norm(theta);
  if (!Number.isFinite(result.loss) || !Number.isFinite(size)) return false;
  run.snapshots.set(theta, epoch * network.params);
  batch.loss.push(result.loss);
  batch.accuracy.push(result.accuracy);
  batch.norm.push(size);
  batch.live.push(...result.live);
  if (run.plane) {
    const where = project(run.plane, theta);
    batch.a.push(where.a);
    batch.b.push(where.b);
    batch.distance.push(where.distance);
  }
  const grid = run.regionGrid;
  if (grid && (epoch % grid.every === 0 || epoch === run.epochs)) {
    batch.regions.push({ epoch, label: regions(network, theta, grid.xs, grid.ys) });
  }
  if (epoch < run.epochs) run.step.step(theta, run.grad);
  return true;
}

function flush(scope, run, batch) {
  if (batch.loss.length === 0) return;
  const message = { type: "epochs", id: run.id, first: batch.first, loss: Float64Array.from(batch.loss),
    accuracy: Float64Array.from(batch.accuracy), norm: Float64Array.from(batch.norm),
    live: Int32Array.from(batch.live) };
  if (run.plane) {
    Object.assign(message, { a: Float64Array.from(batch.a), b: Float64Array.from(batch.b),
      distance: Float64Array.from(batch.distance) });
  }
  scope.postMessage(message, transferables(message));
  for (const { epoch, label } of batch.regions) {
    scope.postMessage({ type: "regions", id: run.id, epoch, label }, [label.buffer]);
  }
}

const transferables = (message) => Object.values(message).filter(ArrayBuffer.isView).map((array) => array.buffer);

function train(scope, request) {
  const run = startRun(request), P = run.network.params;
  let batch = newBatch(0), started = performance.now(), kept = 0;
  while (kept <= run.epochs && trainRow(run, kept, batch)) {
    kept++;
    if (performance.now() - started >= BATCH_MS) {
      flush(scope, run, batch);
      batch = newBatch(kept);
      started = performance.now();
    }
  }
  const diverged = kept <= run.epochs, last = kept - 1;
  if (diverged && run.regionGrid && last >= 0 && last % run.regionGrid.every !== 0) {
    const theta = run.snapshots.subarray(last * P, kept * P);  // the last kept snapshot's regions end the run
    batch.regions.push({ epoch: last, label: regions(run.network, theta, run.regionGrid.xs, run.regionGrid.ys) });
  }
  flush(scope, run, batch);
  const rows = Array.from({ length: kept }, (_, e) => run.snapshots.subarray(e * P, (e + 1) * P));
  finishedRuns.set(run.id, { network: run.network, X: run.X, y: run.y, rows });
  scope.postMessage({ type: "done", id: run.id, epochs: last, diverged });
}

// ------------------------------------------------------------------------------------------------ maps

function storedRuns(ids) {
  if (!Array.isArray(ids) || ids.length === 0) throw new RangeError("map: runs must list at least one run id");
  const runs = ids.map((id) => {
    const run = finishedRuns.get(id);
    if (!run) throw new RangeError("map: no finished run " + JSON.stringify(id));
    if (run.rows.length === 0) throw new RangeError("map: run " + JSON.stringify(id) + " kept no snapshot");
    return run;
  });
  const params = runs[0].network.params;
  if (runs.some((run) => run.network.params !== params)) throw new RangeError("map: the runs' networks differ");
  return runs;
}

// Every point of every path, (a, b) per snapshot, for the grid's reach.
function* pathCoordinates(paths) {
  for (const path of paths) { yield* path.a; yield* path.b; }
}

function projectRows(plane, rows) {
  const a = new Float64Array(rows.length), b = new Float64Array(rows.length), distance = new Float64Array(rows.length);
  rows.forEach((theta, e) => {
    const where = project(plane, theta);
    a[e] = where.a;
    b[e] = where.b;
    distance[e] = where.distance;
  });
  return { a, b, distance };
}

function map(scope, request) {
  const runs = storedRuns(request.runs), base = runs[0], { resolution, margin } = request;
  const coarse = request.coarse == null ? COARSE_RESOLUTION : request.coarse;
  for (const [name, size] of [["resolution", resolution], ["coarse", coarse]]) {
    if (!(Number.isInteger(size) && size >= 2)) throw new RangeError("map: " + name + " " + size + ": not an int >= 2");
  }
  if (!(Number.isFinite(margin) && margin >= 0)) throw new RangeError("map: margin " + margin);
  const origin = Float64Array.from(base.rows[base.rows.length - 1]);
  const { d1, d2, shares } = pca(runs.flatMap((run) => run.rows), origin);
  const plane = { origin, d1, d2 }, paths = runs.map((run) => projectRows(plane, run.rows));
  const reach = Array.from(pathCoordinates(paths));
  for (const size of resolution > coarse ? [coarse, resolution] : [resolution]) {
    const xs = symmetricAxis(reach, margin, size), ys = xs.slice();
    const { loss, accuracy } = surface(base.network, plane, xs, ys, base.X, base.y);
    scope.postMessage({ type: "map", id: request.id, resolution: size, final: size === resolution, shares, plane,
      paths, xs, ys, loss, accuracy }, [xs.buffer, ys.buffer, loss.buffer, accuracy.buffer]);
  }
}

// ------------------------------------------------------------------------------------------------ the loop

function handle(scope, request) {
  try {
    if (request.type === "train") {
      train(scope, request);
    } else if (request.type === "map") {
      map(scope, request);
    } else {
      throw new RangeError("unknown request type " + JSON.stringify(request.type) + " (known: train, map)");
    }
  } catch (error) {
    scope.postMessage({ type: "error", id: request && request.id, message: String(error && error.message || error) });
  }
}

if (scope !== null) scope.onmessage = (event) => handle(scope, event.data);
