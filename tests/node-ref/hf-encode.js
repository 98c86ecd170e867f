// Encodes texts with HF tokenizers (npm `tokenizers`, the Rust library) from a tokenizer.json.
// usage: node hf-encode.js <tokenizer.json> <texts.json: ["text", ...]> <out.json>
// Writes {"ids": [[...], ...], "decoded": ["...", ...]}.
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

async function main() {
  const [tokenizerPath, textsPath, outPath] = process.argv.slice(2);
  const tokenizer = Tokenizer.fromFile(tokenizerPath);
  const texts = JSON.parse(fs.readFileSync(textsPath, 'utf8'));
  const ids = [];
  const decoded = [];
  for (const text of texts) {
    const enc = await tokenizer.encode(text);
    const e = enc.getIds();
    ids.push(e);
    decoded.push(await tokenizer.decode(e, false));
  }
  fs.writeFileSync(outPath, JSON.stringify({ ids, decoded }));
}

main().catch((e) => { console.error(e); process.exit(1); });
