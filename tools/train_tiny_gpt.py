"""Train the tiny character-level GPT whose weights ship with the course (issue 13's capstone).

    pip install -e '.[train]'            # PyTorch, a development-only extra
    python tools/train_tiny_gpt.py       # ~3 minutes on 2 CPU cores; writes exercises/tiny_gpt/weights.npz
                                         # and tests/content/data/tiny_gpt_check_logits.npz
    python tools/tiny_gpt_showcase.py    # then: the reference's continuations the check shows

The text is the prose of lesson 3 (content/lesson-3/lesson.yaml: summary, objectives,
section titles, markdown blocks, table captions and rows, figure and code captions, key
terms), read with yaml.safe_load. The vocabulary is every character of that text.

The model is a GPT-2-style decoder-only Transformer, written out by hand so that it
follows the course's exercise chain line for line (exercises/tiny_gpt/reference.py is its
numpy twin; docs/tiny_gpt.md documents the model):

    x = tok_emb[tokens] + pos_emb[:seq]                        learned positions
    for each block:  x = x + attn(ln1(x));  x = x + mlp(ln2(x))   pre-LN
    logits = ln_f(x) @ tok_emb.T                               tied LM head

- LayerNorm: eps 1e-5, biased variance, scale `gamma` and shift `beta`.
- attention: causal; n_heads heads of d_head = d_model / n_heads; scores scaled by
  1/sqrt(d_head); separate W_q, W_k, W_v, W_o of shape (d_model, d_model) with biases.
  Heads are contiguous column slices: head h uses columns h*d_head:(h+1)*d_head of q, k, v.
- MLP: gelu(x @ W_1 + b_1) @ W_2 + b_2 with GELU's **tanh approximation**
  0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as GPT-2 uses.
- Every weight matrix is stored (d_in, d_out) and applied as x @ W + b (not torch's (out, in)).

weights.npz (np.load(path, allow_pickle=False) gives everything; V = vocab_size,
T = context, D = d_model, F = d_ff, i = 0 .. n_layers-1):

    tok_emb                 float32 (V, D)   token embeddings; also the LM head (tied)
    pos_emb                 float32 (T, D)   learned position embeddings
    blocks.{i}.ln1.gamma    float32 (D,)     LayerNorm before attention
    blocks.{i}.ln1.beta     float32 (D,)
    blocks.{i}.attn.W_q     float32 (D, D)   and attn.b_q float32 (D,)
    blocks.{i}.attn.W_k     float32 (D, D)   and attn.b_k float32 (D,)
    blocks.{i}.attn.W_v     float32 (D, D)   and attn.b_v float32 (D,)
    blocks.{i}.attn.W_o     float32 (D, D)   and attn.b_o float32 (D,)
    blocks.{i}.ln2.gamma    float32 (D,)     LayerNorm before the MLP
    blocks.{i}.ln2.beta     float32 (D,)
    blocks.{i}.mlp.W_1      float32 (D, F)   and mlp.b_1 float32 (F,)
    blocks.{i}.mlp.W_2      float32 (F, D)   and mlp.b_2 float32 (D,)
    ln_f.gamma, ln_f.beta   float32 (D,)     the final LayerNorm
    vocab                   int32 (V,)       Unicode code point of each token id
    config.n_layers, config.n_heads, config.d_model, config.d_ff, config.context,
    config.vocab_size       int32 ()         0-d arrays: int(params["config.n_heads"])

tests/content/data/tiny_gpt_check_logits.npz (what tests/content/test_tiny_gpt_weights.py checks the numpy reference against,
computed from the arrays as written to weights.npz, k = 0 .. n_prompts-1):

    prompt.{k}              int32 (n_k,)     token ids
    logits32.{k}            float32 (n_k, V) PyTorch, float32 weights and arithmetic
    logits64.{k}            float64 (n_k, V) PyTorch, the same weights in float64 arithmetic
    generate.prompt         int32 (m,)       a prompt, and PyTorch's float64 greedy
    generate.tokens         int32 (m + n,)   continuation (window = the last `context` tokens)
"""
from __future__ import annotations

import argparse
import math
import re
import sys
import time
from pathlib import Path

import numpy as np
import yaml

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover - the message is the point
    sys.exit("train_tiny_gpt needs PyTorch, a development-only extra: pip install -e '.[train]'")

ROOT = Path(__file__).resolve().parent.parent
LESSON = ROOT / "content" / "lesson-3" / "lesson.yaml"
OUT = ROOT / "exercises" / "tiny_gpt"  # weights.npz: the exercise's data file
CHECKS = ROOT / "tests" / "content" / "data" / "tiny_gpt_check_logits.npz"  # for the tests only: not shipped
LN_EPS = 1e-5
MAX_BYTES = 2_000_000  # "at most 2 MB" for weights.npz


# --------------------------------------------------------------------------- the text


def _unwrap(markdown: str) -> str:
    """Join the hard-wrapped lines of each paragraph; keep list items and headings on their own lines."""
    paragraphs = []
    for paragraph in re.split(r"\n\s*\n", markdown.strip()):
        lines: list[str] = []
        for line in paragraph.splitlines():
            line = line.strip()
            starts_item = re.match(r"(- |\d+\. |#+ )", line)
            if lines and not starts_item:
                lines[-1] += " " + line
            else:
                lines.append(line)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def lesson_text(path: Path = LESSON) -> str:
    """All the prose of a lesson file, in reading order, as one string."""
    lesson = yaml.safe_load(path.read_text(encoding="utf-8"))
    parts = [f"# {lesson['title']}", lesson.get("summary", "")]
    parts.append("\n".join(f"- {objective}" for objective in lesson.get("objectives", [])))
    figures = {figure["id"]: figure for figure in lesson.get("figures", [])}
    for section in lesson["sections"]:
        parts.append(f"## {section['title']}")
        for block in section["blocks"]:
            if "markdown" in block:
                parts.append(block["markdown"])
            elif "table" in block:
                table = block["table"]
                parts.append(table.get("caption", ""))
                parts += [", ".join(str(cell) for cell in row) + "." for row in table["rows"]]
            elif "code" in block:
                parts.append(block["code"].get("caption", ""))
            elif "figure" in block:
                figure = figures.get(block["figure"], {})
                parts += [figure.get("title", ""), figure.get("caption", "")]
    parts += [f"{term['term']}: {term['definition']}" for term in lesson.get("key_terms", [])]
    return "\n\n".join(_unwrap(str(part)) for part in parts if part) + "\n"


# --------------------------------------------------------------------------- the model


class TinyGPT(torch.nn.Module):
    """The architecture of the module docstring, parameters named and shaped as in weights.npz."""

    def __init__(self, vocab_size: int, context: int, n_layers: int, d_model: int, n_heads: int, d_ff: int):
        super().__init__()
        assert d_model % n_heads == 0, "d_model must be a multiple of n_heads"
        self.config = dict(n_layers=n_layers, n_heads=n_heads, d_model=d_model, d_ff=d_ff,
                           context=context, vocab_size=vocab_size)
        std, std_out = 0.02, 0.02 / math.sqrt(2 * n_layers)  # GPT-2: residual projections scaled down
        shapes: dict[str, tuple[tuple[int, ...], float | str]] = {
            "tok_emb": ((vocab_size, d_model), std),
            "pos_emb": ((context, d_model), 0.01),
        }
        for i in range(n_layers):
            p = f"blocks.{i}."
            for ln in ("ln1", "ln2"):
                shapes[p + ln + ".gamma"] = ((d_model,), "ones")
                shapes[p + ln + ".beta"] = ((d_model,), "zeros")
            for name in "qkvo":
                shapes[p + f"attn.W_{name}"] = ((d_model, d_model), std_out if name == "o" else std)
                shapes[p + f"attn.b_{name}"] = ((d_model,), "zeros")
            shapes[p + "mlp.W_1"] = ((d_model, d_ff), std)
            shapes[p + "mlp.b_1"] = ((d_ff,), "zeros")
            shapes[p + "mlp.W_2"] = ((d_ff, d_model), std_out)
            shapes[p + "mlp.b_2"] = ((d_model,), "zeros")
        shapes["ln_f.gamma"] = ((d_model,), "ones")
        shapes["ln_f.beta"] = ((d_model,), "zeros")
        # nn.ParameterDict keys may not contain dots: store under "_"-names, map back on export
        self.names = list(shapes)
        self.params = torch.nn.ParameterDict()
        for name, (shape, init) in shapes.items():
            if init == "ones":
                value = torch.ones(shape)
            elif init == "zeros":
                value = torch.zeros(shape)
            else:
                value = torch.randn(shape) * init
            self.params[name.replace(".", "_")] = torch.nn.Parameter(value)

    def p(self, name: str) -> torch.Tensor:
        return self.params[name.replace(".", "_")]

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (batch, seq) -> logits (batch, seq, vocab)."""
        c = self.config
        seq = tokens.shape[-1]
        x = self.p("tok_emb")[tokens] + self.p("pos_emb")[:seq]
        allowed = torch.ones(seq, seq, dtype=torch.bool, device=tokens.device).tril()
        for i in range(c["n_layers"]):
            p = f"blocks.{i}."
            x = x + self._attention(self._ln(x, p + "ln1"), p + "attn.", allowed)
            h = self._ln(x, p + "ln2")
            h = F.gelu(h @ self.p(p + "mlp.W_1") + self.p(p + "mlp.b_1"), approximate="tanh")
            x = x + h @ self.p(p + "mlp.W_2") + self.p(p + "mlp.b_2")
        x = self._ln(x, "ln_f")
        return x @ self.p("tok_emb").T

    def _ln(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return F.layer_norm(x, (x.shape[-1],), self.p(name + ".gamma"), self.p(name + ".beta"), eps=LN_EPS)

    def _attention(self, x: torch.Tensor, p: str, allowed: torch.Tensor) -> torch.Tensor:
        *batch, seq, d_model = x.shape
        n_heads = self.config["n_heads"]
        d_head = d_model // n_heads

        def heads(name: str) -> torch.Tensor:  # (..., seq, d_model) -> (..., n_heads, seq, d_head)
            y = x @ self.p(p + f"W_{name}") + self.p(p + f"b_{name}")
            return y.reshape(*batch, seq, n_heads, d_head).transpose(-3, -2)

        q, k, v = heads("q"), heads("k"), heads("v")
        scores = q @ k.transpose(-1, -2) / math.sqrt(d_head)
        weights = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)
        y = (weights @ v).transpose(-3, -2).reshape(*batch, seq, d_model)
        return y @ self.p(p + "W_o") + self.p(p + "b_o")


# --------------------------------------------------------------------------- export


def export_arrays(model: TinyGPT, vocab: list[str]) -> dict[str, np.ndarray]:
    """weights.npz's arrays: float32 parameters under their dotted names, the vocabulary, the config."""
    arrays = {name: model.p(name).detach().to(torch.float32).numpy().copy() for name in model.names}
    arrays["vocab"] = np.array([ord(ch) for ch in vocab], dtype=np.int32)
    for key, value in model.config.items():
        arrays[f"config.{key}"] = np.array(value, dtype=np.int32)
    return arrays


def model_from_arrays(arrays: dict[str, np.ndarray], dtype: torch.dtype) -> TinyGPT:
    """A TinyGPT holding exactly the arrays of weights.npz, in the given precision."""
    config = {key.split(".", 1)[1]: int(value) for key, value in arrays.items() if key.startswith("config.")}
    model = TinyGPT(**config)
    with torch.no_grad():
        for name in model.names:
            model.p(name).copy_(torch.from_numpy(arrays[name]))
    return model.to(dtype).eval()


@torch.no_grad()
def greedy(model: TinyGPT, prompt: list[int], n_new: int) -> list[int]:
    """Greedy decoding with a sliding window of the last `context` tokens (as exercises/tiny_gpt/feedback.py)."""
    tokens = list(prompt)
    context = model.config["context"]
    for _ in range(n_new):
        logits = model(torch.tensor([tokens[-context:]]))[0, -1]
        tokens.append(int(torch.argmax(logits)))
    return tokens


# --------------------------------------------------------------------------- training


def train(args: argparse.Namespace, text: str) -> dict[str, np.ndarray]:
    """Train on `text` as the arguments say, printing the loss curve; weights.npz's arrays."""
    vocab = sorted(set(text))
    index = {ch: i for i, ch in enumerate(vocab)}
    data = torch.tensor([index[ch] for ch in text], dtype=torch.long)
    n_val = int(len(data) * args.val_fraction)
    train_data, val = data[: len(data) - n_val], data[len(data) - n_val:]
    counts = np.bincount(train_data.numpy(), minlength=len(vocab)) + 1e-12
    freq = counts / counts.sum()
    unigram = float(-(freq * np.log(freq)).sum())
    print(f"text: {len(text):,} characters ({len(train_data):,} train, {len(val):,} held out), "
          f"vocabulary {len(vocab)}; unigram entropy {unigram:.3f} nats/char")

    model = TinyGPT(len(vocab), args.context, args.n_layers, args.d_model, args.n_heads, 4 * args.d_model)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {args.n_layers} layers, d_model {args.d_model}, {args.n_heads} heads, d_ff {4 * args.d_model}, "
          f"context {args.context}: {n_params:,} parameters ({n_params * 4 / 2**20:.2f} MiB as float32)")
    if n_params * 4 > MAX_BYTES:
        sys.exit(f"too large: {n_params * 4:,} bytes of weights, the limit is {MAX_BYTES:,}")

    decay = [p for p in model.params.values() if p.ndim == 2]
    no_decay = [p for p in model.params.values() if p.ndim != 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=args.lr, betas=(0.9, 0.99))
    warmup = max(1, args.steps // 20)

    def lr_at(step: int) -> float:
        if step < warmup:
            return args.lr * (step + 1) / warmup
        progress = (step - warmup) / max(1, args.steps - warmup)
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))

    sampler = torch.Generator().manual_seed(args.seed)

    def batch(source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        starts = torch.randint(len(source) - args.context - 1, (args.batch,), generator=sampler)
        x = torch.stack([source[s: s + args.context] for s in starts])
        y = torch.stack([source[s + 1: s + args.context + 1] for s in starts])
        return x, y

    @torch.no_grad()
    def held_out_loss() -> float:
        """Mean loss over the held-out text, in windows of `context` characters."""
        model.eval()
        starts = range(0, len(val) - args.context - 1, args.context)
        x = torch.stack([val[s: s + args.context] for s in starts])
        y = torch.stack([val[s + 1: s + args.context + 1] for s in starts])
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        model.train()
        return float(loss)

    start, running = time.perf_counter(), []
    log_every = max(1, args.steps // 15)
    print("  step   train loss   held-out loss   seconds")
    for step in range(args.steps):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step)
        x, y = batch(train_data)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        running.append(loss.item())
        if (step + 1) % log_every == 0 or step + 1 == args.steps:
            print(f"{step + 1:6d}   {np.mean(running):10.3f}   {held_out_loss():13.3f}   {time.perf_counter() - start:7.0f}",
                  flush=True)
            running = []
    print(f"trained in {time.perf_counter() - start:.0f} s; unigram entropy {unigram:.3f} nats/char for comparison")
    return export_arrays(model.eval(), vocab)


def check_arrays(arrays: dict[str, np.ndarray], text: str) -> dict[str, np.ndarray]:
    """check_logits.npz's arrays: PyTorch's logits and greedy tokens, from weights.npz's own arrays."""
    vocab = [chr(code) for code in arrays["vocab"]]
    index = {ch: i for i, ch in enumerate(vocab)}
    context = int(arrays["config.context"])
    shipped32 = model_from_arrays(arrays, torch.float32)
    shipped64 = model_from_arrays(arrays, torch.float64)
    # fixed prompts: short, medium, one token, and a full window from the held-out end of the text
    prompts = ["The attention weights", text[1000:1040], "Q", text[-1000: -1000 + context]]
    checks: dict[str, np.ndarray] = {}
    with torch.no_grad():
        for k, prompt in enumerate(prompts):
            tokens = torch.tensor([[index[ch] for ch in prompt]])
            checks[f"prompt.{k}"] = tokens[0].numpy().astype(np.int32)
            checks[f"logits32.{k}"] = shipped32(tokens)[0].numpy().astype(np.float32)
            checks[f"logits64.{k}"] = shipped64(tokens)[0].numpy().astype(np.float64)
    # greedy decoding from a prompt just short of the context, so that the window slides
    prompt = [index[ch] for ch in text[2000: 2000 + context - 4]]
    checks["generate.prompt"] = np.array(prompt, dtype=np.int32)
    checks["generate.tokens"] = np.array(greedy(shipped64, prompt, 10), dtype=np.int32)
    return checks


def print_samples(arrays: dict[str, np.ndarray], prompts=("The Transformer", "Attention"), n_new: int = 300) -> None:
    """Greedy continuations of a few prompts by the shipped model."""
    vocab = [chr(code) for code in arrays["vocab"]]
    model = model_from_arrays(arrays, torch.float32)
    for prompt in prompts:
        tokens = greedy(model, [vocab.index(ch) for ch in prompt], n_new)
        print(f"\ngreedy sample from {prompt!r}:\n" + "".join(vocab[t] for t in tokens))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--n-layers", type=int, default=3)
    ap.add_argument("--d-model", type=int, default=96)
    ap.add_argument("--n-heads", type=int, default=4)
    ap.add_argument("--context", type=int, default=128)
    ap.add_argument("--val-fraction", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=OUT, help="the folder for weights.npz")
    ap.add_argument("--checks", type=Path, default=CHECKS, help="the file for the check logits")
    ap.add_argument("--dry-run", action="store_true", help="train and report, write nothing")
    ap.add_argument("--checks-only", action="store_true",
                    help="no training: rewrite the check logits (and print samples) from the existing weights.npz")
    args = ap.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    text = lesson_text()
    if args.checks_only:
        with np.load(args.out / "weights.npz", allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    else:
        arrays = train(args, text)
    print_samples(arrays)
    checks = check_arrays(arrays, text)
    if args.dry_run:
        return
    args.out.mkdir(parents=True, exist_ok=True)
    args.checks.parent.mkdir(parents=True, exist_ok=True)
    if not args.checks_only:
        np.savez(args.out / "weights.npz", **arrays)
    np.savez_compressed(args.checks, **checks)
    for path in (args.out / "weights.npz", args.checks):
        print(f"{path}: {path.stat().st_size:,} bytes")
    if not args.checks_only and args.out == OUT:
        print("now run tools/tiny_gpt_showcase.py: the reference's continuations depend on the weights")


if __name__ == "__main__":
    main()
