/* marks.js: the page's milestones, as User Timing marks. DevTools shows them; `generate.py bench` and the
 * browser tests read them back, so their names are a contract:
 *
 *   "la:script"            the page script starts to run, i.e. BokehJS, deferred before it, has run
 *   "la:<slug>:request"    a figure script asked for (load.js)
 *   "la:<slug>:registered" that script fetched, parsed and run
 * and per embedding, <key> being the figure's slug or "explorer" (load.js, embed.js, player.js):
 *   "la:<key>:embed"       embedding begins
 *   "la:<key>:panel:<p>"   panel <p> rendered
 *   "la:<key>:embedded"    the first panels rendered
 *   "la:<key>:scene"       data decoded, first epoch drawn
 *   "la:<key>:ready"       interactive
 *   "la:<key>:complete"    every panel embedded, its data assigned, and painted by Bokeh
 * and per lab (lab.js, lab-yours.js, lab-dice.js), <slug> being its figure's:
 *   "la:lab:<slug>:loaded"   its payload and the trainer arrived
 *   "la:lab:<slug>:train"    a training asked of the worker (your run, or both nets of a roll)
 *   "la:lab:<slug>:first"    the first epochs arrived
 *   "la:lab:<slug>:trained"  the last net's last epoch arrived
 *   "la:lab:<slug>:coarse"   the first coarse map drawn (dice)
 *   "la:lab:<slug>:mapped"   every map drawn at full resolution (dice)
 */
const mark = (name) => { if (window.performance && performance.mark) performance.mark(name); };
mark("la:script");
