// Capture the HTTP requests the official JS SDK (@google/genai 3.x) sends for the
// configurations gemflow relies on, as fixtures for the fake Gemini server.
// Usage: node capture.mjs OUT_DIR   (Node >= 22; run through capture.sh)
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import zlib from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  GoogleGenAI, Modality, ThinkingLevel, ServiceTier, createPartFromBase64,
} from '@google/genai';

const outDir = process.argv[2];
if (!outDir) {
  console.error('usage: node capture.mjs OUT_DIR');
  process.exit(2);
}
// The package's exports hide package.json: read it from node_modules next to this script.
const here = path.dirname(fileURLToPath(import.meta.url));
const sdkVersion = JSON.parse(fs.readFileSync(
  path.join(here, 'node_modules', '@google', 'genai', 'package.json'), 'utf8')).version;
const SDK = `@google/genai ${sdkVersion}`;
// A dummy key: it must never appear in a fixture (checked before writing).
const KEY = 'capture-dummy-key-0000';

// Headers left out of the fixtures: the key, the version strings, and what
// depends on the socket or the serialisation (port, length, connection).
const DROP = new Set(['x-goog-api-key', 'user-agent', 'x-goog-api-client', 'host',
  'content-length', 'connection']);

// A minimal WAV (RIFF header + 0.1 s of silence at 24 kHz) and JPEG marker
// bytes: just enough for the SDK to accept the reply; they are not checked.
function wavBytes() {
  const frames = 2400, data = frames * 2, b = Buffer.alloc(44 + data);
  b.write('RIFF', 0); b.writeUInt32LE(36 + data, 4); b.write('WAVE', 8);
  b.write('fmt ', 12); b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22); b.writeUInt32LE(24000, 24); b.writeUInt32LE(48000, 28);
  b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34); b.write('data', 36);
  b.writeUInt32LE(data, 40);
  return b;
}

// ---- Interactions API (Gemini Omni Flash video) and the Files API it delivers through ----

// A real 16x9 RGB PNG (a colour gradient): the input image of the image-to-video capture.
function pngBytes(w = 16, h = 9) {
  const rows = [];
  for (let y = 0; y < h; y++) {
    rows.push(0);
    for (let x = 0; x < w; x++) rows.push((x * 16) & 255, (y * 28) & 255, 160);
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(zlib.crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 2; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.from(rows))), chunk('IEND', Buffer.alloc(0))]);
}

// The first bytes of an MP4 (an ftyp box): enough for the SDK to pass the reply on.
const MP4 = Buffer.from('000000206674797069736f6d0000020069736f6d69736f32617663316d703431', 'hex');
const ID = 'v1_ChdjYXB0dXJlMDAwMDAwMDAwMDAwMDAwMBIXY2FwdHVyZTAwMDAwMDAwMDAwMDAwMDA';
const FILE_ID = 'capture0file1';
const FILE_URI = `https://generativelanguage.googleapis.com/v1beta/files/${FILE_ID}:download?alt=media`;
const STAMP = '2026-12-04T12:00:00Z';

function fileEntry(idAndAction) {
  const id = idAndAction.replace(/:.*$/, '');
  return {
    name: `files/${id}`, mimeType: 'video/mp4', sizeBytes: String(MP4.length), createTime: STAMP,
    updateTime: STAMP, expirationTime: '2026-12-06T12:00:00Z', uri:
    `https://generativelanguage.googleapis.com/v1beta/files/${id}`, state: 'ACTIVE', source: 'GENERATED',
  };
}

// The shapes the Omni guide documents (ai.google.dev/gemini-api/docs/omni, "REST response
// schema"): a background create answers in_progress at once; a finished one carries the video
// in steps[].content[] of a model_output step, inline (data) or as a Files URI (delivery uri).
function interactionAnswer(req, p, body) {
  const parsed = body ? JSON.parse(body) : {};
  const base = { id: ID, object: 'interaction', model: parsed.model ?? 'gemini-omni-1.1-flash',
    created: STAMP, updated: STAMP };
  if (req.method === 'POST' && /\/interactions$/.test(p) && parsed.background === true) {
    return { ...base, status: 'in_progress' };
  }
  const rf = Array.isArray(parsed.response_format) ? parsed.response_format[0] : parsed.response_format;
  const video = rf?.delivery === 'uri'
    ? { type: 'video', mime_type: 'video/mp4', uri: FILE_URI }
    : { type: 'video', mime_type: 'video/mp4', data: MP4.toString('base64') };
  return {
    ...base, status: 'completed',
    steps: [
      { type: 'user_input', content: [{ type: 'text', text: 'capture' }] },
      { type: 'thought', signature: 'Y2FwdHVyZQ==' },
      { type: 'model_output', content: [video] },
    ],
    usage: { total_input_tokens: 8, total_output_tokens: 34752, total_tokens: 34760,
      output_tokens_by_modality: [{ modality: 'video', tokens: 34752 }] },
  };
}

const captured = [];

function modelEntry(id) {
  return {
    name: `models/${id}`, version: '001', displayName: id, description: id,
    inputTokenLimit: 1048576, outputTokenLimit: 65536,
    supportedGenerationMethods: ['generateContent', 'countTokens'],
  };
}

// Answer each request plausibly for its route, so the SDK does not throw.
function answer(req, body) {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  if (req.method === 'GET' && /\/models$/.test(p)) {
    const page = url.searchParams.get('pageToken') ? 2 : 1;
    const r = { models: page === 1 ? [modelEntry('gemini-3.8-flash'), modelEntry('gemini-3.6-flash')]
                                   : [modelEntry('gemini-3.8-flash-tts')] };
    if (page === 1) r.nextPageToken = 'page-2-token';
    return r;
  }
  if (/\/interactions(\/|$)/.test(p)) return interactionAnswer(req, p, body);
  if (req.method === 'GET' && /\/files\/[^/]+$/.test(p)) return fileEntry(p.split('/').pop());
  if (req.method === 'GET') return modelEntry(p.split('/').pop());
  const parsed = body ? JSON.parse(body) : {};
  const mods = parsed.generationConfig?.responseModalities ?? [];
  let parts;
  if (mods.includes('AUDIO')) {
    parts = [{ inlineData: { mimeType: 'audio/wav', data: wavBytes().toString('base64') } }];
  } else if (mods.includes('IMAGE')) {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xff, 0xd9]);
    parts = [{ text: 'Here is the image.' }, { inlineData: { mimeType: 'image/jpeg', data: jpeg.toString('base64') } }];
  } else if (parsed.generationConfig?.responseMimeType === 'application/json') {
    parts = [{ text: '{"title": "t", "scenes": []}' }];
  } else {
    parts = [{ text: 'ok' }];
  }
  const model = decodeURIComponent(p).replace(/^.*\/models\//, '').replace(/:.*$/, '');
  return {
    candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 4, totalTokenCount: 12 },
    modelVersion: model, responseId: 'capture-response-id',
  };
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (!DROP.has(k)) headers[k] = v;
    }
    captured.push({
      method: req.method, path: req.url, headers,
      keyHeader: req.headers['x-goog-api-key'] === KEY,
      body: body ? JSON.parse(body) : null,
    });
    if (req.method === 'GET' && /:download$/.test(new URL(req.url, 'http://x').pathname)) {
      res.writeHead(200, { 'content-type': 'video/mp4' });
      res.end(MP4);
      return;
    }
    const out = JSON.stringify(answer(req, body), null, 2);
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(out);
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const baseUrl = `http://127.0.0.1:${server.address().port}`;
const ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl } });

// Run one SDK call and write the request(s) it made as NAME.json (and
// NAME_2.json, ... when it made more than one).
async function capture(name, call) {
  const from = captured.length;
  await call();
  const reqs = captured.slice(from);
  if (reqs.length === 0) throw new Error(`${name}: the SDK sent no request`);
  reqs.forEach((r, i) => {
    if (!r.keyHeader) throw new Error(`${name}: the key was not sent as x-goog-api-key`);
    const fixture = { sdk: SDK, method: r.method, path: r.path, headers: r.headers, body: r.body };
    const text = JSON.stringify(fixture, null, 2) + '\n';
    if (text.includes(KEY)) throw new Error(`${name}: the key leaked into the fixture`);
    const file = path.join(outDir, `${name}${i ? `_${i + 1}` : ''}.json`);
    fs.writeFileSync(file, text);
    console.log(`wrote ${file}`);
  });
}

const LINE = 'The lighthouse keeper climbed the stairs one last time.';

await capture('tts_style', () => ai.models.generateContent({
  model: 'gemini-3.8-flash-tts',
  contents: [{ text: LINE, speechMetadata: { style: 'tired but warm, slow' } }],
  config: {
    responseModalities: [Modality.AUDIO],
    speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } },
  },
}));

await capture('tts_voice_id', () => ai.models.generateContent({
  model: 'gemini-3.8-flash-tts',
  contents: [{ text: LINE, speechMetadata: { style: 'tired but warm, slow' } }],
  config: {
    responseModalities: [Modality.AUDIO],
    speechConfig: { voiceConfig: { voice: 'voice_abc123' } },
  },
}));

await capture('tts_multi_speaker', () => ai.models.generateContent({
  model: 'gemini-3.8-flash-tts',
  contents: [
    { text: 'Is the lamp lit?', speechMetadata: { speaker: 'Keeper', style: 'anxious' } },
    { text: 'It has been lit for an hour.', speechMetadata: { speaker: 'Child', style: 'calm, amused' } },
  ],
  config: {
    responseModalities: [Modality.AUDIO],
    speechConfig: {
      multiSpeakerVoiceConfig: {
        speakerVoiceConfigs: [
          { speaker: 'Keeper', voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Charon' } } },
          { speaker: 'Child', voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Leda' } } },
        ],
      },
    },
  },
}));

await capture('json_thinking', () => ai.models.generateContent({
  model: 'gemini-3.8-flash',
  contents: 'Divide this script into scenes.\n---\nSCENE 1\nA lighthouse at dawn.\n---',
  config: {
    systemInstruction: 'You are a careful script editor.',
    responseMimeType: 'application/json',
    responseJsonSchema: {
      type: 'object',
      properties: {
        title: { type: 'string' },
        scenes: {
          type: 'array',
          items: {
            type: 'object',
            properties: { id: { type: 'string' }, narration: { type: 'string' } },
            required: ['id', 'narration'],
          },
        },
      },
      required: ['title', 'scenes'],
    },
    thinkingConfig: { thinkingLevel: ThinkingLevel.LOW },
  },
}));

await capture('flex', () => ai.models.generateContent({
  model: 'gemini-3.8-flash',
  contents: 'Summarise the story of a lighthouse keeper in one sentence.',
  config: { serviceTier: ServiceTier.FLEX },
}));

await capture('image_nano_banana', () => ai.models.generateContent({
  model: 'gemini-nano-banana-2.1',
  contents: 'A lighthouse at dawn, cinematic, wide shot',
  config: {
    responseModalities: [Modality.TEXT, Modality.IMAGE],
    imageConfig: { aspectRatio: '16:9', imageSize: '1K' },
  },
}));

// ---- Inline media inputs: reference images beside the prompt ----
// Two tiny real JPEG portraits (16x16, baseline, made once with FFmpeg's colour source): what
// gemflow sends as character references. Kept as constants so the capture needs no encoder.
const PORTRAIT_ELIAS = '/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAgKCgsKCw0NDQ0NDRAPEBAQEBAQEBAQEBASEhIVFRUSEhIQEBISFBQVFRcXFxUVFRUXFxkZGR4eHBwjIyQrKzP/xABXAAEBAAAAAAAAAAAAAAAAAAAAAgEBAAAAAAAAAAAAAAAAAAAABRAAAQQCAwEAAAAAAAAAAAAAAhIRARMDBQAEMlERAQEBAAAAAAAAAAAAAAAAAAASIf/AABEIABAAEAMBIgACEQADEQD/2gAMAwEAAhEDEQA/AL1Ovw9+6wsgoQyJGPSndxn5xttfh6FNZZCWt1yM+UszDH3jU7DD0LrByEtDIgZ8qd3KPvG22GHv01jkFC3XAx6SzMU/OEF9p//Z';
const PORTRAIT_MARA = '/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAgKCgsKCw0NDQ0NDRAPEBAQEBAQEBAQEBASEhIVFRUSEhIQEBISFBQVFRcXFxUVFRUXFxkZGR4eHBwjIyQrKzP/xABhAAEBAAAAAAAAAAAAAAAAAAAAAwEBAQAAAAAAAAAAAAAAAAAAAwQQAAEEAwEBAAAAAAAAAAAAAAISBRMRAAMBUTIRAAAGAQUBAAAAAAAAAAAAAAAxIxQyEpGCgaFCE0P/wAARCAAQABADASIAAhEAAxEA/9oADAMBAAIRAxEAPwCDM2aHGeUtgxx0jo8+lXahLzDy2aG6CIthSSWvo9+U1SRH3DM56G6eUdhSR0jg9+VXaiH3Dy56HGCIdgxyWvg8+k1SSLzK1nv089VIYPkEm26X2tLJD//Z';

// The image-generation guide's "Use up to 14 reference images" sample: the text part first,
// then each reference as an inlineData part (createPartFromBase64 builds the same shape).
await capture('image_refs', () => ai.models.generateContent({
  model: 'gemini-nano-banana-2.1',
  contents: [
    { text: 'Elias Marr lights the lamp while Mara watches from the stairs. Keep both faces '
      + 'exactly as in the reference portraits.' },
    createPartFromBase64(PORTRAIT_ELIAS, 'image/jpeg'),
    createPartFromBase64(PORTRAIT_MARA, 'image/jpeg'),
  ],
  config: {
    responseModalities: [Modality.IMAGE],
    imageConfig: { aspectRatio: '16:9', imageSize: '1K' },
  },
}));

// The image-understanding guide's order: the image first, then the question; a JSON answer.
await capture('json_image', () => ai.models.generateContent({
  model: 'gemini-3.8-flash',
  contents: [
    createPartFromBase64(PORTRAIT_ELIAS, 'image/jpeg'),
    { text: 'Describe the person in this portrait for a character sheet.' },
  ],
  config: {
    responseMimeType: 'application/json',
    responseJsonSchema: {
      type: 'object',
      properties: { name: { type: 'string' }, look: { type: 'string' } },
      required: ['name', 'look'],
    },
  },
}));

await capture('models_get', () => ai.models.get({ model: 'gemini-3.8-flash' }));

await capture('models_list', async () => {
  const pager = await ai.models.list({ config: { pageSize: 2 } });
  let n = 0;
  for await (const _m of pager) n++;
  if (n !== 3) throw new Error(`models_list: paged through ${n} models, expected 3`);
});

// ---- Gemini Omni Flash image-to-video through the Interactions API ----
// The settings the Omni guide names: the image and the motion prompt as input parts,
// generation_config.video_config.task, and response_format {type, aspect_ratio, resolution,
// duration (VideoResponseFormat.duration, a string), delivery}; background: true to poll.
const IMAGE_B64 = pngBytes().toString('base64');
const MOTION = 'The lighthouse beam sweeps slowly across the night sea; waves roll in; '
  + 'gentle wind and distant gulls. Single continuous shot. No dialogue.';
let created;
await capture('interaction_create', async () => {
  created = await ai.interactions.create({
    model: 'gemini-omni-1.1-flash',
    input: [
      { type: 'image', data: IMAGE_B64, mime_type: 'image/png' },
      { type: 'text', text: MOTION },
    ],
    generation_config: { video_config: { task: 'image_to_video' } },
    response_format: { type: 'video', aspect_ratio: '16:9', resolution: '720p', duration: '6s',
      delivery: 'inline' },
    background: true,
  });
  if (created.id !== ID || created.status !== 'in_progress') {
    throw new Error(`interaction_create: unexpected reply ${JSON.stringify(created)}`);
  }
});

await capture('interaction_get', async () => {
  const got = await ai.interactions.get(created.id);
  if (got.status !== 'completed' || got.output_video?.data !== MP4.toString('base64')) {
    throw new Error('interaction_get: the SDK did not expose the inline video as output_video.data');
  }
});

// URI delivery (the guide: for videos over 4 MB): a synchronous create answers with a Files
// URI; files.get polls the file's state and files.download fetches the bytes.
let uriVideo;
await capture('interaction_create_uri', async () => {
  const done = await ai.interactions.create({
    model: 'gemini-omni-1.1-flash',
    input: [
      { type: 'image', data: IMAGE_B64, mime_type: 'image/png' },
      { type: 'text', text: MOTION },
    ],
    response_format: { type: 'video', aspect_ratio: '9:16', duration: '4s', delivery: 'uri' },
  });
  uriVideo = done.output_video;
  if (uriVideo?.uri !== FILE_URI) throw new Error('interaction_create_uri: no output_video.uri');
});

await capture('file_get', () => ai.files.get({ name: `files/${FILE_ID}` }));

await capture('file_download', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capture-'));
  const out = path.join(dir, 'clip.mp4');
  await ai.files.download({ file: uriVideo, downloadPath: out });
  const got = fs.readFileSync(out);
  fs.rmSync(dir, { recursive: true });
  if (!got.equals(MP4)) throw new Error('file_download: the bytes written differ from the reply');
});

server.close();
