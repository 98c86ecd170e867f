// Trains HF tokenizers' BpeTrainer (npm `tokenizers`, Rust) on a list of files, with CodeLm's pre-tokenizer.
// The npm binding exposes only the model's default trainer (vocab 30000, min_frequency 0), so the C# side trains
// the same vocabulary size for the like-for-like figure.
// usage: node hf-train.js <our tokenizer.json (for its pre-tokenizer)> <files.json> <out.json>
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require(path.join(__dirname, '../../tests/node-ref/node_modules/tokenizers'));

const [tokenizerJson, listPath, outPath] = process.argv.slice(2);
const files = JSON.parse(fs.readFileSync(listPath, 'utf8'));
const tokenizer = Tokenizer.fromFile(tokenizerJson);
const t0 = process.hrtime.bigint();
tokenizer.train(files);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
tokenizer.save(outPath);
console.log(JSON.stringify({ seconds, peakMb: process.resourceUsage().maxRSS / 1024, vocab: tokenizer.getVocabSize(true) }));
