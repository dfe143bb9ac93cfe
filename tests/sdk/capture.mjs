// Capture the HTTP requests the official JS SDK (@google/genai 3.x) sends for the
// configurations gemflow relies on, as fixtures for the fake Gemini server.
// Usage: node capture.mjs OUT_DIR   (Node >= 22; run through capture.sh)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  GoogleGenAI, Modality, ThinkingLevel, ServiceTier,
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

await capture('models_get', () => ai.models.get({ model: 'gemini-3.8-flash' }));

await capture('models_list', async () => {
  const pager = await ai.models.list({ config: { pageSize: 2 } });
  let n = 0;
  for await (const _m of pager) n++;
  if (n !== 3) throw new Error(`models_list: paged through ${n} models, expected 3`);
});

server.close();
