/* Partner Center console behaviour. All script lives here: the Content-Security-Policy allows no
 * inline script and no inline event handlers (nor eval, so htmx's event filters are off too).
 *
 * htmx (static/vendor/htmx) does the requests, and the page says declaratively who refreshes on
 * which server event: the pool figures on `creditAllocated` (templates/credits/pool_figures.html),
 * a customer's row on its own `customerUpdated-<uin>` (templates/customers/_customer_row.html).
 *
 * What is left here is what htmx cannot do:
 * - the modal convention (console/htmx.py): showModal(), focus on the first invalid field, Tab kept
 *   inside, Escape and [data-close-modal] and the `closeModal` event close it, focus goes back to
 *   the control that opened it (also after its row was replaced);
 * - the modal's tabs (arrow keys, aria-selected), the row menus (one open at a time, Escape and
 *   outside clicks close them, floating above the scrolling table);
 * - toasts for `showMessage` and for failed requests;
 * - "select all on this page" for a table's bulk action (Message Center);
 * - the filter form set from the address when htmx saves or restores a page (Back, Forward);
 * - the menu button that opens the sidebar on a phone (Escape and outside clicks close it). */
(function () {
  "use strict";

  var FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), ' +
    'select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
  var opener = null;

  function modalRoot() { return document.getElementById("modal"); }

  function visibleFocusables(container) {
    return Array.prototype.filter.call(container.querySelectorAll(FOCUSABLE), function (el) {
      return !el.closest("[hidden]") && el.getClientRects().length > 0;
    });
  }

  // ---- modal -------------------------------------------------------------------------------
  function openModal(dialog) {
    if (!dialog.open) { dialog.showModal(); }
    // The first invalid field, else the control marked data-autofocus (a confirmation step's
    // button), else the first field of the visible form, else the first control.
    var items = visibleFocusables(dialog);
    var target = dialog.querySelector('[aria-invalid="true"]') || dialog.querySelector("[data-autofocus]") ||
      items.filter(function (el) { return el.closest("form") && el.matches("input, select, textarea"); })[0] ||
      items[0];
    if (target) { target.focus(); }
  }

  function closeModal() {
    var root = modalRoot();
    if (!root) { return; }
    var dialog = root.querySelector("dialog");
    if (dialog && dialog.open) { dialog.close(); }
    root.replaceChildren();
    if (opener && document.body.contains(opener)) { opener.focus(); }
    opener = null;
  }

  function inModal(el) { var root = modalRoot(); return root && root.contains(el); }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    var root = modalRoot();
    if (root && target === root && !inModal(event.detail.elt)) {
      opener = event.detail.elt.closest("details") ? event.detail.elt.closest("details").querySelector("summary") : event.detail.elt;
      var menu = event.detail.elt.closest("details[data-menu]");
      if (menu) { menu.open = false; }
    }
  });

  // Open (and focus) the dialog only once htmx has settled the new content: htmx wires up the
  // fragment's hx-post form in its settle step, so focusing earlier lets a quick Enter submit the
  // form natively instead of through htmx.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target === modalRoot()) {
      var dialog = modalRoot().querySelector("dialog.modal");
      if (dialog) { openModal(dialog); }
    }
  });

  // Escape on a modal dialog: the browser fires "cancel"; close through closeModal so the
  // fragment goes away and focus returns to the button that opened it.
  document.addEventListener("cancel", function (event) {
    if (event.target.matches && event.target.matches("dialog.modal") && inModal(event.target)) {
      event.preventDefault();
      closeModal();
    }
  }, true);

  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-modal]");
    if (closer && inModal(closer)) {
      event.preventDefault();
      closeModal();
    }
  });

  // Tab and Shift+Tab wrap inside the open dialog.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Tab") { return; }
    var root = modalRoot();
    var dialog = root && root.querySelector("dialog[open]");
    if (!dialog) { return; }
    var items = visibleFocusables(dialog);
    if (!items.length) { return; }
    var first = items[0], last = items[items.length - 1];
    if (!dialog.contains(document.activeElement)) {
      event.preventDefault(); first.focus();
    } else if (event.shiftKey && document.activeElement === first) {
      event.preventDefault(); last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault(); first.focus();
    }
  });

  // ---- tabs (the modal's Allocate Credit / Allocation Record) -------------------------------
  function selectTab(tab) {
    var list = tab.closest('[role="tablist"]');
    list.querySelectorAll('[role="tab"]').forEach(function (other) {
      var selected = other === tab;
      other.setAttribute("aria-selected", selected ? "true" : "false");
      other.tabIndex = selected ? 0 : -1;
      var panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel) { panel.hidden = !selected; }
    });
    tab.focus();
  }

  document.addEventListener("click", function (event) {
    var tab = event.target.closest('[role="tab"]');
    if (tab) { selectTab(tab); }
  });

  document.addEventListener("keydown", function (event) {
    var tab = event.target.closest && event.target.closest('[role="tab"]');
    if (!tab || (event.key !== "ArrowRight" && event.key !== "ArrowLeft")) { return; }
    var tabs = Array.prototype.slice.call(tab.closest('[role="tablist"]').querySelectorAll('[role="tab"]'));
    var next = tabs[(tabs.indexOf(tab) + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    event.preventDefault();
    selectTab(next);
  });

  // ---- toasts ------------------------------------------------------------------------------
  function toast(text, level) {
    var box = document.getElementById("toasts");
    if (!box || !text) { return; }
    var item = document.createElement("div");
    item.className = "toast toast-" + (level || "info");
    item.textContent = text;  // text, never HTML
    box.appendChild(item);
    window.setTimeout(function () { item.remove(); }, 4000);
  }

  // ---- events from HX-Trigger headers -----------------------------------------------------
  // The modal gave focus back to a link in the old row; give it to the same link in the new row
  // once htmx has settled it (and so wired up its hx-get), so that Enter on it opens the modal.
  document.addEventListener("htmx:afterSettle", function (event) {
    var fresh = event.target;
    if (!refocusHref || !fresh || fresh.tagName !== "TR") { return; }
    var link = fresh.querySelector('a[href="' + refocusHref + '"]');
    refocusHref = null;
    if (link) { link.focus(); }
  });

  var refocusHref = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var active = document.activeElement;
    if (target && target.tagName === "TR" && active && target.contains(active) && active.getAttribute("href")) {
      refocusHref = active.getAttribute("href");
    }
  });

  document.body.addEventListener("closeModal", function () {
    // After htmx has finished with the request whose form is inside the modal.
    window.setTimeout(closeModal, 0);
  });
  document.body.addEventListener("showMessage", function (event) {
    toast(event.detail && event.detail.text, event.detail && event.detail.level);
  });

  document.body.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    toast(status === 403 ? "Your role cannot make this change." :
      status === 404 ? "Not found: it may belong to another account." :
      "Something went wrong (" + status + "). Please try again.", "error");
  });
  document.body.addEventListener("htmx:sendError", function () {
    toast("The server could not be reached. Check your connection and try again.", "error");
  });

  // ---- history: the filter form agrees with the address it is saved under -----------------
  // htmx saves the page for the address being left just before it pushes the new one; by then the
  // search box already holds what was typed for the new address. So the snapshot gets the form as
  // the address being left says: a field it does not name is empty, as the server renders it
  // (no filter has a default).
  function filterFields() {
    return document.querySelectorAll("form.toolbar input[name]:not([type=hidden]), form.toolbar select[name]");
  }

  function formAsAddressSays(live) {
    var params = new URLSearchParams(window.location.search);
    filterFields().forEach(function (field) {
      var value = params.has(field.name) ? params.get(field.name) : "";
      if (field.tagName === "SELECT") {
        Array.prototype.forEach.call(field.options, function (option) {
          if (option.value === value) { option.setAttribute("selected", ""); } else { option.removeAttribute("selected"); }
        });
        if (live) { field.value = value; }
      } else {
        field.setAttribute("value", value);
        if (live) { field.value = value; }
      }
    });
  }
  document.body.addEventListener("htmx:beforeHistorySave", function () {
    formAsAddressSays(false);
    closeModal();
    // Sizes set through the CSSOM would come back as style attributes, which the CSP refuses.
    document.querySelectorAll(".table-wrap[style]").forEach(function (wrap) { wrap.removeAttribute("style"); });
  });
  // Back or Forward: the restored page (from htmx's snapshot or fetched again) is set from the address too.
  document.body.addEventListener("htmx:historyRestore", function () { formAsAddressSays(true); });

  // ---- a table's "select all on this page" ([data-select-all] names the form its rows' boxes belong to)
  document.addEventListener("change", function (event) {
    var all = event.target;
    if (!all.matches || !all.matches("[data-select-all]")) { return; }
    var boxes = document.querySelectorAll('input[type="checkbox"][name][form="' + all.getAttribute("data-select-all") + '"]');
    boxes.forEach(function (box) { box.checked = all.checked; });
  });

  // ---- small menus (<details data-menu>): one open at a time, Escape and outside click close -
  document.addEventListener("toggle", function (event) {
    var menu = event.target;
    if (!menu.matches || !menu.matches("details[data-menu]") || !menu.open) { return; }
    document.querySelectorAll("details[data-menu][open]").forEach(function (other) {
      if (other !== menu) { other.open = false; }
    });
    // A row menu floats above the table, which scrolls sideways and would clip it (CSSOM
    // positioning, which the CSP allows, unlike style attributes).
    var items = menu.querySelector(".menu-items");
    if (menu.classList.contains("more-menu") && items) {
      var anchor = menu.querySelector("summary").getBoundingClientRect();
      items.classList.add("floating");
      items.style.top = (anchor.bottom + 4) + "px";
      items.style.right = (document.documentElement.clientWidth - anchor.right) + "px";
    }
  }, true);
  window.addEventListener("scroll", closeFloatingMenus, true);
  window.addEventListener("resize", closeFloatingMenus);
  function closeFloatingMenus(event) {
    if (event && event.target && event.target.closest && event.target.closest(".menu-items")) { return; }
    document.querySelectorAll("details.more-menu[open]").forEach(function (menu) { menu.open = false; });
  }
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      if (!menu.contains(event.target)) { menu.open = false; }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var menu = event.target.closest && event.target.closest("details[data-menu][open]");
    if (menu) { menu.open = false; menu.querySelector("summary").focus(); }
  });

  // ---- the sidebar on a phone: the menu button in the top bar opens and closes it ------------
  function setNav(open, focusButton) {
    var button = document.querySelector(".nav-toggle");
    if (!button) { return; }
    document.body.classList.toggle("nav-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      var first = document.querySelector("#sidebar a");
      if (first) { first.focus(); }
    } else if (focusButton) {
      button.focus();
    }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".nav-toggle");
    if (button) { setNav(button.getAttribute("aria-expanded") !== "true", false); return; }
    if (document.body.classList.contains("nav-open") && !event.target.closest("#sidebar")) { setNav(false, false); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && document.body.classList.contains("nav-open")) { setNav(false, true); }
  });
  // Back to a page kept in htmx's history: the drawer starts closed.
  document.body.addEventListener("htmx:historyRestore", function () { setNav(false, false); });

  // ---- a table wider than its box: the box ends at the window's bottom, so its scrollbar shows --
  function fitTableBoxes() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      var wide = wrap.scrollWidth > wrap.clientWidth + 1;
      wrap.classList.toggle("scrolls-x", wide);
      if (wide && !wrap.closest("dialog")) {
        var top = wrap.getBoundingClientRect().top + window.scrollY;
        wrap.style.setProperty("--wrap-height", Math.max(320, window.innerHeight - top - 12) + "px");
      }
    });
  }
  fitTableBoxes();
  window.addEventListener("resize", fitTableBoxes);
  document.addEventListener("htmx:afterSettle", fitTableBoxes);
  document.body.addEventListener("htmx:historyRestore", fitTableBoxes);

  // ---- a sort, page or page-size change from below: bring the table's head back into view ----
  // The list is replaced in place; had the page been scrolled down to the pager, the new rows'
  // header would sit above the window, under the top bar. Scroll the region to just below the top
  // bar (its scroll-margin-top), and only when its top is out of view.
  var rearranged = null;  // the id of the table region a sort or page link is replacing
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var region = elt && elt.closest && elt.closest("thead, .pager") && elt.closest(".table-region");
    rearranged = region && region.id ? region.id : null;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var region = event.detail.elt;
    if (!rearranged || !region || region.id !== rearranged) { return; }
    rearranged = null;
    var bar = document.querySelector(".topbar");
    if (region.getBoundingClientRect().top < (bar ? bar.offsetHeight : 0)) {
      region.scrollIntoView({block: "start"});
    }
  });
})();
