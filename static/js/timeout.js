/* SEND Professional Portal: the timeout warning (WCAG 2.2.1 Timing
   Adjustable), after the GOV.UK timeout warning pattern.

   A little before the idle time-out ends, a modal dialog says so and offers
   "Stay signed in" (a POST that signs the session again) or "Sign out".
   If the time runs out on a SEND form page, the form is sent as a draft
   first, so nothing typed is lost; elsewhere we sign the person out and the
   sign-in page brings them back. Configured by the dialog's data attributes
   (templates/components/timeout_dialog.html); htmx responses say how long
   the session has left (X-Session-Seconds). Without this file the forms say
   the time-out in words, and answers sent late are kept on the server. */
(function () {
  'use strict';
  var settings = document.getElementById('timeout-settings');
  if (!settings || !window.fetch || !window.HTMLDialogElement) { return; }
  var config = settings.dataset;

  // Built here, not in the page: a closed <dialog> in the HTML would be shown
  // as text by browsers that cannot open it (Lynx, w3m).
  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text) { node.textContent = text; }
    return node;
  }
  var dialog = element('dialog', {
    id: 'timeout-dialog', 'class': 'app-timeout-dialog', 'aria-modal': 'true',
    'aria-labelledby': 'timeout-dialog-title', 'aria-describedby': 'timeout-dialog-message'
  });
  var heading = element('h2', { 'class': 'govuk-heading-m', id: 'timeout-dialog-title', tabindex: '-1' }, 'You’ll be signed out soon');
  var message = element('p', { 'class': 'govuk-body', id: 'timeout-dialog-message' }, 'We will sign you out in ');
  var countdown = element('strong', { 'data-timeout-countdown': '' });
  var savesNote = element('span', {}, ' We will save your answers on this page as a draft first.');
  message.appendChild(countdown);
  message.appendChild(document.createTextNode(' to protect the information about the children and young people you work with.'));
  message.appendChild(savesNote);
  // Said by screen readers every 15 seconds at most, not every second.
  var announcer = element('p', { 'class': 'govuk-visually-hidden', 'aria-live': 'polite', 'aria-atomic': 'true' });
  // Said (and shown) when "Stay signed in" cannot work on this page any more.
  // In the page from the start, empty, so that screen readers hear it change.
  var notice = element('p', { 'class': 'govuk-!-font-weight-bold', id: 'timeout-dialog-notice', 'aria-live': 'assertive', 'aria-atomic': 'true' });
  var buttons = element('div', { 'class': 'govuk-button-group' });
  var stay = element('button', { type: 'button', 'class': 'govuk-button' }, 'Stay signed in');
  var signOut = element('a', { 'class': 'govuk-link', href: config.signOutUrl, 'hx-post': config.signOutUrl }, 'Sign out');
  buttons.appendChild(stay);
  buttons.appendChild(signOut);
  [heading, message, notice, announcer, buttons].forEach(function (part) { dialog.appendChild(part); });
  document.body.appendChild(dialog);
  if (window.htmx) { window.htmx.process(dialog); }

  var warnMs = Number(config.warningSeconds) * 1000;
  var saveMs = Number(config.saveSeconds) * 1000;
  // Tabs of one session share when it ends: a page used in one keeps the others open.
  var STORE = 'sendPortal.sessionEndsAt';
  var endsAt = Date.now() + Number(config.secondsLeft) * 1000;
  var returnFocus = null;
  var spokenStep = null;
  var finishing = false;
  var asking = false;

  function remember(end) {
    endsAt = end;
    try { window.localStorage.setItem(STORE, String(end)); } catch (e) { /* private mode: this tab only */ }
  }
  remember(endsAt);

  window.addEventListener('storage', function (event) {
    if (event.key === STORE && Number(event.newValue) > endsAt) {
      endsAt = Number(event.newValue);
      tick();
    }
  });

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken'] || ''; } catch (e) { return ''; }
  }

  function here() { return window.location.pathname + window.location.search; }

  function signInAddress() { return config.signInUrl + '?next=' + encodeURIComponent(here()); }

  // The sign-in address a response sends us to, keeping where the person was:
  // next= this page, unless the address already says where to come back to.
  function withNext(address) {
    var url;
    try { url = new URL(address, window.location.href); } catch (e) { return signInAddress(); }
    if (!url.searchParams.has('next')) { url.searchParams.set('next', here()); }
    return url.origin === window.location.origin ? url.pathname + url.search + url.hash : url.href;
  }

  // The page's Save as draft button, if it is a SEND form page.
  function draftButton() {
    var button = document.querySelector('form [data-timeout-save]');
    return button && button.form ? button : null;
  }

  function words(ms) {
    var seconds = Math.max(0, Math.ceil(ms / 1000));
    if (seconds >= 60) {
      var minutes = Math.ceil(seconds / 60);
      return minutes + (minutes === 1 ? ' minute' : ' minutes');
    }
    return seconds + (seconds === 1 ? ' second' : ' seconds');
  }

  function post(url, body) {
    return window.fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      // HX-Request: an ended session answers 401 with HX-Redirect, not a page.
      headers: { 'X-CSRFToken': csrfToken(), 'HX-Request': 'true', 'HX-Current-URL': window.location.href },
      body: body || null
    });
  }

  // The visible countdown changes every second; screen readers hear it each
  // minute, then every 15 seconds in the last minute (a polite live region).
  function show(left, opening) {
    countdown.textContent = words(left);
    var seconds = Math.ceil(left / 1000);
    var step = seconds > 60 ? 'm' + Math.ceil(seconds / 60) : 's' + Math.ceil(seconds / 15);
    if (step !== spokenStep) {
      spokenStep = step;
      // On opening, the dialog's description says it.
      if (!opening) { announcer.textContent = 'We will sign you out in ' + words(left) + '.'; }
    }
  }

  function open(left) {
    returnFocus = document.activeElement;
    savesNote.hidden = !draftButton();
    announcer.textContent = '';
    show(left, true);
    dialog.showModal();
    heading.focus();
  }

  function close() {
    if (!dialog.open) { return; }
    dialog.close();
    spokenStep = null;
    announcer.textContent = '';
    notice.textContent = '';
    notice.className = 'govuk-!-font-weight-bold';
    if (returnFocus && returnFocus.focus && document.contains(returnFocus) && returnFocus !== document.body) {
      returnFocus.focus();
    }
    returnFocus = null;
  }

  function extendedBy(response) {
    var seconds = response.headers.get('X-Session-Seconds');
    if (seconds === null || seconds === '' || isNaN(Number(seconds))) { return false; }
    remember(Date.now() + Number(seconds) * 1000);
    return true;
  }

  function staySignedIn() {
    if (asking) { return; }
    asking = true;
    post(config.keepAliveUrl).then(function (response) {
      asking = false;
      var signInAgain = response.headers.get('HX-Redirect');
      if (signInAgain) { window.location.assign(withNext(signInAgain)); return; }
      if (response.status === 400 && response.headers.get('HX-Refresh') === 'true') { signedInElsewhere(); return; }
      if (response.ok && extendedBy(response)) { close(); }
    }).catch(function () { asking = false; });
  }

  // The page's CSRF token is stale: the person signed in again in another
  // tab. A reload gets a fresh one, but would lose what a SEND form holds.
  function signedInElsewhere() {
    if (!draftButton()) { window.location.reload(); return; }
    notice.className = 'govuk-body govuk-!-font-weight-bold';
    notice.textContent = 'You signed in again in another tab. Copy anything you have typed, then reload this page.';
  }

  // The time is up (or nearly): keep what was typed, then sign out.
  function finish(left) {
    finishing = true;
    var button = draftButton();
    if (button) {
      if (left > 0) {
        var flag = document.createElement('input');
        flag.type = 'hidden';
        flag.name = 'timed_out';
        flag.value = '1';
        button.form.appendChild(flag);
      }
      // A real POST of the form as a draft. Sent after the session ended
      // (a computer woken from sleep), the server keeps it for this person.
      if (button.form.requestSubmit) { button.form.requestSubmit(button); } else { button.click(); }
      return;
    }
    if (left <= 0) { window.location.assign(signInAddress()); return; }
    var body = new URLSearchParams();
    body.set('next', here());
    post(config.timedOutUrl, body).then(function (response) {
      var signInAgain = response.headers.get('HX-Redirect');
      if (signInAgain) { window.location.assign(withNext(signInAgain)); return; }
      if (response.ok && extendedBy(response)) { finishing = false; tick(); return; } // used in another tab
      window.location.assign(signInAddress());
    }).catch(function () { window.location.assign(signInAddress()); });
  }

  function tick() {
    if (finishing) { return; }
    var left = endsAt - Date.now();
    if (left <= saveMs) { finish(left); return; }
    if (left <= warnMs) {
      if (!dialog.open) { open(left); } else { show(left, false); }
    } else {
      close();
    }
  }

  stay.addEventListener('click', staySignedIn);
  // Escape means stay signed in, and never just closes the warning.
  dialog.addEventListener('cancel', function (event) {
    event.preventDefault();
    staySignedIn();
  });
  // Keep Tab and Shift+Tab inside the dialog while it is open.
  dialog.addEventListener('keydown', function (event) {
    if (event.key !== 'Tab') { return; }
    var active = document.activeElement;
    if (event.shiftKey && (active === stay || active === heading || active === dialog)) {
      event.preventDefault();
      signOut.focus();
    } else if (!event.shiftKey && active === signOut) {
      event.preventDefault();
      stay.focus();
    }
  });

  // Any htmx request (a filter keystroke, a saved draft) says how long is left.
  document.addEventListener('htmx:afterRequest', function (event) {
    var xhr = event.detail && event.detail.xhr;
    var seconds = xhr && xhr.getResponseHeader('X-Session-Seconds');
    if (seconds !== null && seconds !== undefined && seconds !== '' && !isNaN(Number(seconds))) {
      remember(Date.now() + Number(seconds) * 1000);
      tick();
    }
  });

  window.setInterval(tick, 1000);
  tick();
})();
