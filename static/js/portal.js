/* SEND Professional Portal: small enhancements on top of htmx. Every page
   works without this file. */
(function () {
  'use strict';
  document.documentElement.classList.add('js-enabled', 'govuk-frontend-supported');
  document.body && document.body.classList.add('js-enabled', 'govuk-frontend-supported');

  // Select all: made here, so that only browsers that run this script show
  // it (text browsers ignore `hidden`, so it is not in the markup at all).
  // It selects the rows on this page. Its cell is a <td>, so its name is read
  // once, not as the heading of every row.
  function setUpSelectAll(root) {
    var cells = (root || document).querySelectorAll('[data-select-all]');
    Array.prototype.forEach.call(cells, function (cell) {
      var form = cell.closest('form');
      if (!form || cell.querySelector('#select-all')) { return; }
      var wrapper = document.createElement('div');
      wrapper.className = 'govuk-checkboxes govuk-checkboxes--small app-select-all';
      var item = document.createElement('div');
      item.className = 'govuk-checkboxes__item';
      var toggle = document.createElement('input');
      toggle.className = 'govuk-checkboxes__input';
      toggle.id = 'select-all';
      toggle.type = 'checkbox';
      var label = document.createElement('label');
      label.className = 'govuk-label govuk-checkboxes__label';
      label.htmlFor = 'select-all';
      var name = document.createElement('span');
      name.className = 'govuk-visually-hidden';
      name.textContent = 'Select all';
      label.appendChild(name);
      item.appendChild(toggle);
      item.appendChild(label);
      wrapper.appendChild(item);
      while (cell.firstChild) { cell.removeChild(cell.firstChild); }
      cell.appendChild(wrapper);

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

  // "Amelia Jones, Oliver Brown and 3 others": up to five names, then a count.
  // A name shared by two of the people chosen is told apart by the date of birth.
  var NAMES_SHOWN = 5;
  function listPeople(people) {
    var counts = {};
    people.forEach(function (p) { counts[p.name] = (counts[p.name] || 0) + 1; });
    var names = people.slice(0, NAMES_SHOWN).map(function (p) {
      return counts[p.name] > 1 && p.born ? p.name + ' (born ' + p.born + ')' : p.name;
    });
    var others = people.length - names.length;
    if (others > 0) {
      return names.join(', ') + ' and ' + others + (others === 1 ? ' other' : ' others');
    }
    if (names.length === 1) { return names[0]; }
    return names.slice(0, -1).join(', ') + ' and ' + names[names.length - 1];
  }

  function chosenPeople(form) {
    var boxes = form.querySelectorAll('input[name=person_id]:checked');
    return Array.prototype.map.call(boxes, function (box) {
      var row = box.closest('tr');
      var heading = row && row.querySelector('th');
      var born = row && row.cells[2];
      return {
        name: heading ? heading.textContent.replace(/\s+/g, ' ').trim() : box.value,
        born: born ? born.textContent.trim() : ''
      };
    });
  }

  // Hide and Delete ask who and how many ("Hide 2 people: Amelia Jones and
  // Grace O'Brien?"); hx-confirm is static text, so the question is made here
  // from the button's data-confirm-question. With nobody selected there is
  // nothing to confirm: the request goes and the server's error answers it.
  document.addEventListener('htmx:confirm', function (event) {
    var elt = event.detail && event.detail.elt;
    var question = elt && elt.getAttribute && elt.getAttribute('data-confirm-question');
    if (!question || !elt.form) { return; }
    event.preventDefault();
    var people = chosenPeople(elt.form);
    if (!people.length) {
      event.detail.issueRequest(true);
      return;
    }
    var count = people.length === 1 ? '1 person' : people.length.toLocaleString('en-GB') + ' people';
    if (window.confirm(question.replace('{people}', count + ': ' + listPeople(people)))) {
      event.detail.issueRequest(true);
    }
  });

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

  // A message shown on load (a success banner, an error summary) carries
  // autofocus; where a browser did not act on it, focus it here.
  function focusOnLoad() {
    var target = document.querySelector('[autofocus][tabindex="-1"]');
    if (target && (document.activeElement === document.body || !document.activeElement)) {
      target.focus();
    }
  }

  function ready() {
    setUpSelectAll(document);
    focusOnLoad();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', ready);
  } else {
    ready();
  }
})();
