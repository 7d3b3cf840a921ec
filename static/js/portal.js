// Tell people when an htmx request fails instead of leaving the page silently unchanged.
document.addEventListener("htmx:responseError", function (event) {
  showProblem("The server could not complete that request (" + event.detail.xhr.status + "). Reload the page and try again.");
});
document.addEventListener("htmx:sendError", function () {
  showProblem("The portal could not be reached. Check your connection and try again.");
});

function showProblem(text) {
  var box = document.getElementById("messages");
  if (!box) return;
  box.innerHTML = "";
  // The alert role goes on a wrapper: on the list itself it would hide the list's items.
  var alert = document.createElement("div");
  alert.setAttribute("role", "alert");
  var list = document.createElement("ul");
  list.className = "messages";
  var item = document.createElement("li");
  item.className = "message message-error";
  item.textContent = text;
  list.appendChild(item);
  alert.appendChild(list);
  box.appendChild(alert);
}

// Case page: after a change, every region other than the one that answered fetches itself
// again (templates/diagnosis/partials/region.html). This replaces an hx-trigger filter,
// which htmx would have to evaluate as code.
// A panel still loading (partials/lazy_panel.html) may have been read before the change:
// it fetches itself once more as soon as it is in the page.
var changedWhileLoading = {};
document.addEventListener("case-changed", function (event) {
  var answered = event.detail && event.detail.region;
  document.querySelectorAll("[data-case-region]").forEach(function (region) {
    if (region.id !== answered) htmx.trigger(region, "case-region-stale");
  });
  document.querySelectorAll(".lazy-panel[id]").forEach(function (panel) {
    changedWhileLoading[panel.id] = true;
  });
});
document.addEventListener("htmx:load", function (event) {
  var panel = event.detail && event.detail.elt;
  if (panel && panel.id && changedWhileLoading[panel.id] && panel.hasAttribute("data-case-region")) {
    delete changedWhileLoading[panel.id];
    htmx.trigger(panel, "case-region-stale");
  }
});
