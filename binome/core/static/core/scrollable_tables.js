// A table wider than the screen scrolls sideways in its DSFR container: a keyboard user
// must be able to reach that container to scroll it (RGAA 7.3, WCAG 2.1.1). Every scrolling
// table container gets tabindex="0" (and, when it is not the table itself, the region role
// named by the table's caption) while it scrolls; the others are left alone.
(function () {
  const SCROLLERS = ".fr-table__container, .fr-table__shadow, .fr-table > table";

  function mark() {
    document.querySelectorAll(SCROLLERS).forEach(function (element) {
      const scrolls = element.scrollWidth > element.clientWidth + 1;
      if (scrolls && !element.hasAttribute("tabindex")) {
        element.setAttribute("tabindex", "0");
        element.dataset.binomeScrollable = "";
        if (element.tagName !== "TABLE") {
          const caption = element.querySelector("caption");
          element.setAttribute("role", "region");
          element.setAttribute(
            "aria-label",
            caption ? caption.textContent.trim() : "Tableau défilant horizontalement"
          );
        }
      } else if (!scrolls && "binomeScrollable" in element.dataset) {
        element.removeAttribute("tabindex");
        element.removeAttribute("role");
        element.removeAttribute("aria-label");
        delete element.dataset.binomeScrollable;
      }
    });
  }

  // The DSFR's script builds its table wrappers after the page is parsed; htmx swaps in
  // new tables; a rotated phone changes what scrolls.
  window.addEventListener("load", mark);
  window.addEventListener("resize", mark);
  document.addEventListener("htmx:afterSettle", mark);
  // Many changes in one frame: one pass.
  let pending = false;
  new MutationObserver(function () {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () {
      pending = false;
      mark();
    });
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
