/* SEND Professional Portal: small enhancements on top of htmx. Every page
   works without this file. */
(function () {
  'use strict';
  document.documentElement.classList.add('js-enabled', 'govuk-frontend-supported');
  document.body && document.body.classList.add('js-enabled', 'govuk-frontend-supported');

  // Select all: shown only where scripts run; selects the rows on this page.
  function setUpSelectAll(root) {
    var boxes = (root || document).querySelectorAll('[data-select-all]');
    Array.prototype.forEach.call(boxes, function (wrapper) {
      var toggle = wrapper.querySelector('input[type=checkbox]');
      var form = wrapper.closest('form');
      if (!toggle || !form || toggle.dataset.ready) { return; }
      toggle.dataset.ready = 'true';
      wrapper.hidden = false;
      var rows = function () { return form.querySelectorAll('input[name=person_id]'); };
      toggle.addEventListener('change', function () {
        Array.prototype.forEach.call(rows(), function (box) { box.checked = toggle.checked; });
      });
      form.addEventListener('change', function (event) {
        if (event.target === toggle) { return; }
        var all = rows();
        var checked = Array.prototype.filter.call(all, function (b) { return b.checked; }).length;
        toggle.checked = checked > 0 && checked === all.length;
        toggle.indeterminate = checked > 0 && checked < all.length;
      });
    });
  }

  // After a swap, focus goes where the triggering control asked for (the
  // results heading or the outcome message), never to <body>.
  document.addEventListener('htmx:afterSettle', function (event) {
    setUpSelectAll(document);
    // A swapped region may carry the title of the page it now shows (a
    // partial cannot hold a <title>), so the tab and history name the view.
    var titled = document.querySelector('[data-page-title]');
    if (titled && titled.getAttribute('data-page-title')) {
      document.title = titled.getAttribute('data-page-title');
    }
    var elt = event.detail && event.detail.requestConfig && event.detail.requestConfig.elt;
    var selector = elt && elt.getAttribute && elt.getAttribute('data-focus-after');
    if (selector) {
      var target = document.querySelector(selector) || document.querySelector('#caseload-heading');
      if (target) { target.focus(); }
    } else if (document.activeElement === document.body || !document.activeElement) {
      var heading = document.querySelector('#caseload-heading') || document.querySelector('h1');
      if (heading) { heading.setAttribute('tabindex', '-1'); heading.focus(); }
    }
  });

  // The filter's result count is said once: an identical count that arrives
  // again (such as "No people found" on every key) does not replace the text.
  document.addEventListener('htmx:oobBeforeSwap', function (event) {
    var incoming = event.detail.fragment; // for innerHTML: the out-of-band element itself
    var target = event.detail.target;
    if (!target || target.id !== 'caseload-status' || !incoming || !incoming.hasAttribute) { return; }
    if (incoming.hasAttribute('data-announce-once') &&
        (incoming.textContent || '').trim() === (target.textContent || '').trim()) {
      event.detail.shouldSwap = false;
    }
  });

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () { setUpSelectAll(document); });
  } else {
    setUpSelectAll(document);
  }
})();
