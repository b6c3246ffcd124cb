/* explorer.js: one view, many experiments. A player whose figure the reader picks from a grid of networks,
 * each loaded on demand; the address names the network shown.
 *
 * Uses player.js (Player), address.js (remember).
 */
class Explorer extends Player {
  constructor(root) {
    super(root, "explorer");
    this.choices = [...root.querySelectorAll(".la-choice")];
    for (const button of this.choices) {
      button.addEventListener("click", () => { this.touched = true; this.choose(button).then(() => this.remember()); });
    }
  }

  get network() { return this.root.dataset.slug || null; }

  initialChoice() {
    const wanted = this.root.dataset.initial;
    return this.choices.find((b) => b.dataset.slug === wanted) || this.choices[0];
  }

  choose(button) {
    for (const b of this.choices) b.setAttribute("aria-pressed", String(b === button));
    this.root.dataset.slug = button.dataset.slug;
    return this.load(button.dataset.slug, button.dataset.src);
  }

  // The network first: its figure must load before the epoch and run can be applied. Loads it (before the
  // explorer started, makes it the one the first load shows) and keeps ``wanted`` for when it is ready.
  needsOtherNetwork(wanted) {
    const button = this.choices.find((b) => b.dataset.slug === wanted.network) || this.initialChoice();
    if (button.dataset.slug === this.root.dataset.slug) return false;
    this.touched = true;
    this.pending = wanted;
    if (this.started) this.choose(button); else this.root.dataset.initial = button.dataset.slug;
    return true;
  }
}
