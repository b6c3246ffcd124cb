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
 */
const mark = (name) => { if (window.performance && performance.mark) performance.mark(name); };
mark("la:script");
