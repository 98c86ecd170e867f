"""Independent writer and reference forward for tiny Hugging Face decoder checkpoints (tests only).

Written against the transformers conventions of each family, without transformers or safetensors (neither is in
Debian 12): safetensors is a length-prefixed JSON header and raw little-endian bytes, a few lines here.

  write FAMILY OUT_DIR VOCAB [--seed N] [--dtype f32|f16|bf16] [--shards N] [--untied] [--rope-scale F] [--shape NAME]
  forward MODEL_DIR IDS_TXT LOGITS_BIN      float32 logits [T, V] of the ids (space-separated) in one sequence
  greedy MODEL_DIR IDS_TXT N OUT_TXT        N greedy tokens after the ids, space-separated
FAMILY: llama, mistral, qwen2, starcoder2, gpt2, gpt_bigcode.
--shape gives a published model's dimensions (random weights, for speed and memory benchmarks): see SHAPES.
"""
import json
import math
import os
import struct
import sys

import torch

DTYPES = {"f32": (torch.float32, "F32"), "f16": (torch.float16, "F16"), "bf16": (torch.bfloat16, "BF16")}
NAMES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: write the upper halves of the float32 bit patterns
        return (t.float().view(torch.int32) >> 16).to(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def save_safetensors(path, tensors, dtype_name):
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name, t in tensors:
        b = tensor_bytes(t)
        header[name] = {"dtype": dtype_name, "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = bytearray(data[a:b])
        if info["dtype"] == "BF16":
            t = (torch.frombuffer(raw, dtype=torch.int16).to(torch.int32) << 16).view(torch.float32)
        else:
            t = torch.frombuffer(raw, dtype=NAMES[info["dtype"]]).float()
        out[name] = t.reshape(info["shape"]).clone()
    return out


def load_dir(d):
    index = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(index):
        files = sorted(set(json.load(open(index))["weight_map"].values()))
        w = {}
        for f in files:
            w.update(load_safetensors(os.path.join(d, f)))
        return w
    return load_safetensors(os.path.join(d, "model.safetensors"))


# Dimensions of published models, from their config.json files (weights are random: speed and memory do not depend on them).
SHAPES = {
    "qwen2.5-coder-0.5b": {"hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14,
                           "num_key_value_heads": 2, "max_position_embeddings": 32768, "tie_word_embeddings": True},
    "qwen2.5-coder-1.5b": {"hidden_size": 1536, "intermediate_size": 8960, "num_hidden_layers": 28, "num_attention_heads": 12,
                           "num_key_value_heads": 2, "max_position_embeddings": 32768, "tie_word_embeddings": True},
}


# ---------- configs and random weights, in each family's own names and layouts ----------

def make_config(family, vocab, untied, rope_scale):
    if family in ("llama", "mistral", "qwen2"):
        c = {"architectures": [{"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM"}[family]],
             "model_type": family, "vocab_size": vocab, "hidden_size": 64, "intermediate_size": 160,
             "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
             "max_position_embeddings": 512, "rms_norm_eps": 1e-6, "rope_theta": 10000.0 if family == "llama" else 1000000.0,
             "hidden_act": "silu", "tie_word_embeddings": not untied, "torch_dtype": "float32"}
        if family == "mistral":
            c["sliding_window"] = 4096
        if rope_scale != 1.0:
            c["rope_scaling"] = {"type": "linear", "factor": rope_scale}
        return c
    if family == "starcoder2":
        return {"architectures": ["Starcoder2ForCausalLM"], "model_type": "starcoder2", "vocab_size": vocab,
                "hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4,
                "num_key_value_heads": 2, "max_position_embeddings": 512, "norm_epsilon": 1e-5, "rope_theta": 100000.0,
                "hidden_act": "gelu_pytorch_tanh", "use_bias": True, "tie_word_embeddings": not untied, "torch_dtype": "float32"}
    if family == "gpt2":
        return {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": vocab, "n_embd": 64,
                "n_layer": 2, "n_head": 4, "n_positions": 512, "n_inner": None, "activation_function": "gelu_new",
                "layer_norm_epsilon": 1e-5, "tie_word_embeddings": True, "torch_dtype": "float32"}
    if family == "gpt_bigcode":
        return {"architectures": ["GPTBigCodeForCausalLM"], "model_type": "gpt_bigcode", "vocab_size": vocab, "n_embd": 64,
                "n_layer": 2, "n_head": 4, "n_positions": 512, "n_inner": 256, "multi_query": True,
                "activation_function": "gelu_pytorch_tanh", "layer_norm_epsilon": 1e-5, "tie_word_embeddings": True,
                "torch_dtype": "float32"}
    raise SystemExit(f"unknown family {family}")


def make_weights(family, c):
    g = torch.Generator().manual_seed(c.pop("_seed"))

    def r(*shape, std=0.2):
        if len(shape) == 2 and shape[1] > 256:  # published widths: keep activations of order 1
            std = min(std, 1.0 / math.sqrt(shape[1]))
        return torch.randn(*shape, generator=g) * std

    def norm(n):
        return 1.0 + r(n, std=0.1)

    w = []
    if family in ("llama", "mistral", "qwen2", "starcoder2"):
        e, h, kv = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
        d, f = e // h, c["intermediate_size"]
        bias_all = family == "starcoder2"
        w.append(("model.embed_tokens.weight", r(c["vocab_size"], e, std=1.0)))
        for i in range(c["num_hidden_layers"]):
            p = f"model.layers.{i}."
            w.append((p + "input_layernorm.weight", norm(e)))
            if bias_all:
                w.append((p + "input_layernorm.bias", r(e, std=0.1)))
            for proj, rows in (("q_proj", h * d), ("k_proj", kv * d), ("v_proj", kv * d)):
                w.append((p + f"self_attn.{proj}.weight", r(rows, e)))
                if family == "qwen2" or bias_all:
                    w.append((p + f"self_attn.{proj}.bias", r(rows, std=0.1)))
            w.append((p + "self_attn.o_proj.weight", r(e, h * d)))
            if bias_all:
                w.append((p + "self_attn.o_proj.bias", r(e, std=0.1)))
            w.append((p + "post_attention_layernorm.weight", norm(e)))
            if bias_all:
                w.append((p + "post_attention_layernorm.bias", r(e, std=0.1)))
                w += [(p + "mlp.c_fc.weight", r(f, e)), (p + "mlp.c_fc.bias", r(f, std=0.1)),
                      (p + "mlp.c_proj.weight", r(e, f)), (p + "mlp.c_proj.bias", r(e, std=0.1))]
            else:
                w += [(p + "mlp.gate_proj.weight", r(f, e)), (p + "mlp.up_proj.weight", r(f, e)),
                      (p + "mlp.down_proj.weight", r(e, f))]
        w.append(("model.norm.weight", norm(e)))
        if bias_all:
            w.append(("model.norm.bias", r(e, std=0.1)))
        if not c["tie_word_embeddings"]:
            w.append(("lm_head.weight", r(c["vocab_size"], e)))
        return w
    e = c["n_embd"]
    f = c["n_inner"] or 4 * e
    mq = family == "gpt_bigcode" and c["multi_query"]
    qkv = e + 2 * (e // c["n_head"]) if mq else 3 * e
    conv = family == "gpt2"  # GPT-2 stores Conv1D weights as [in, out]; GPTBigCode uses Linear [out, in]

    def lin(out_f, in_f):
        t = r(out_f, in_f)
        return t.t().contiguous() if conv else t

    w += [("transformer.wte.weight", r(c["vocab_size"], e, std=1.0)), ("transformer.wpe.weight", r(c["n_positions"], e, std=0.5))]
    for i in range(c["n_layer"]):
        p = f"transformer.h.{i}."
        w += [(p + "ln_1.weight", norm(e)), (p + "ln_1.bias", r(e, std=0.1)),
              (p + "attn.c_attn.weight", lin(qkv, e)), (p + "attn.c_attn.bias", r(qkv, std=0.1)),
              (p + "attn.c_proj.weight", lin(e, e)), (p + "attn.c_proj.bias", r(e, std=0.1)),
              (p + "ln_2.weight", norm(e)), (p + "ln_2.bias", r(e, std=0.1)),
              (p + "mlp.c_fc.weight", lin(f, e)), (p + "mlp.c_fc.bias", r(f, std=0.1)),
              (p + "mlp.c_proj.weight", lin(e, f)), (p + "mlp.c_proj.bias", r(e, std=0.1))]
    w += [("transformer.ln_f.weight", norm(e)), ("transformer.ln_f.bias", r(e, std=0.1))]
    return w


def write(family, out, vocab, seed, dtype, shards, untied, rope_scale, shape=None):
    os.makedirs(out, exist_ok=True)
    c = make_config(family, vocab, untied, rope_scale)
    if shape:
        c.update(SHAPES[shape])
    c["_seed"] = seed
    w = make_weights(family, c)
    torch_dtype, name = DTYPES[dtype]
    c["torch_dtype"] = {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}[dtype]
    json.dump(c, open(os.path.join(out, "config.json"), "w"), indent=2)
    w = [(n, t.to(torch_dtype)) for n, t in w]
    if shards <= 1:
        save_safetensors(os.path.join(out, "model.safetensors"), w, name)
        return
    per = math.ceil(len(w) / shards)
    weight_map = {}
    for s in range(shards):
        fname = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        part = w[s * per:(s + 1) * per]
        save_safetensors(os.path.join(out, fname), part, name)
        weight_map.update({n: fname for n, _ in part})
    json.dump({"metadata": {}, "weight_map": weight_map}, open(os.path.join(out, "model.safetensors.index.json"), "w"), indent=2)


# ---------- reference forward ----------

def layer_norm(x, w, b, eps):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps)


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def rope(q, k, theta, scale, d):
    t = q.shape[2]
    inv_freq = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
    pos = torch.arange(t, dtype=torch.float32) / scale
    freqs = torch.outer(pos, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]
    return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


def attend(q, k, v, h, kv):
    # q [1, h, T, d], k/v [1, kv, T, d]: repeat_kv as transformers does, then causal softmax attention
    if kv != h:
        k = k.repeat_interleave(h // kv, dim=1)
        v = v.repeat_interleave(h // kv, dim=1)
    t, d = q.shape[2], q.shape[3]
    att = (q @ k.transpose(-1, -2)) / math.sqrt(d)
    att = att.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf"))
    return torch.softmax(att, dim=-1) @ v


def split_heads(x, n, d):
    return x.view(1, x.shape[1], n, d).transpose(1, 2)


def merge_heads(y):
    return y.transpose(1, 2).reshape(1, y.shape[2], -1)


def apply_adapter(w, adapter):
    # PEFT's LoRA formula, read from its files: W += (lora_alpha / r) * B @ A (transposed for fan_in_fan_out layers),
    # and modules_to_save tensors replace the base's.
    cfg = json.load(open(os.path.join(adapter, "adapter_config.json")))
    scale = cfg["lora_alpha"] / cfg["r"]
    tensors = load_safetensors(os.path.join(adapter, "adapter_model.safetensors"))
    prefix = "base_model.model."
    for name, t in tensors.items():
        assert name.startswith(prefix), name
        name = name[len(prefix):]
        if name.endswith(".lora_A.weight"):
            module = name[: -len(".lora_A.weight")]
            delta = scale * (tensors[prefix + module + ".lora_B.weight"] @ t)
            w[module + ".weight"] = w[module + ".weight"] + (delta.t() if cfg.get("fan_in_fan_out") else delta)
        elif not name.endswith(".lora_B.weight"):
            w[name] = t


def forward(d, ids, adapter=None):
    c = json.load(open(os.path.join(d, "config.json")))
    w = load_dir(d)
    if adapter:
        apply_adapter(w, adapter)
    fam = c["model_type"]
    x_ids = torch.tensor([ids])
    if fam in ("llama", "mistral", "qwen2", "starcoder2"):
        e, h = c["hidden_size"], c["num_attention_heads"]
        kv = c.get("num_key_value_heads", h)
        hd = c.get("head_dim") or e // h
        scale = (c.get("rope_scaling") or {}).get("factor", 1.0)
        sc2 = fam == "starcoder2"
        eps = c["norm_epsilon"] if sc2 else c["rms_norm_eps"]

        def norm(x, p):
            return layer_norm(x, w[p + ".weight"], w[p + ".bias"], eps) if sc2 else rms_norm(x, w[p + ".weight"], eps)

        def lin(x, p):
            b = w.get(p + ".bias")
            return torch.nn.functional.linear(x, w[p + ".weight"], b)

        x = w["model.embed_tokens.weight"][x_ids]
        for i in range(c["num_hidden_layers"]):
            p = f"model.layers.{i}."
            a = norm(x, p + "input_layernorm")
            q = split_heads(lin(a, p + "self_attn.q_proj"), h, hd)
            k = split_heads(lin(a, p + "self_attn.k_proj"), kv, hd)
            v = split_heads(lin(a, p + "self_attn.v_proj"), kv, hd)
            q, k = rope(q, k, c.get("rope_theta", 10000.0), scale, hd)
            x = x + lin(merge_heads(attend(q, k, v, h, kv)), p + "self_attn.o_proj")
            m = norm(x, p + "post_attention_layernorm")
            if sc2:
                m = lin(torch.nn.functional.gelu(lin(m, p + "mlp.c_fc"), approximate="tanh"), p + "mlp.c_proj")
            else:
                m = lin(torch.nn.functional.silu(lin(m, p + "mlp.gate_proj")) * lin(m, p + "mlp.up_proj"), p + "mlp.down_proj")
            x = x + m
        x = norm(x, "model.norm")
        head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
        return (x @ head.t())[0]
    e, h = c["n_embd"], c["n_head"]
    hd = e // h
    eps = c["layer_norm_epsilon"]
    conv = fam == "gpt2"
    mq = fam == "gpt_bigcode" and c.get("multi_query", True)

    def lin(x, p):
        wt = w[p + ".weight"]
        return x @ wt + w[p + ".bias"] if conv else torch.nn.functional.linear(x, wt, w[p + ".bias"])

    t = len(ids)
    x = w["transformer.wte.weight"][x_ids] + w["transformer.wpe.weight"][torch.arange(t)][None]
    for i in range(c["n_layer"]):
        p = f"transformer.h.{i}."
        a = layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = lin(a, p + "attn.c_attn")
        if mq:
            q, k, v = qkv.split((e, hd, hd), dim=-1)
            q, k, v = split_heads(q, h, hd), split_heads(k, 1, hd), split_heads(v, 1, hd)
            y = attend(q, k, v, h, 1)
        else:
            q, k, v = qkv.split(e, dim=-1)
            y = attend(split_heads(q, h, hd), split_heads(k, h, hd), split_heads(v, h, hd), h, h)
        x = x + lin(merge_heads(y), p + "attn.c_proj")
        m = layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        x = x + lin(torch.nn.functional.gelu(lin(m, p + "mlp.c_fc"), approximate="tanh"), p + "mlp.c_proj")
    x = layer_norm(x, w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], eps)
    return (x @ w["transformer.wte.weight"].t())[0]


def read_ids(path):
    return [int(s) for s in open(path).read().split()]


def main(argv):
    torch.set_num_threads(1)
    cmd = argv[0]
    if cmd == "write":
        fam, out, vocab = argv[1], argv[2], int(argv[3])
        opts = argv[4:]

        def opt(name, default):
            return opts[opts.index(name) + 1] if name in opts else default

        write(fam, out, vocab, int(opt("--seed", "1")), opt("--dtype", "f32"), int(opt("--shards", "1")),
              "--untied" in opts, float(opt("--rope-scale", "1")), opt("--shape", None))
    elif cmd == "forward":
        adapter = argv[argv.index("--adapter") + 1] if "--adapter" in argv else None
        with torch.no_grad():
            logits = forward(argv[1], read_ids(argv[2]), adapter).float().contiguous()
        open(argv[3], "wb").write(logits.numpy().tobytes())
    elif cmd == "greedy":
        ids, n = read_ids(argv[2]), int(argv[3])
        out = []
        with torch.no_grad():
            for _ in range(n):
                nxt = int(forward(argv[1], ids + out)[-1].argmax())
                out.append(nxt)
        open(argv[4], "w").write(" ".join(map(str, out)))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
