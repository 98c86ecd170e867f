// Encoding-speed anchor: HF tokenizers (npm `tokenizers`, the Rust library through N-API) encoding CodeLm's tokenizer.json.
// usage: node hf-encode-speed.js <tokenizer.json> <warm.json> <held.json> [<ids out.json>]
//   warm.json / held.json: JSON arrays of texts. Warms on every warm text, then times one pass over the held-out texts.
// Prints {seconds, cpuSeconds, bytes, tokens, tokenizers, node}.
//
// Run it with RAYON_NUM_THREADS=1, TOKENIZERS_PARALLELISM=false and UV_THREADPOOL_SIZE=1 (the C# harness does). The
// binding has only an async `encode`, run on a libuv worker; awaiting each file before the next keeps exactly one
// encode in flight, i.e. one thread doing tokenizer work, file by file, like the C# side's loop.
const fs = require('fs');
const path = require('path');
const modules = path.join(__dirname, '../../tests/node-ref/node_modules');
const { Tokenizer } = require(path.join(modules, 'tokenizers'));
const tokenizersVersion = require(path.join(modules, 'tokenizers', 'package.json')).version;

async function main() {
  const [tokenizerPath, warmPath, heldPath, idsOut] = process.argv.slice(2);
  const warm = JSON.parse(fs.readFileSync(warmPath, 'utf8'));
  const held = JSON.parse(fs.readFileSync(heldPath, 'utf8'));
  const tokenizer = Tokenizer.fromFile(tokenizerPath);
  const options = { addSpecialTokens: false };
  for (const text of warm) await tokenizer.encode(text, null, options);

  const ids = idsOut ? [] : null;
  let tokens = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (const text of held) {
    const enc = await tokenizer.encode(text, null, options);
    tokens += enc.getLength();
    if (ids) ids.push(enc.getIds());
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  if (ids) fs.writeFileSync(idsOut, JSON.stringify(ids));
  const bytes = held.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0);
  console.log(JSON.stringify({
    seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, bytes, tokens, tokenizers: tokenizersVersion, node: process.version,
  }));
}

main().catch((e) => { console.error(e); process.exit(1); });
