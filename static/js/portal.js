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
  var list = document.createElement("ul");
  list.className = "messages";
  list.setAttribute("role", "alert");
  var item = document.createElement("li");
  item.className = "message message-error";
  item.textContent = text;
  list.appendChild(item);
  box.appendChild(list);
}

// Case page: after a change, every region other than the one that answered fetches itself
// again (templates/diagnosis/partials/region.html). This replaces an hx-trigger filter,
// which htmx would have to evaluate as code.
document.addEventListener("case-changed", function (event) {
  var answered = event.detail && event.detail.region;
  document.querySelectorAll("[data-case-region]").forEach(function (region) {
    if (region.id !== answered) htmx.trigger(region, "case-region-stale");
  });
});
