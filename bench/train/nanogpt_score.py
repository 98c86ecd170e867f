"""Scores checkpoints with nanoGPT's own model code: the anchor of `bench/train nanogpt`.

Loads nanoGPT's GPT class from the user's clone (--nanogpt), fills it with either a nanoGPT ckpt.pt or a CodeLm
model.safetensors (the names map one to one: CodeLm's layout follows GPT-2's), and reports the mean next-token loss
over every non-overlapping window of the validation tokens. One scorer for both sides, so the figure compares the
trained weights and nothing else."""
import argparse, json, os, sys
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_loop import load_safetensors  # noqa: E402  (beside this script in the bench output)


def codelm_state(path, layers):
    w = load_safetensors(path)
    state = {"transformer.wte.weight": w["wte.weight"], "transformer.wpe.weight": w["wpe.weight"],
             "transformer.ln_f.weight": w["ln_f.weight"], "lm_head.weight": w["wte.weight"]}
    for i in range(layers):
        for part in ("ln_1.weight", "ln_2.weight", "attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"):
            state[f"transformer.h.{i}.{part}"] = w[f"h.{i}.{part}"]
    return state


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nanogpt", required=True, help="a clone of nanoGPT (its model.py is imported)")
    ap.add_argument("--tokens", required=True, help="validation tokens, uint16")
    ap.add_argument("--block", type=int, default=256)
    ap.add_argument("--vocab", type=int, required=True)
    ap.add_argument("--layers", type=int, required=True)
    ap.add_argument("--heads", type=int, required=True)
    ap.add_argument("--embd", type=int, required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("checkpoints", nargs="+", help="LABEL=PATH, a ckpt.pt or a model.safetensors")
    a = ap.parse_args()
    sys.path.insert(0, a.nanogpt)
    from model import GPT, GPTConfig
    torch.set_num_threads(a.threads)
    tokens = torch.from_numpy(np.fromfile(a.tokens, dtype=np.uint16).astype(np.int64))
    windows = (len(tokens) - 1) // a.block
    results = {}
    for spec in a.checkpoints:
        label, path = spec.split("=", 1)
        model = GPT(GPTConfig(block_size=a.block, vocab_size=a.vocab, n_layer=a.layers, n_head=a.heads, n_embd=a.embd,
                              dropout=0.0, bias=False))
        if path.endswith(".pt"):
            state = torch.load(path, map_location="cpu")["model"]
            state = {k.removeprefix("_orig_mod."): v for k, v in state.items()}
        else:
            state = codelm_state(path, a.layers)
        missing, unexpected = model.load_state_dict(state, strict=False)
        # nanoGPT registers the causal mask as a buffer where it lacks SDPA; nothing else may be missing.
        assert not unexpected and all(m.endswith(".attn.bias") for m in missing), (missing, unexpected)
        model.eval()
        total = 0.0
        with torch.no_grad():
            for i in range(windows):
                w = tokens[i * a.block:i * a.block + a.block + 1]
                _, loss = model(w[:-1].unsqueeze(0), w[1:].unsqueeze(0))
                total += loss.item()
        results[label] = total / windows
    print(json.dumps({"windows": windows, "block": a.block, "torch": torch.__version__, "loss": results}))


if __name__ == "__main__":
    main()
