"""Independent check of `codelm export`: parse model.safetensors by hand (8-byte header length, JSON header, raw
little-endian tensors), build the GPT-2 forward pass described by config.json with plain torch ops, and write the
logits for the given token ids as raw float32.  Usage: hf_gpt2_reader.py EXPORT_DIR TOKENS_TXT OUT_BIN"""
import json, math, struct, sys
import torch

DTYPES = {"F32": torch.float32, "F64": torch.float64, "BF16": torch.bfloat16, "F16": torch.float16, "I64": torch.int64}


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        buf = bytearray(data[base + start:base + end])
        out[name] = torch.frombuffer(buf, dtype=DTYPES[info["dtype"]]).reshape(info["shape"]).clone()
    return out


def forward(cfg, w, ids):
    t = ids.shape[1]
    e, nh = cfg["n_embd"], cfg["n_head"]
    hd = e // nh
    eps = cfg["layer_norm_epsilon"]
    assert cfg["activation_function"] == "gelu"
    x = w["transformer.wte.weight"][ids] + w["transformer.wpe.weight"][torch.arange(t)]
    mask = torch.tril(torch.ones(t, t, dtype=torch.bool))
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        h = torch.nn.functional.layer_norm(x, (e,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]  # Conv1D: [in, out]
        q, k, v = qkv.split(e, dim=2)
        q, k, v = (z.view(1, t, nh, hd).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(1, t, e)
        x = x + y @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        h = torch.nn.functional.layer_norm(x, (e,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        m = torch.nn.functional.gelu(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        x = x + m @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    x = torch.nn.functional.layer_norm(x, (e,), w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], eps)
    return x @ w["transformer.wte.weight"].t()  # tied head


def main():
    export_dir, tokens_path, out_path = sys.argv[1:4]
    cfg = json.load(open(f"{export_dir}/config.json"))
    assert cfg["model_type"] == "gpt2" and cfg["tie_word_embeddings"]
    w = load_safetensors(f"{export_dir}/model.safetensors")
    ids = torch.tensor([[int(s) for s in open(tokens_path).read().split()]])
    with torch.no_grad():
        logits = forward(cfg, w, ids)
    with open(out_path, "wb") as f:
        f.write(logits.contiguous().float().numpy().tobytes())
    print(f"ok {tuple(logits.shape)} torch {torch.__version__}")


if __name__ == "__main__":
    main()
