"""The PyTorch twin of the CodeLm trainer, for benchmarks: the same GPT (tied embeddings, pre-norm LayerNorm without
bias, learned positions, exact GELU, no biases), AdamW(0.9, 0.95, wd 0.1 on >=2-D params), linear warmup + cosine,
global-norm clipping at 1.0, trained on the exact micro-batches the TorchSharp trainer consumed (batches.bin) from the
same initial weights (init.safetensors). Attention goes through scaled_dot_product_attention where torch has it (2.0+);
Debian's python3-torch 1.13 does not, so there it is the explicit masked softmax. --device cuda --bf16 runs under
bf16 autocast (fp32 weights, as the trainer's fp32 master + bf16 compute) with TF32 on; --compile adds torch.compile."""
import argparse, contextlib, json, math, struct, time
import torch
import torch.nn.functional as F


def load_safetensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        assert info["dtype"] == "F32"
        out[name] = torch.frombuffer(bytearray(data[8 + n + a:8 + n + b]), dtype=torch.float32).reshape(info["shape"]).clone()
    return out


class Gpt(torch.nn.Module):
    def __init__(self, cfg, weights):
        super().__init__()
        self.cfg = cfg
        self.p = torch.nn.ParameterDict({k.replace(".", "__"): torch.nn.Parameter(v) for k, v in weights.items()})

    def w(self, name):
        return self.p[name.replace(".", "__")]

    def forward(self, idx):
        c = self.cfg
        b, t = idx.shape
        e, nh = c["embedding"], c["heads"]
        hd = e // nh
        x = self.w("wte.weight")[idx] + self.w("wpe.weight")[:t]
        sdpa = getattr(F, "scaled_dot_product_attention", None)
        mask = None if sdpa else torch.ones(t, t, dtype=torch.bool, device=idx.device).tril()
        for i in range(c["layers"]):
            h = F.layer_norm(x, (e,), self.w(f"h.{i}.ln_1.weight"), None, c["layer_norm_epsilon"])
            q, k, v = F.linear(h, self.w(f"h.{i}.attn.c_attn.weight")).split(e, dim=2)
            q, k, v = (z.view(b, t, nh, hd).transpose(1, 2) for z in (q, k, v))
            if sdpa:
                y = sdpa(q, k, v, is_causal=True)
            else:
                att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
                y = att.masked_fill(~mask, float("-inf")).softmax(-1) @ v
            y = y.transpose(1, 2).contiguous().view(b, t, e)
            x = x + F.linear(y, self.w(f"h.{i}.attn.c_proj.weight"))
            h = F.layer_norm(x, (e,), self.w(f"h.{i}.ln_2.weight"), None, c["layer_norm_epsilon"])
            x = x + F.linear(F.gelu(F.linear(h, self.w(f"h.{i}.mlp.c_fc.weight"))), self.w(f"h.{i}.mlp.c_proj.weight"))
        x = F.layer_norm(x, (e,), self.w("ln_f.weight"), None, c["layer_norm_epsilon"])
        return F.linear(x, self.w("wte.weight"))

    def loss(self, x, y):
        logits = self(x)
        return F.cross_entropy(logits.view(-1, logits.size(-1)).float(), y.reshape(-1))


def lr_at(step, a):
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    if step >= a.steps:
        return a.min_lr
    progress = (step - a.warmup) / max(1, a.steps - a.warmup)
    return a.min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (a.lr - a.min_lr)


def windows(path, batch, seq):
    raw = torch.frombuffer(bytearray(open(path, "rb").read()), dtype=torch.int32).to(torch.int64)
    return raw.view(-1, batch, seq + 1)


def main():
    ap = argparse.ArgumentParser()
    for name, typ in [("--dir", str), ("--batch", int), ("--seq", int), ("--steps", int), ("--eval-batches", int), ("--lr", float),
                      ("--min-lr", float), ("--warmup", int), ("--threads", int), ("--out", str)]:
        ap.add_argument(name, type=typ, required=True)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--compile", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    cfg = json.load(open(f"{a.dir}/config.json"))
    model = Gpt(cfg, load_safetensors(f"{a.dir}/init.safetensors")).to(dev)
    if a.compile and not hasattr(torch, "compile"):
        raise SystemExit(f"--compile needs PyTorch 2.0 or newer; this is {torch.__version__}")
    loss_fn = torch.compile(model.loss) if a.compile else model.loss
    autocast = (lambda: torch.autocast(device_type=dev.type, dtype=torch.bfloat16)) if a.bf16 else contextlib.nullcontext
    named = [(k.replace("__", "."), p) for k, p in model.p.items()]
    groups = [{"params": [p for _, p in named if p.dim() >= 2], "weight_decay": 0.1},
              {"params": [p for _, p in named if p.dim() < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=a.lr, betas=(0.9, 0.95), eps=1e-8)
    train = windows(f"{a.dir}/batches.bin", a.batch, a.seq)
    assert train.shape[0] >= a.steps, f"only {train.shape[0]} batches recorded"
    losses, step_s = [], []
    for step in range(a.steps):
        t0 = time.perf_counter()
        for g in opt.param_groups:
            g["lr"] = lr_at(step, a)
        opt.zero_grad(set_to_none=True)
        w = train[step].to(dev)
        with autocast():
            loss = loss_fn(w[:, :-1], w[:, 1:])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())  # .item() waits for the step; sync() covers devices where it might not
        sync()
        step_s.append(time.perf_counter() - t0)
    val = windows(f"{a.dir}/val.bin", a.batch, a.seq)[:a.eval_batches]
    with torch.no_grad(), autocast():
        val_loss = sum(model.loss(w[:, :-1].to(dev), w[:, 1:].to(dev)).item() for w in val) / len(val)
    json.dump({"losses": losses, "step_s": step_s, "val_loss": val_loss, "torch": torch.__version__,
               "threads": torch.get_num_threads(), "device": str(dev), "bf16": a.bf16, "compile": a.compile}, open(a.out, "w"))


if __name__ == "__main__":
    main()
