/* geometry.js: planes in weight space: where a θ falls in one (lossarticle/project.py), the PCA plane of a path
 * (lossarticle/directions.py pca_directions), the square grid a map covers (lossarticle/surface.py symmetric_axis)
 * and the loss over it (surface.py loss_grid). A plane is {origin, d1, d2}, three Float64Arrays of the network's
 * parameter count. Uses net.js (net, forward, score, workspace) and random.js (seededUniform).
 */

function dot(u, v) {
  let sum = 0;
  for (let p = 0; p < u.length; p++) sum += u[p] * v[p];
  return sum;
}

// |θ|, the Euclidean norm.
const norm = (theta) => Math.sqrt(dot(theta, theta));

// Least-squares plane coordinates of theta and its distance from the plane (project.project_path): the 2 × 2
// normal equations G·(a, b) = Dᵀ(θ − origin), G = DᵀD, exact for directions neither orthogonal nor of unit length.
function project(plane, theta) {
  const { origin, d1, d2 } = plane, P = origin.length;
  let g11 = 0, g12 = 0, g22 = 0, r1 = 0, r2 = 0;
  for (let p = 0; p < P; p++) {
    const offset = theta[p] - origin[p];
    g11 += d1[p] * d1[p];
    g12 += d1[p] * d2[p];
    g22 += d2[p] * d2[p];
    r1 += d1[p] * offset;
    r2 += d2[p] * offset;
  }
  const det = g11 * g22 - g12 * g12, a = (g22 * r1 - g12 * r2) / det, b = (g11 * r2 - g12 * r1) / det;
  let residual = 0;
  for (let p = 0; p < P; p++) {
    const left = theta[p] - origin[p] - a * d1[p] - b * d2[p];
    residual += left * left;
  }
  return { a, b, distance: Math.sqrt(residual) };
}

// ------------------------------------------------------------------------------------------------ PCA

const PCA_BLOCK = 12;  // vectors iterated together: the 2nd converges like (λ₁₃ / λ₂)ⁱ, not (λ₃ / λ₂)ⁱ
const PCA_TOLERANCE = 1e-13;  // |G·x − λx| ≤ this · λ₁ for the top two Ritz pairs; rounding alone leaves ~1e-15
const PCA_ITERATIONS = 500;  // a bound for flat spectra, where the top two directions are ill-defined anyway

// The top two uncentred principal directions of rows − origin (rows: snapshots θᵢ, each a Float64Array) and the
// share of Σ|θᵢ − origin|² along each (directions.pca_directions). Signs as there: the first row's coordinates are
// ≤ 0, so every path arrives at the origin from the lower left.
//
// From the eigenvectors of the smaller Gram matrix (rows × rows, or parameters × parameters) by block subspace
// iteration with Rayleigh–Ritz; for R ≤ P a right singular vector is Oᵀu/|Oᵀu|. Where the offsets span fewer than
// two directions, Gram–Schmidt on the first basis vector that works completes the pair (where numpy's would be
// arbitrary); all-zero offsets give the first two basis vectors and shares 0.
function pca(rows, origin) {
  const R = rows.length, P = origin.length, offsets = new Float64Array(R * P);
  rows.forEach((row, r) => { for (let p = 0; p < P; p++) offsets[r * P + p] = row[p] - origin[p]; });
  const total = dot(offsets, offsets);
  if (!(total > 0)) return { d1: basisVector(P, 0), d2: basisVector(P, 1), shares: [0, 0] };
  const wide = R <= P, gram = wide ? gramOfRows(offsets, R, P) : gramOfRows(transpose(offsets, R, P), P, R);
  const { vectors, values } = topEigenpairs(gram, Math.min(R, P));
  const [first, second] = wide ? vectors.map((u) => combineRows(offsets, R, P, u)) : vectors;
  const scale = norm(first), d1 = first.map((v) => v / scale);
  const d2 = unitOrComplement(removeComponent(second, d1), d1, scale);
  const start = offsets.subarray(0, P);
  for (const d of [d1, d2]) if (!(dot(start, d) <= 0)) for (let p = 0; p < P; p++) d[p] = -d[p];
  return { d1, d2, shares: [Math.max(values[0], 0) / total, Math.max(values[1], 0) / total] };
}

function basisVector(length, axis) {
  const vector = new Float64Array(length);
  vector[axis] = 1;
  return vector;
}

function transpose(matrix, rows, cols) {
  const result = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) result[c * rows + r] = matrix[r * cols + c];
  return result;
}

// M·Mᵀ for M (rows × cols, row-major): every pair of rows' dot product, each computed once.
function gramOfRows(matrix, rows, cols) {
  const gram = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    const a = i * cols;
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let c = 0, b = j * cols; c < cols; c++) sum += matrix[a + c] * matrix[b + c];
      gram[i * rows + j] = sum;
      gram[j * rows + i] = sum;
    }
  }
  return gram;
}

// Mᵀ·u for M (rows × cols): the combination of M's rows with weights u.
function combineRows(matrix, rows, cols, u) {
  const result = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const weight = u[r];
    for (let c = 0, a = r * cols; c < cols; c++) result[c] += weight * matrix[a + c];
  }
  return result;
}

function removeComponent(vector, unit) {
  const along = dot(vector, unit), result = new Float64Array(vector.length);
  for (let p = 0; p < vector.length; p++) result[p] = vector[p] - along * unit[p];
  return result;
}

// vector / |vector|, or where it is rounding noise against ``scale`` (the first direction's length: the path spans
// one direction only), the first basis vector that Gram–Schmidt against ``unit`` leaves standing
// (directions.orthonormal_complement).
function unitOrComplement(vector, unit, scale) {
  const length = norm(vector);
  if (length > 1e-10 * scale) return vector.map((v) => v / length);
  for (let axis = 0; axis < vector.length; axis++) {
    const candidate = removeComponent(basisVector(vector.length, axis), unit), size = norm(candidate);
    if (size > 1e-6) return candidate.map((v) => v / size);
  }
  throw new RangeError("a direction in " + vector.length + " dimension(s) has no orthogonal complement");
}

// The two largest eigenvalues of the symmetric positive semi-definite ``gram`` (m × m) and their unit
// eigenvectors, by block subspace iteration: Q ← orth(G·Q), Ritz pairs from QᵀGQ, until the top two residuals
// |G·x − λx| are at rounding level. A block as wide as the matrix is exact after one iteration.
function topEigenpairs(gram, m) {
  const width = Math.min(m, PCA_BLOCK), uniform = seededUniform(1);  // a fixed start: the same plane every time
  let block = orthonormalize(Array.from({ length: width }, () => Float64Array.from({ length: m }, uniform)), uniform);
  let ritz = null;
  for (let iteration = 0; iteration < PCA_ITERATIONS; iteration++) {
    const images = block.map((q) => symmetricTimes(gram, m, q));  // G·Q
    const small = new Float64Array(width * width);
    for (let i = 0; i < width; i++) {
      for (let j = 0; j <= i; j++) small[i * width + j] = small[j * width + i] = 0.5 * (dot(block[i], images[j]) +
        dot(block[j], images[i]));
    }
    const { values, vectors } = jacobiEigen(small, width);  // descending
    ritz = { values, vectors: combineColumns(block, vectors, width), images: combineColumns(images, vectors, width) };
    if (converged(ritz, m)) break;
    block = orthonormalize(ritz.images, uniform);  // G times the Ritz vectors, largest first
  }
  return { values: [ritz.values[0], width > 1 ? ritz.values[1] : 0],
    vectors: [ritz.vectors[0], width > 1 ? ritz.vectors[1] : new Float64Array(m)] };
}

function converged(ritz, m) {
  const scale = Math.abs(ritz.values[0]);
  for (let j = 0; j < Math.min(2, ritz.values.length); j++) {
    let residual = 0;
    for (let p = 0; p < m; p++) {
      const r = ritz.images[j][p] - ritz.values[j] * ritz.vectors[j][p];
      residual += r * r;
    }
    if (Math.sqrt(residual) > PCA_TOLERANCE * scale) return false;
  }
  return true;
}

function symmetricTimes(matrix, m, vector) {
  const result = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let sum = 0;
    for (let j = 0, a = i * m; j < m; j++) sum += matrix[a + j] * vector[j];
    result[i] = sum;
  }
  return result;
}

// Column j of the result is Σ_i columns[i]·coefficients[i][j] (coefficients: width × width, row-major).
function combineColumns(columns, coefficients, width) {
  return Array.from({ length: width }, (_, j) => {
    const result = new Float64Array(columns[0].length);
    for (let i = 0; i < width; i++) {
      const c = coefficients[i * width + j];
      for (let p = 0; p < result.length; p++) result[p] += c * columns[i][p];
    }
    return result;
  });
}

// Modified Gram–Schmidt, twice ("twice is enough": Giraud et al. 2005), in place. A vector the others already
// span (a Gram matrix of lower rank than the block) is replaced by a random one, orthogonalized in turn.
function orthonormalize(vectors, uniform) {
  for (let i = 0; i < vectors.length; i++) {
    let v = vectors[i];
    const before = norm(v);
    for (let pass = 0; pass < 2; pass++) for (let j = 0; j < i; j++) v = removeComponent(v, vectors[j]);
    if (!(norm(v) > 1e-10 * before)) {
      v = Float64Array.from({ length: v.length }, uniform);
      for (let pass = 0; pass < 2; pass++) for (let j = 0; j < i; j++) v = removeComponent(v, vectors[j]);
    }
    const length = norm(v);
    vectors[i] = v.map((x) => x / length);
  }
  return vectors;
}

// Eigenvalues (descending) and eigenvectors (column j of ``vectors``, row-major m × m) of a small symmetric
// matrix, by cyclic Jacobi rotations (Golub & Van Loan, Algorithm 8.5.3), which reach full relative accuracy.
function jacobiEigen(matrix, m) {
  const a = Float64Array.from(matrix), v = new Float64Array(m * m);
  for (let i = 0; i < m; i++) v[i * m + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0, all = 0;
    for (let i = 0; i < m * m; i++) all += a[i] * a[i];
    for (let p = 0; p < m; p++) for (let q = p + 1; q < m; q++) off += a[p * m + q] * a[p * m + q];
    if (!(off > 1e-32 * all)) break;
    for (let p = 0; p < m; p++) for (let q = p + 1; q < m; q++) rotate(a, v, m, p, q);
  }
  const order = Array.from({ length: m }, (_, i) => i).sort((i, j) => a[j * m + j] - a[i * m + i]);
  const vectors = new Float64Array(m * m);
  order.forEach((from, to) => { for (let k = 0; k < m; k++) vectors[k * m + to] = v[k * m + from]; });
  return { values: order.map((i) => a[i * m + i]), vectors };
}

// One Jacobi rotation in the (p, q) plane that zeroes a[p][q]: A ← JᵀAJ, V ← VJ.
function rotate(a, v, m, p, q) {
  const apq = a[p * m + q];
  if (apq === 0) return;
  const tau = (a[q * m + q] - a[p * m + p]) / (2 * apq);
  const t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau)), c = 1 / Math.sqrt(1 + t * t), s = t * c;
  for (let k = 0; k < m; k++) {
    const akp = a[k * m + p], akq = a[k * m + q];
    a[k * m + p] = c * akp - s * akq;
    a[k * m + q] = s * akp + c * akq;
  }
  for (let k = 0; k < m; k++) {
    const apk = a[p * m + k], aqk = a[q * m + k];
    a[p * m + k] = c * apk - s * aqk;
    a[q * m + k] = s * apk + c * aqk;
  }
  for (let k = 0; k < m; k++) {
    const vkp = v[k * m + p], vkq = v[k * m + q];
    v[k * m + p] = c * vkp - s * vkq;
    v[k * m + q] = s * vkp + c * vkq;
  }
}

// ------------------------------------------------------------------------------------------------ grids

// surface.symmetric_axis: ``resolution`` points symmetric about 0 covering max|values| plus ``margin`` of it,
// each an integer count of steps times one spacing, so an odd axis has exactly 0 (the plane's origin) in the middle.
function symmetricAxis(values, margin, resolution) {
  let reach = 0;
  for (const value of values) reach = Math.max(reach, Math.abs(value));
  reach = reach > 0 ? reach * (1 + margin) : 1;
  const half = (resolution - 1) / 2;
  return Float64Array.from({ length: resolution }, (_, i) => (i - half) * (reach / half));
}

// Loss and accuracy on (X, y) at origin + a·d1 + b·d2 for every a = xs[ix], b = ys[iy], stored [iy·nx + ix]
// (Z[iy][ix]: rows are y, the np.meshgrid(x, y) and Bokeh image() convention).
function surface(network, plane, xs, ys, X, y) {
  const n = sampleCount(network, X, y), work = workspace(network, n, false), nx = xs.length;
  const { origin, d1, d2 } = plane, P = network.params, theta = new Float64Array(P);
  const loss = new Float64Array(nx * ys.length), accuracy = new Float64Array(nx * ys.length);
  loadInputs(X, network.inputs, n, work.input);
  for (let iy = 0; iy < ys.length; iy++) {
    for (let ix = 0; ix < nx; ix++) {
      const a = xs[ix], b = ys[iy];
      for (let p = 0; p < P; p++) theta[p] = origin[p] + a * d1[p] + b * d2[p];
      forward(network, theta, work, n, null);
      const result = score(work, y, network.classes, n, null);
      loss[iy * nx + ix] = result.loss;
      accuracy[iy * nx + ix] = result.accuracy;
    }
  }
  return { loss, accuracy };
}
