/* format.js: numbers and words, the page's only formatter.
 *
 * The prose prints numbers with lossarticle/numbers.py's num (3 significant digits) and pct (one decimal);
 * the readout prints them the same way, so the two read alike. Python rounds the exact binary value half to
 * even; toFixed rounds a tie away from zero. A tie needs a value exactly halfway in binary (6.25 %, 1.125),
 * rare but real, so digits are rounded here from the value's exact decimal expansion.
 */
const THIN = "\u202f";

function exactDigits(x) {
  // |x| as exact decimal digits [integer part, fraction]: exact for 1e-30 < |x| < 1e21.
  const [whole, fraction = ""] = Math.abs(x).toFixed(100).split(".");
  return [whole, fraction.replace(/0+$/, "")];
}

function roundHalfEven(digits, keep) {
  // The first ``keep`` digits of ``digits``, rounded half to even (one digit longer on a carry).
  const head = digits.slice(0, keep).padEnd(keep, "0"), tail = digits.slice(keep);
  const up = tail[0] > "5" || (tail[0] === "5" && (/[1-9]/.test(tail.slice(1)) || Number(head.slice(-1)) % 2 === 1));
  if (!up) return head;
  return (BigInt(head || "0") + 1n).toString().padStart(keep, "0");
}

function fixed(x, decimals) {
  // Python's f"{x:.{decimals}f}".
  if (Math.abs(x) >= 1e21) return x.toFixed(decimals);
  const [whole, fraction] = exactDigits(x);
  const rounded = roundHalfEven(whole + fraction, whole.length + decimals);
  const cut = rounded.length - decimals;
  const text = rounded.slice(0, cut).replace(/^0+(?=\d)/, "") + (decimals ? "." + rounded.slice(cut) : "");
  return (x < 0 ? "-" : "") + text;
}

function scientific(x, decimals) {
  // Python's f"{x:.{decimals}e}": at least two exponent digits, always signed.
  const [whole, fraction] = exactDigits(x);
  const all = whole + fraction, first = all.search(/[1-9]/);
  if (first < 0 || Math.abs(x) >= 1e21 || Math.abs(x) < 1e-30) {
    const [mantissa, exponent] = x.toExponential(decimals).split("e");
    const e = Number(exponent);
    return mantissa + "e" + (e < 0 ? "-" : "+") + String(Math.abs(e)).padStart(2, "0");
  }
  let exponent = whole.length - 1 - first;
  let kept = roundHalfEven(all.slice(first), decimals + 1);
  if (kept.length > decimals + 1) { exponent += 1; kept = kept.slice(0, decimals + 1); }
  const mantissa = kept[0] + (decimals ? "." + kept.slice(1) : "");
  return (x < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+") + String(Math.abs(exponent)).padStart(2, "0");
}

function formatNumber(x, digits = 3) {
  // numbers.num: ``digits`` significant digits, scientific only outside 1e-5 ... 1e6.
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const magnitude = Math.floor(Math.log10(Math.abs(x)));
  if (magnitude >= -5 && magnitude < 6) return fixed(x, Math.max(digits - 1 - magnitude, 0));
  return scientific(x, digits - 1);
}

function formatPercent(fraction, digits = 1) {
  // numbers.pct: 0.953 -> "95.3 %"; short of 1 it takes more decimals rather than read 100 %.
  let text = fixed(100 * fraction, digits);
  while (fraction < 1 && text.startsWith("100") && digits < 6) text = fixed(100 * fraction, ++digits);
  return text + THIN + "%";
}

const shown = (format) => (v) => (Number.isFinite(v) ? format(v) : "—");
const lossText = shown((v) => formatNumber(v)), percentText = shown((v) => formatPercent(v));

// "epoch 120 / 300 · sgd · loss 0.123 · train 95.3 % · val 94.1 % · |θ| 12.4": what the figure shows, under its
// controls. |θ|, the length of the weight vector, tells growth along the path from progress on the data.
function readout(run, epoch, last, named) {
  const parts = ["epoch " + epoch + " / " + last];
  if (named) parts.push(run.name);
  if (epoch > run.epochs) return parts.concat("diverged at epoch " + run.epochs).join(" · ");
  parts.push("loss " + lossText(run.loss[epoch]), "train " + percentText(run.trainAcc[epoch]),
    "val " + percentText(run.valAcc[epoch]), "|θ| " + lossText(run.weightNorm[epoch]));
  if (run.diverged && epoch === run.epochs) parts.push("training diverged at epoch " + run.epochs);
  return parts.join(" · ");
}
