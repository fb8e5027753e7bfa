// The book's own script (Jupyter Book adds every .js file in _static/ to every page).
// Code, display equations and tables wider than the text column scroll sideways (custom.css).
// Besides the scrollbar, the edge that has more to show fades out: this marks such an element
// with the classes scroll-more-right / scroll-more-left, and keeps them up to date as the reader
// scrolls it, resizes the window or opens hidden code.
(function () {
  "use strict";
  var SELECTOR = ".bd-article pre, .bd-article mjx-container[display='true'], " +
                 ".bd-article .pst-scrollable-table-container";
  function mark(el) {
    var more = el.scrollWidth - el.clientWidth;
    el.classList.toggle("scroll-more-right", more > 1 && el.scrollLeft < more - 1);
    el.classList.toggle("scroll-more-left", more > 1 && el.scrollLeft > 1);
  }
  function markAll() {
    document.querySelectorAll(SELECTOR).forEach(mark);
  }
  document.addEventListener("scroll", function (event) {
    if (event.target instanceof Element && event.target.matches(SELECTOR)) mark(event.target);
  }, true);
  document.addEventListener("toggle", markAll, true);
  window.addEventListener("resize", markAll);
  window.addEventListener("load", function () {
    markAll();
    // equations are typeset after the load event
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) MathJax.startup.promise.then(markAll);
  });
})();
