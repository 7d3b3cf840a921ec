// Runs in every page before the page's own scripts (tests/browser/test_csp.py): keeps each
// Content-Security-Policy violation the browser reports, for the test to collect.
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push({
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    sample: event.sample,
    source: event.sourceFile + ":" + event.lineNumber,
  });
});
