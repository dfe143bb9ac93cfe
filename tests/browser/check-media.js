#!/usr/bin/env node
// check-media.js: load a local HTML page in Debian's headless Chromium (DevTools protocol over
// a pipe, no npm package, no browser download), wait until every <img> and <audio>/<video> has
// loaded or failed, and print what the page really got as JSON on stdout:
//   {"images": [{"src", "naturalWidth", "naturalHeight"}], "audio": [{"src", "duration", "error"}],
//    "video": [...], "scripts": N, "network": [URLs other than file:], "title", "text_has": {...}}
// A screenshot of the whole page is saved when --screenshot FILE is given.
//
// usage: node check-media.js PAGE.html [--screenshot FILE] [--chromium PATH] [--width N]
//                           [--max-height N] [--contains TEXT]...
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

function parseArgs(argv) {
  const a = { page: null, screenshot: null, chromium: '/usr/bin/chromium', width: 1280, maxHeight: 16000,
    contains: [] };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--screenshot') a.screenshot = argv[++i];
    else if (v === '--chromium') a.chromium = argv[++i];
    else if (v === '--width') a.width = Number(argv[++i]);
    else if (v === '--max-height') a.maxHeight = Number(argv[++i]);
    else if (v === '--contains') a.contains.push(argv[++i]);
    else if (!a.page) a.page = v;
    else throw new Error(`unexpected argument '${v}'`);
  }
  if (!a.page) throw new Error('usage: check-media.js PAGE.html [--screenshot FILE]');
  return a;
}

// A DevTools connection over --remote-debugging-pipe: fd 3 carries commands to the browser,
// fd 4 its answers and events, each a JSON message ended by a NUL byte.
class Cdp {
  constructor(child) {
    this.out = child.stdio[3];
    this.next = 1;
    this.pending = new Map();
    this.listeners = [];
    let buf = Buffer.alloc(0);
    child.stdio[4].on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      let end;
      while ((end = buf.indexOf(0)) >= 0) {
        const msg = JSON.parse(buf.subarray(0, end).toString('utf8'));
        buf = buf.subarray(end + 1);
        this.dispatch(msg);
      }
    });
  }
  dispatch(msg) {
    if (msg.id && this.pending.has(msg.id)) {
      const { resolve, reject } = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error) reject(new Error(`${msg.error.message} (${msg.error.code})`));
      else resolve(msg.result);
      return;
    }
    for (const l of this.listeners) l(msg);
  }
  send(method, params = {}, sessionId) {
    const id = this.next++;
    const msg = { id, method, params };
    if (sessionId) msg.sessionId = sessionId;
    this.out.write(JSON.stringify(msg) + '\0');
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }
  once(method, sessionId) {
    return new Promise((resolve) => {
      const l = (msg) => {
        if (msg.method === method && (!sessionId || msg.sessionId === sessionId)) {
          this.listeners = this.listeners.filter((x) => x !== l);
          resolve(msg.params);
        }
      };
      this.listeners.push(l);
    });
  }
}

// Runs in the page: wait until every medium has settled (loaded, or failed), then report.
const PAGE_PROBE = `(async () => {
  const settle = (el, ok, bad, done) => new Promise((resolve) => {
    if (done()) return resolve();
    el.addEventListener(ok, resolve, { once: true });
    el.addEventListener(bad, resolve, { once: true });
  });
  const imgs = [...document.images];
  const media = [...document.querySelectorAll('audio, video')];
  media.forEach((m) => { if (m.readyState < 1) m.load(); });
  await Promise.all([
    ...imgs.map((i) => settle(i, 'load', 'error', () => i.complete)),
    ...media.map((m) => settle(m, 'loadedmetadata', 'error', () => m.readyState >= 1 || m.error)),
  ]);
  const text = document.body.innerText;
  return {
    title: document.title,
    images: imgs.map((i) => ({ src: i.getAttribute('src'), naturalWidth: i.naturalWidth,
                               naturalHeight: i.naturalHeight })),
    audio: [...document.querySelectorAll('audio')].map((m) => ({ src: m.getAttribute('src'),
      duration: m.duration, error: m.error ? m.error.code : null })),
    video: [...document.querySelectorAll('video')].map((m) => ({ src: m.getAttribute('src'),
      duration: m.duration, error: m.error ? m.error.code : null })),
    scripts: document.scripts.length,
    height: Math.ceil(document.documentElement.scrollHeight),
    contains: CONTAINS.map((t) => [t, text.includes(t)]),
  };
})()`;

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const page = path.resolve(args.page);
  if (!fs.existsSync(page)) throw new Error(`no such page '${page}'`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gemflow-chromium-'));
  const child = spawn(args.chromium, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--mute-audio',
    '--disable-dev-shm-usage', `--user-data-dir=${profile}`, '--remote-debugging-pipe',
    'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  // a guard, not a measurement: a browser that never answers must not hang the test forever
  const guard = setTimeout(() => {
    console.error(`check-media: no answer from chromium after 240 s\n${stderr}`);
    child.kill('SIGKILL');
    process.exit(3);
  }, 240000);
  try {
    const cdp = new Cdp(child);
    const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
    const network = [];
    cdp.listeners.push((msg) => {
      if (msg.method === 'Network.requestWillBeSent' && msg.sessionId === sessionId) {
        const url = msg.params.request.url;
        if (!url.startsWith('file:') && !url.startsWith('data:') && url !== 'about:blank')
          network.push(url);
      }
    });
    await cdp.send('Network.enable', {}, sessionId);
    await cdp.send('Page.enable', {}, sessionId);
    await cdp.send('Emulation.setDeviceMetricsOverride',
      { width: args.width, height: 900, deviceScaleFactor: 1, mobile: false }, sessionId);
    const loaded = cdp.once('Page.loadEventFired', sessionId);
    const nav = await cdp.send('Page.navigate', { url: 'file://' + page }, sessionId);
    if (nav.errorText) throw new Error(`cannot load ${page}: ${nav.errorText}`);
    await loaded;
    const probe = PAGE_PROBE.replace('CONTAINS', JSON.stringify(args.contains));
    const r = await cdp.send('Runtime.evaluate',
      { expression: probe, awaitPromise: true, returnByValue: true }, sessionId);
    if (r.exceptionDetails) throw new Error(`page probe failed: ${r.exceptionDetails.text}`);
    const result = r.result.value;
    result.network = network;
    result.contains = Object.fromEntries(result.contains);
    if (args.screenshot) {
      await cdp.send('Emulation.setDeviceMetricsOverride',
        { width: args.width, height: Math.min(result.height, args.maxHeight), deviceScaleFactor: 1,
          mobile: false }, sessionId);
      const shot = await cdp.send('Page.captureScreenshot', { format: 'png' }, sessionId);
      fs.writeFileSync(args.screenshot, Buffer.from(shot.data, 'base64'));
    }
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    await cdp.send('Browser.close').catch(() => {});
  } finally {
    clearTimeout(guard);
    if (child.exitCode === null) {
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`check-media: ${e.message}`);
  process.exit(2);
});
