// Tell people when an htmx request fails instead of leaving the page silently unchanged.
// The texts come translated from the page (data-msg-* on <body>, templates/base.html),
// with these English ones as the fallback.
function pageMessage(name, fallback) {
  var text = document.body && document.body.getAttribute("data-msg-" + name);
  return text || fallback;
}
document.addEventListener("htmx:responseError", function (event) {
  var text = pageMessage(
    "server-error",
    "The server could not complete that request ({status}). Reload the page and try again."
  );
  showProblem(text.replace("{status}", String(event.detail.xhr.status)));
});
document.addEventListener("htmx:sendError", function () {
  showProblem(pageMessage("unreachable", "The portal could not be reached. Check your connection and try again."));
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
// A region with a form the person is filling in, or with errors they are reading, is left
// alone, so no typed text or message is lost; submitting it answers with the region anyway.
// A region whose form is on its way is not fetched either: forms inherit the region's
// hx-sync, so the fetch would abort the form's request and its answer would never show.
// It fetches itself once that answer is in the page, unless the answer is one to read.
var changedWhileLoading = {};
var changedWhileSending = {};
document.addEventListener("case-changed", function (event) {
  var answered = event.detail && event.detail.region;
  document.querySelectorAll("[data-case-region]").forEach(function (region) {
    if (region.id === answered) return;
    if (sending(region)) {
      changedWhileSending[region.id] = true;
    } else if (notYetHeard(region)) {
      changedWhileLoading[region.id] = true;
    } else if (!beingEdited(region)) {
      htmx.trigger(region, "case-region-stale");
    }
  });
  // The person's own change: the poller only renews its token, the page being fresh already.
  if (!(event.detail && event.detail.live)) askQuietly(document.getElementById("case-live"));
  document.querySelectorAll(".lazy-panel[id]").forEach(function (panel) {
    changedWhileLoading[panel.id] = true;
  });
});
// htmx listens on swapped-in content only once it has settled (htmx:load, which also takes
// away the htmx-added class): a region just swapped in would not hear the event yet.
function notYetHeard(region) {
  return region.classList.contains("htmx-added");
}
document.addEventListener("htmx:load", function (event) {
  var panel = event.detail && event.detail.elt;
  if (panel && panel.id && changedWhileLoading[panel.id] && panel.hasAttribute("data-case-region")) {
    delete changedWhileLoading[panel.id];
    if (!beingEdited(panel)) htmx.trigger(panel, "case-region-stale");
  }
});

// A region's own refresh that comes back after the person began filling it in, or while it
// shows errors, is set aside: their choices and the message outweigh a fresher copy, which
// submitting the form brings anyway.
document.addEventListener("htmx:beforeSwap", function (event) {
  var asked = event.detail.requestConfig;
  var region = asked && asked.elt; // who asked: detail.elt is the target
  if (!region || region !== event.detail.target || !region.hasAttribute("data-case-region")) return;
  if (beingEdited(region)) event.detail.shouldSwap = false;
});

// Something inside the region (a form, a link) has its request on its way: htmx marks the
// element that asked until the answer is handled.
function sending(region) {
  return region.querySelector(".htmx-request") !== null;
}
document.addEventListener("htmx:afterRequest", function () {
  Object.keys(changedWhileSending).forEach(function (id) {
    var region = document.getElementById(id);
    if (region && sending(region)) return;
    delete changedWhileSending[id];
    if (!region) return;
    if (notYetHeard(region)) {
      changedWhileLoading[id] = true;
    } else if (!beingEdited(region)) {
      htmx.trigger(region, "case-region-stale");
    }
  });
});

function beingEdited(region) {
  if (region.querySelector(".field-invalid, .field-error, .error-summary, .notice-error")) return true;
  var fields = region.querySelectorAll("input, textarea, select");
  for (var i = 0; i < fields.length; i++) {
    var field = fields[i];
    if (field.type === "hidden" || field.type === "submit" || field.type === "button") continue;
    if (field === document.activeElement) return true;
    if (field.type === "checkbox" || field.type === "radio") {
      if (field.checked !== field.defaultChecked) return true;
    } else if (field.tagName === "SELECT") {
      for (var j = 0; j < field.options.length; j++) {
        if (field.options[j].selected !== field.options[j].defaultSelected) return true;
      }
    } else if (field.value !== field.defaultValue) {
      return true;
    }
  }
  return false;
}

// Live pages (diagnosis/cases/live.py): elements marked data-live-poll ask every few seconds
// whether anything changed. A hidden tab does not ask; it asks at once when shown again.
document.addEventListener("htmx:confirm", function (event) {
  if (document.hidden && event.target.hasAttribute("data-live-poll")) event.preventDefault();
});
document.addEventListener("visibilitychange", function () {
  if (document.hidden) return;
  document.querySelectorAll("[data-live-poll]").forEach(function (poller) {
    htmx.trigger(poller, "live-check");
  });
});

function askQuietly(poller) {
  var quiet = document.getElementById("case-live-quiet");
  if (!poller || !quiet || !poller.hasAttribute("data-live-poll")) return;
  quiet.value = "1";
  htmx.trigger(poller, "live-check");
}
// A quiet ask is for one request only: once it is answered (even with nothing to swap), the
// next asks are ordinary again. An ask already on its way when it was set leaves it set.
document.addEventListener("htmx:afterRequest", function (event) {
  var quiet = document.getElementById("case-live-quiet");
  var path = event.detail.pathInfo && event.detail.pathInfo.finalRequestPath;
  if (quiet && event.detail.elt && event.detail.elt.id === "case-live" && path && path.indexOf("quiet=1") !== -1) {
    quiet.value = "";
  }
});

// Send Details import: a new upload clears the previous import's result and errors at once,
// before the file is sent (the form's data-clears names what to empty).
document.addEventListener("htmx:beforeRequest", function (event) {
  var form = event.detail && event.detail.elt;
  if (!form || !form.hasAttribute || !form.hasAttribute("data-clears")) return;
  document.querySelectorAll(form.getAttribute("data-clears")).forEach(function (region) {
    region.innerHTML = "";
  });
  form.querySelectorAll(".field-error, .error-summary").forEach(function (error) {
    error.remove();
  });
});

// Customer pages -------------------------------------------------------------------

// Ticket form: the time zone the customer most likely means is their browser's. Only a
// fresh form carries data-browser-zone; one that comes back keeps what was sent.
function useBrowserZone() {
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  if (!zone) return;
  document.querySelectorAll("select[data-browser-zone]").forEach(function (select) {
    var offered = Array.prototype.some.call(select.options, function (option) {
      return option.value === zone;
    });
    if (offered) select.value = zone;
    select.removeAttribute("data-browser-zone");
  });
}
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", useBrowserZone);
} else {
  useBrowserZone();
}

// Forms marked data-submit-once send once: a double click does not post the message twice
// (the server also ignores a repeat of the same form).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-submit-once")) return;
  if (form.dataset.submitted) {
    event.preventDefault();
    return;
  }
  form.dataset.submitted = "1";
  form.querySelectorAll("button[type=submit]").forEach(function (button) {
    button.setAttribute("aria-disabled", "true");
  });
});
// A page restored by the back button may be sent again.
window.addEventListener("pageshow", function (event) {
  if (!event.persisted) return;
  document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
    delete form.dataset.submitted;
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.removeAttribute("aria-disabled");
    });
  });
});

// A refusal with a reason (429: too many answers) is shown in regions that ask for it,
// instead of the generic error above.
document.addEventListener("htmx:beforeSwap", function (event) {
  var target = event.detail.target;
  if (event.detail.xhr.status === 429 && target && target.hasAttribute("data-swap-refusal")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
