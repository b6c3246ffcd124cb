/* Posters on paper. Each figure's static picture (lossarticle/posters.py) loads lazily, so a reader
 * who never scrolls near a figure never downloads it. Printing needs every one: Chromium loads
 * lazy images itself before a print the reader asks for (Document::WillPrintSoon) and ignores
 * loading="lazy" when JavaScript is off, but Safari, and headless printers (CDP Page.printToPDF),
 * do not wait for them. So as soon as the page turns to print media, every poster is asked for. */
(function () {
  "use strict";

  function loadEveryPoster() {
    for (const image of document.querySelectorAll("img.la-poster, img.la-static-picture")) {
      if (image.loading === "lazy") image.loading = "eager";
    }
  }

  window.addEventListener("beforeprint", loadEveryPoster);
  const print = window.matchMedia ? window.matchMedia("print") : null;
  if (print && print.addEventListener) {
    print.addEventListener("change", (event) => { if (event.matches) loadEveryPoster(); });
  }
})();
