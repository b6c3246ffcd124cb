/* random.js: a seeded generator, so that one seed gives one θ₀ in every browser.
 *
 * xoshiro128** 1.1 (Blackman & Vigna, https://prng.di.unimi.it/xoshiro128starstar.c), its 128-bit state filled by
 * four outputs of splitmix32 run from the 32-bit seed: the seeding its authors recommend, and the all-zero state,
 * the one it must avoid, cannot arise (splitmix32's finalizer is a bijection, so of four distinct counter values at
 * most one maps to 0). Integer arithmetic only (Math.imul, >>>, ^), so every engine computes the same sequence;
 * tests/test_trainer.py checks it against a Python transcription of the two generators.
 *
 * Not torch's generator: a θ₀ drawn here is not the one lossarticle/models.init_params draws for the same seed.
 */

// splitmix32: a Weyl sequence (step 0x9e3779b9, the golden ratio) through MurmurHash3's 32-bit finalizer (fmix32).
function splitmix32(seed) {
  let counter = seed >>> 0;
  return function next() {
    counter = (counter + 0x9e3779b9) >>> 0;
    let z = counter;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

const rotateLeft = (x, k) => (x << k) | (x >>> (32 - k));

// Uniform doubles in [0, 1): each one 32-bit output of xoshiro128** over 2³² (exact in a double).
function seededUniform(seed) {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError("seed " + seed + ": must be an integer in [0, 2^32)");
  }
  const mix = splitmix32(seed);
  let s0 = mix(), s1 = mix(), s2 = mix(), s3 = mix();
  return function uniform() {
    const result = Math.imul(rotateLeft(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotateLeft(s3, 11);
    return result / 4294967296;
  };
}
