// Matterline's service worker. It keeps ONLY static files (the stylesheet, the
// script, the icons) and the offline page, which the portal renders as for
// nobody signed in. Pages and API answers always come from the network and
// are never stored: a shared or lost phone keeps nothing of a client's case.
'use strict';

const CACHE = 'matterline-static-v1';
const KEEP = ['/offline', '/static/app.css', '/static/app.js', '/static/favicon.svg', '/static/icon-192.png'];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(KEEP.map((path) => new Request(path, { credentials: 'omit' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    // A page: from the network only; the offline page when there is none.
    event.respondWith(fetch(request).catch(() => caches.match('/offline')));
    return;
  }
  if (url.pathname.startsWith('/static/')) {
    // A static file: fresh when the network answers (kept for later), else the kept copy.
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
          }
          return response;
        })
        .catch(() => caches.match(url.pathname).then((kept) => kept || Response.error())),
    );
  }
});

// A push: a title, a short text and the page to open (no case details beyond the step's name).
self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = {};
  }
  const title = data.title || 'Matterline';
  event.waitUntil(
    self.registration.showNotification(title, {
      body: data.body || '',
      icon: '/static/icon-192.png',
      badge: '/static/icon-192.png',
      data: { url: data.url || '/' },
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  let target = new URL('/', self.location.origin);
  try {
    const asked = new URL((event.notification.data && event.notification.data.url) || '/', self.location.origin);
    // Only a page of this portal.
    if (asked.origin === self.location.origin) target = asked;
  } catch (e) {
    // keep the start page
  }
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      for (const win of windows) {
        if (win.url === target.href && 'focus' in win) return win.focus();
      }
      return self.clients.openWindow(target.href);
    }),
  );
});
