// On every page: the service worker (static files and the offline page only),
// the "add to home screen" hint on phones, and the push notification switches
// (preferences page, case page). Without JavaScript none of this shows.
(function () {
  'use strict';

  var store = {
    get: function (key) {
      try { return window.localStorage.getItem(key); } catch (e) { return null; }
    },
    set: function (key, value) {
      try { window.localStorage.setItem(key, value); } catch (e) { /* private mode: ask again next time */ }
    },
  };

  var worker = 'serviceWorker' in navigator;
  if (worker) {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(function () { /* the portal works without it */ });
  }

  // --- "Add to home screen" (phones, not yet installed, not dismissed) -------
  var hint = document.getElementById('install-hint');
  var standalone = window.matchMedia('(display-mode: standalone)').matches || window.navigator.standalone === true;
  var phone = window.matchMedia('(max-width: 40em)').matches;
  if (hint && phone && !standalone && store.get('matterline-install-hint') !== 'dismissed') {
    var add = hint.querySelector('.install-hint-add');
    var dismiss = function () {
      hint.hidden = true;
      store.set('matterline-install-hint', 'dismissed');
    };
    hint.querySelector('.install-hint-dismiss').addEventListener('click', dismiss);
    window.addEventListener('beforeinstallprompt', function (event) {
      event.preventDefault();
      add.hidden = false;
      hint.hidden = false;
      add.onclick = function () {
        hint.hidden = true;
        event.prompt();
        event.userChoice.then(dismiss, dismiss);
      };
    });
    window.addEventListener('appinstalled', dismiss);
    // Safari on iPhone has no install prompt: say where the menu item is.
    if (/iPhone|iPad|iPod/.test(navigator.userAgent) && !('onbeforeinstallprompt' in window)) {
      hint.querySelector('.install-hint-ios').hidden = false;
      hint.hidden = false;
    }
  }

  // --- Push notifications ---------------------------------------------------
  var controls = document.querySelectorAll('[data-push-control]');
  var supported = worker && 'PushManager' in window && 'Notification' in window;
  if (!controls.length || !supported) return;
  document.querySelectorAll('[data-push-unsupported]').forEach(function (el) { el.hidden = true; });

  function keyBytes(base64url) {
    var text = window.atob(base64url.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((base64url.length + 3) % 4));
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }

  function json(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      if (!response.ok) throw new Error(method + ' ' + url + ': ' + response.status);
      return response.status === 204 ? null : response.json();
    });
  }

  function current() {
    return navigator.serviceWorker.ready.then(function (registration) {
      return registration.pushManager.getSubscription();
    });
  }

  function turnOn() {
    return Notification.requestPermission().then(function (permission) {
      if (permission !== 'granted') throw new Error('denied');
      return Promise.all([json('GET', '/api/v1/push/key'), navigator.serviceWorker.ready]);
    }).then(function (both) {
      return both[1].pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(both[0].public_key) });
    }).then(function (subscription) {
      return json('POST', '/api/v1/push/subscriptions', subscription.toJSON());
    });
  }

  function turnOff() {
    return current().then(function (subscription) {
      if (!subscription) return null;
      return json('DELETE', '/api/v1/push/subscriptions', { endpoint: subscription.endpoint }).then(function () {
        return subscription.unsubscribe();
      });
    });
  }

  controls.forEach(function (control) {
    var status = control.querySelector('[data-push-status]');
    var on = control.querySelector('[data-push-on]');
    var off = control.querySelector('[data-push-off]');
    var prompt = control.hasAttribute('data-push-prompt');
    var later = control.querySelector('[data-push-later]');

    function show(state) {
      if (prompt) {
        // The case page's prompt: only while nothing was decided on this device.
        control.hidden = state !== 'off' || store.get('matterline-push-prompt') === 'dismissed';
        return;
      }
      control.hidden = false;
      if (status) status.textContent = status.getAttribute('data-' + state) || '';
      if (on) on.hidden = state === 'on' || state === 'denied';
      if (off) off.hidden = state !== 'on';
    }

    function refresh() {
      if (Notification.permission === 'denied') return Promise.resolve(show('denied'));
      return current().then(function (subscription) {
        show(subscription && Notification.permission === 'granted' ? 'on' : 'off');
      }, function () { show('off'); });
    }

    if (on) {
      on.addEventListener('click', function () {
        on.disabled = true;
        turnOn().then(function () {
          if (prompt) control.hidden = true;
          return refresh();
        }).catch(function (error) {
          if (prompt) { control.hidden = true; return null; }
          return refresh().then(function () {
            if (error.message !== 'denied' && status) status.textContent = status.getAttribute('data-failed');
          });
        }).then(function () { on.disabled = false; });
      });
    }
    if (off) {
      off.addEventListener('click', function () {
        off.disabled = true;
        turnOff().catch(function () { return null; }).then(refresh).then(function () { off.disabled = false; });
      });
    }
    if (later) {
      later.addEventListener('click', function () {
        store.set('matterline-push-prompt', 'dismissed');
        control.hidden = true;
      });
    }
    refresh();
  });
})();
