// Added to every page after vendor/axe.min.js (tests/browser/axe_audit.py): runs axe-core on
// each document once it is parsed and again after each htmx swap settles, and hands each run's
// findings to the test through the window.__axeReport binding.
//
// axe loads with its zero-delay timers turned into microtasks (see axe_audit.py), so a run
// started here finishes inside the same task: no click, swap or navigation can come between
// its steps, and the page a test leaves has always been checked first.
(function () {
  // Not pages, so not checked: plain-text and JSON answers (the health check), shown in a
  // document the browser makes up, and a fragment meant for a swap opened on its own (no
  // <!doctype>), whose content is checked once swapped into its page.
  if (!window.axe || document.contentType !== "text/html") return;
  document.addEventListener("DOMContentLoaded", function () {
    if (document.doctype) audit();
  });

  var OPTIONS = { resultTypes: ["violations"], iframes: false, preload: false };
  var running = false;
  var again = false; // asked for during a run: the page changed, check it once more

  function serious(violation) {
    return violation.impact === "critical" || violation.impact === "serious";
  }

  function finding(violation) {
    return {
      rule: violation.id,
      impact: violation.impact,
      help: violation.help,
      helpUrl: violation.helpUrl,
      targets: violation.nodes.map(function (node) {
        return { target: node.target.join(" "), html: node.html, summary: node.failureSummary };
      }),
    };
  }

  function audit() {
    if (running) {
      again = true;
      return;
    }
    // A region waiting for its answer is dimmed on purpose: check it once the answer is in
    // (htmx:afterRequest asks again).
    if (document.querySelector(".htmx-request")) return;
    // A fading transition would be measured half-way: show every element's end state now.
    document.getAnimations().forEach(function (animation) {
      animation.finish();
    });
    running = true;
    var url = location.href;
    window.axe
      .run(document, OPTIONS)
      .then(
        function (results) {
          window.__axeReport({ url: url, violations: results.violations.filter(serious).map(finding) });
        },
        function (error) {
          window.__axeReport({ url: url, error: String((error && error.stack) || error) });
        }
      )
      .then(function () {
        running = false;
        if (again) {
          again = false;
          audit();
        }
      });
  }

  // One swap settles several regions (out-of-band ones too), each with its own event, in one
  // task: check once, after the last of them.
  var asked = false;
  function soon() {
    if (asked) return;
    asked = true;
    queueMicrotask(function () {
      asked = false;
      audit();
    });
  }
  document.addEventListener("htmx:afterSettle", soon);
  document.addEventListener("htmx:afterRequest", soon);
})();
