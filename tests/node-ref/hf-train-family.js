// Trains a small byte-level BPE with HF tokenizers (npm `tokenizers`, the Rust library) in the layout of an open code
// model family, so CodeLm can be checked against HF on that family's normalizer, pre-tokenizer, added tokens and ids.
// usage: node hf-train-family.js <gpt2|starcoder|qwen2|deepseek> <files.txt: one path per line> <out-dir> [merges=3000]
// Writes <out-dir>/tokenizer.json and tokenizer_config.json (and config.json for gpt2), shaped like the family's
// published files. The npm binding trains with its default BPE trainer only, so training runs on the family's exact
// pre-tokenizer (loaded from JSON: the binding cannot build regex Splits) and the vocabulary is cut to the first
// <merges> merges and laid out by hand afterwards; HF loads the result back before it is kept.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Tokenizer } = require('tokenizers');

const byteLevel = (addPrefixSpace, trimOffsets, useRegex) =>
  ({ type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: trimOffsets, use_regex: useRegex });
const split = (regex) => ({ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false });

// GPT-2's byte → char table (bytes_to_unicode), and the bytes in vocabulary order (by char).
const byteChars = (() => {
  const visible = (b) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table = [];
  let next = 256;
  for (let b = 0; b < 256; b++) table.push(String.fromCodePoint(visible(b) ? b : next++));
  return table;
})();
const bytesInVocabOrder = [...Array(256).keys()].sort((a, b) => byteChars[a].codePointAt(0) - byteChars[b].codePointAt(0));

const added = (content, special, normalized = !special) =>
  ({ content, single_word: false, lstrip: false, rstrip: false, normalized, special });

const STARCODER_SPECIALS = ['<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>', '<fim_pad>', '<filename>',
  '<gh_stars>', '<issue_start>', '<issue_comment>', '<issue_closed>', '<jupyter_start>', '<jupyter_text>',
  '<jupyter_code>', '<jupyter_output>', '<empty_output>', '<commit_before>', '<commit_msg>', '<commit_after>', '<reponame>'];

const QWEN_ADDED = [
  ['<|endoftext|>', true], ['<|im_start|>', true], ['<|im_end|>', true], ['<|object_ref_start|>', true],
  ['<|object_ref_end|>', true], ['<|box_start|>', true], ['<|box_end|>', true], ['<|quad_start|>', true],
  ['<|quad_end|>', true], ['<|vision_start|>', true], ['<|vision_end|>', true], ['<|vision_pad|>', true],
  ['<|image_pad|>', true], ['<|video_pad|>', true], ['<tool_call>', false], ['</tool_call>', false],
  ['<|fim_prefix|>', false], ['<|fim_middle|>', false], ['<|fim_suffix|>', false], ['<|fim_pad|>', false],
  ['<|repo_name|>', false], ['<|file_sep|>', false],
];

// DeepSeek-Coder's model vocabulary lacks the byte chars of bytes UTF-8 never uses; its added tokens supply them.
const DEEPSEEK_MISSING_BYTES = ['õ', '÷', 'Á', 'ý', 'À', 'ÿ', 'ø', 'ú', 'þ', 'ü', 'ù', 'ö', 'û'];
const DEEPSEEK_SPECIALS = [
  ['<｜begin▁of▁sentence｜>', true], ['<｜end▁of▁sentence｜>', true], ['<｜fim▁hole｜>', false], ['<｜fim▁begin｜>', false],
  ['<｜fim▁end｜>', false], ['<pad>', false], ['<|User|>', false], ['<|Assistant|>', false], ['<|EOT|>', true],
];
// Cased-letter ranges, escaped: a normalizing editor would turn U+2126, U+212A, U+1F7D... into other letters.
const DEEPSEEK_LETTERS = 'A-Za-z\u{B5}\u{C0}-\u{D6}\u{D8}-\u{F6}\u{F8}-\u{1BA}\u{1BC}-\u{1BF}\u{1C4}-\u{293}\u{295}-\u{2AF}\u{370}-\u{373}\u{376}\u{377}\u{37B}-\u{37D}\u{37F}\u{386}\u{388}-\u{38A}\u{38C}\u{38E}-\u{3A1}\u{3A3}-\u{3F5}\u{3F7}-\u{481}\u{48A}-\u{52F}\u{531}-\u{556}\u{10A0}-\u{10C5}\u{13A0}-\u{13F5}\u{13F8}-\u{13FD}\u{1C90}-\u{1CBA}\u{1CBD}-\u{1CBF}\u{1D00}-\u{1D2B}\u{1D6B}-\u{1D77}\u{1D79}-\u{1D9A}\u{1E00}-\u{1F15}\u{1F18}-\u{1F1D}\u{1F20}-\u{1F45}\u{1F48}-\u{1F4D}\u{1F50}-\u{1F57}\u{1F59}\u{1F5B}\u{1F5D}\u{1F5F}-\u{1F7D}\u{1F80}-\u{1FB4}\u{1FB6}-\u{1FBC}\u{1FBE}\u{1FC2}-\u{1FC4}\u{1FC6}-\u{1FCC}\u{1FD0}-\u{1FD3}\u{1FD6}-\u{1FDB}\u{1FE0}-\u{1FEC}\u{1FF2}-\u{1FF4}\u{1FF6}-\u{1FFC}\u{2102}\u{2107}\u{210A}-\u{2113}\u{2115}\u{2119}-\u{211D}\u{2124}\u{2126}\u{2128}\u{212A}-\u{212D}\u{212F}-\u{2134}\u{2139}\u{213C}-\u{213F}\u{2145}-\u{2149}\u{214E}\u{2183}\u{2184}\u{2C00}-\u{2C7B}\u{2C7E}-\u{2CE4}\u{2CEB}-\u{2CEE}\u{2CF2}\u{2CF3}\u{A640}-\u{A66D}\u{A680}-\u{A69B}\u{A722}-\u{A76F}\u{A771}-\u{A787}\u{A78B}-\u{A78E}\u{AB70}-\u{ABBF}\u{FB00}-\u{FB06}\u{FB13}-\u{FB17}\u{FF21}-\u{FF3A}\u{FF41}-\u{FF5A}\u{10400}-\u{1044F}\u{104B0}-\u{104D3}\u{104D8}-\u{104FB}\u{10C80}-\u{10CB2}\u{10CC0}-\u{10CF2}\u{118A0}-\u{118DF}\u{1E900}-\u{1E943}';

const FAMILIES = {
  // GPT-2 / codeparrot: GPT-2's regex inside ByteLevel, <|endoftext|> last; eos only in config.json.
  gpt2: {
    normalizer: null,
    preTokenizer: byteLevel(false, true, true),
    decoder: byteLevel(false, true, true),
    postProcessor: () => byteLevel(true, false, true),
    ignoreMerges: false,
    layout: (bytes, merged) => ({ vocab: [...bytes, ...merged, '<|endoftext|>'], added: [added('<|endoftext|>', true)] }),
    files: (id) => ({ 'tokenizer_config.json': { model_max_length: 1024 }, 'config.json': { bos_token_id: id('<|endoftext|>'), eos_token_id: id('<|endoftext|>') } }),
  },
  // StarCoder / StarCoder2 / SantaCoder: every digit alone, then GPT-2's regex; specials first in the vocabulary.
  starcoder: {
    normalizer: null,
    preTokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, byteLevel(false, true, true)] },
    decoder: byteLevel(false, true, true),
    postProcessor: () => byteLevel(false, false, true),
    ignoreMerges: false,
    layout: (bytes, merged) => ({ vocab: [...STARCODER_SPECIALS, ...bytes, ...merged], added: STARCODER_SPECIALS.map((t) => added(t, true)) }),
    files: () => ({
      'tokenizer_config.json': {
        add_prefix_space: false, bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>',
        additional_special_tokens: STARCODER_SPECIALS, clean_up_tokenization_spaces: true, model_max_length: 8192, tokenizer_class: 'GPT2Tokenizer',
      },
    }),
  },
  // Qwen2 / Qwen2.5-Coder: NFC, the cl100k-like Split (single digits), ByteLevel without regex; added tokens after the vocabulary.
  qwen2: {
    normalizer: { type: 'NFC' },
    preTokenizer: { type: 'Sequence', pretokenizers: [
      split(String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`),
      byteLevel(false, false, false)] },
    decoder: byteLevel(false, false, false),
    postProcessor: () => byteLevel(false, false, false),
    ignoreMerges: false,
    layout: (bytes, merged) => ({ vocab: [...bytes, ...merged], added: QWEN_ADDED.map(([t, s]) => added(t, s, false)) }),
    files: () => ({
      'tokenizer_config.json': {
        add_bos_token: false, add_prefix_space: false, bos_token: null, eos_token: '<|endoftext|>', pad_token: '<|endoftext|>',
        errors: 'replace', model_max_length: 32768, split_special_tokens: false, tokenizer_class: 'Qwen2Tokenizer', unk_token: null,
        additional_special_tokens: ['<|im_start|>', '<|im_end|>', '<|object_ref_start|>', '<|object_ref_end|>', '<|box_start|>', '<|box_end|>',
          '<|quad_start|>', '<|quad_end|>', '<|vision_start|>', '<|vision_end|>', '<|vision_pad|>', '<|image_pad|>', '<|video_pad|>'],
      },
    }),
  },
  // DeepSeek-Coder: an empty normalizer Sequence, a Sequence of Splits (line breaks, letter runs, punctuation runs,
  // trailing spaces, CJK runs), single digits, ByteLevel without regex; a begin-of-sentence template.
  deepseek: {
    normalizer: { type: 'Sequence', normalizers: [] },
    preTokenizer: { type: 'Sequence', pretokenizers: [
      split(String.raw`[\r\n]`),
      split(String.raw`\s?[` + DEEPSEEK_LETTERS + ']+'),
      split(String.raw`\s?[!-/:-~！-／：-～‘-‟　-。]+`),
      split(String.raw`\s+$`),
      split('[一-龥ࠀ-一가-퟿]+'),
      { type: 'Digits', individual_digits: true },
      byteLevel(false, true, false)] },
    decoder: byteLevel(true, true, true),
    postProcessor: (id) => ({
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<｜begin▁of▁sentence｜>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<｜begin▁of▁sentence｜>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '<｜begin▁of▁sentence｜>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<｜begin▁of▁sentence｜>': { id: '<｜begin▁of▁sentence｜>', ids: [id('<｜begin▁of▁sentence｜>')], tokens: ['<｜begin▁of▁sentence｜>'] } },
    }),
    ignoreMerges: undefined, // DeepSeek-Coder's file predates the field
    layout: (bytes, merged) => ({
      vocab: [...bytes.filter((c) => !DEEPSEEK_MISSING_BYTES.includes(c)), ...merged],
      added: [...DEEPSEEK_MISSING_BYTES.map((c) => added(c, false, true)), ...DEEPSEEK_SPECIALS.map(([t, s]) => added(t, s, true))],
    }),
    files: () => {
      const token = (content) => ({ __type: 'AddedToken', content, lstrip: false, normalized: true, rstrip: false, single_word: false });
      return {
        'tokenizer_config.json': {
          add_bos_token: true, add_eos_token: false, bos_token: token('<｜begin▁of▁sentence｜>'), eos_token: token('<｜end▁of▁sentence｜>'),
          pad_token: token('<｜end▁of▁sentence｜>'), legacy: true, model_max_length: 16384, unk_token: null,
          clean_up_tokenization_spaces: false, tokenizer_class: 'LlamaTokenizerFast',
        },
      };
    },
  },
};

function tokenizerJson(family, model, addedTokens, postProcessor) {
  return {
    version: '1.0', truncation: null, padding: null, added_tokens: addedTokens, normalizer: family.normalizer,
    pre_tokenizer: family.preTokenizer, post_processor: postProcessor, decoder: family.decoder, model,
  };
}

function bpe(vocab, merges, ignoreMerges) {
  const model = { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
    fuse_unk: false, byte_fallback: false, ignore_merges: ignoreMerges, vocab, merges };
  if (ignoreMerges === undefined) delete model.ignore_merges;
  return model;
}

function isText(file) {
  const bytes = fs.readFileSync(file);
  if (bytes.includes(0)) return false;
  try { new TextDecoder('utf-8', { fatal: true }).decode(bytes); return true; } catch { return false; }
}

function main() {
  const [name, listPath, outDir, mergesArg] = process.argv.slice(2);
  const family = FAMILIES[name];
  if (!family) throw new Error(`unknown family '${name}' (${Object.keys(FAMILIES).join(', ')})`);
  const keep = Number(mergesArg || 3000);
  const files = fs.readFileSync(listPath, 'utf8').split('\n').filter((f) => f && isText(f));

  // 1. Train on the family's own normalizer and pre-tokenizer.
  const untrained = tokenizerJson(family, bpe({}, [], false), [], null);
  const trainer = Tokenizer.fromString(JSON.stringify(untrained));
  trainer.train(files);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hf-train-'));
  trainer.save(path.join(scratch, 'trained.json'));
  const trained = JSON.parse(fs.readFileSync(path.join(scratch, 'trained.json'), 'utf8'));
  fs.rmSync(scratch, { recursive: true, force: true });

  // 2. The first <keep> merges, their tokens in merge order, laid out as the family lays out its vocabulary.
  const merges = trained.model.merges.slice(0, keep).map((m) => (Array.isArray(m) ? m : m.split(' ')));
  const bytes = bytesInVocabOrder.map((b) => byteChars[b]);
  const seen = new Set(bytes);
  const merged = [];
  for (const [a, b] of merges) if (!seen.has(a + b)) { seen.add(a + b); merged.push(a + b); }
  const { vocab: tokens, added: addedTokens } = family.layout(bytes, merged);
  const vocab = Object.fromEntries(tokens.map((t, i) => [t, i]));
  // Ids as HF gives them on load: a token in the vocabulary keeps its id, the others follow the vocabulary in order.
  let next = tokens.length;
  const withIds = addedTokens.map((t) => ({ id: t.content in vocab ? vocab[t.content] : next++, ...t }));
  const id = (content) => withIds.find((t) => t.content === content).id;

  const json = tokenizerJson(family, bpe(vocab, merges, family.ignoreMerges), withIds, family.postProcessor(id));
  fs.mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, 'tokenizer.json');
  fs.writeFileSync(out, JSON.stringify(json, null, 2));
  for (const [file, content] of Object.entries(family.files(id))) fs.writeFileSync(path.join(outDir, file), JSON.stringify(content, null, 2));

  // 3. HF must load it back with the same ids.
  const loaded = Tokenizer.fromFile(out);
  for (const t of withIds) {
    if (loaded.tokenToId(t.content) !== t.id) throw new Error(`${t.content}: HF gives id ${loaded.tokenToId(t.content)}, the file says ${t.id}`);
  }
  console.log(JSON.stringify({ family: name, files: files.length, vocab: tokens.length, merges: merges.length, added: withIds.length }));
}

main();
