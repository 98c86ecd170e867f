// Pre-tokenizes texts with HF tokenizers (npm `tokenizers`) from one or more tokenizer.json files: only each file's
// pre_tokenizer runs (no added tokens, no normalizer), so split rules can be compared piece by piece.
// usage: node hf-pretokenize.js <texts.json: ["text", ...]> <out.json> <tokenizer.json>...
// Writes {"pieces": [[["piece", ...] per text] per tokenizer]}; after a ByteLevel step pieces are byte-level strings.
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

const [textsPath, outPath, ...tokenizerPaths] = process.argv.slice(2);
const texts = JSON.parse(fs.readFileSync(textsPath, 'utf8'));
const pieces = tokenizerPaths.map((file) => {
  const preTokenizer = Tokenizer.fromFile(file).getPreTokenizer();
  return texts.map((text) => preTokenizer.preTokenizeString(text).map(([piece]) => piece));
});
fs.writeFileSync(outPath, JSON.stringify({ pieces }));
