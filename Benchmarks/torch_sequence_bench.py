"""Sequence-model workloads of the Ember-vs-PyTorch benchmark (PyTorch side); the Ember twins
are in Benchmarks/EmberBench/SequenceWorkloads.swift and must stay identical in shape and
algorithm. Called from torch_bench.py.

The GPT here is a plain nanoGPT-layout model (token + position embeddings, pre-norm blocks,
fused q/k/v projection, causal scaled_dot_product_attention, GELU MLP, tied lm_head) with the
same key/value-cache generation loop as Ember's `GPT.generate`.
"""
import time

import torch
from torch import nn
from torch.nn import functional as F


class CausalSelfAttention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.c_attn = nn.Linear(width, 3 * width)
        self.c_proj = nn.Linear(width, width)

    def forward(self, x, cache=None, layer=0):
        b, t, e = x.shape
        h, d = self.heads, e // self.heads
        q, k, v = (m.view(b, t, h, d).transpose(1, 2) for m in self.c_attn(x).split(e, dim=2))
        past = 0
        if cache is not None:
            if cache[layer] is not None:
                pk, pv = cache[layer]
                past = pk.shape[2]
                k, v = torch.cat([pk, k], 2), torch.cat([pv, v], 2)
            cache[layer] = (k, v)
        if past == 0:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # one new token (the generation loop never feeds more after the first step)
            y = F.scaled_dot_product_attention(q, k, v)
        return self.c_proj(y.transpose(1, 2).reshape(b, t, e))


class Block(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = CausalSelfAttention(width, heads)
        self.ln_2 = nn.LayerNorm(width)
        self.c_fc = nn.Linear(width, 4 * width)
        self.c_proj = nn.Linear(4 * width, width)

    def forward(self, x, cache=None, layer=0):
        x = x + self.attn(self.ln_1(x), cache, layer)
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    """Vocabulary 65, 4 layers, 4 heads, width 128, context 64, tied embeddings."""

    def __init__(self, vocab=65, context=64, layers=4, heads=4, width=128):
        super().__init__()
        self.context = context
        self.wte = nn.Embedding(vocab, width)
        self.wpe = nn.Embedding(context, width)
        self.h = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(width)
        self.lm_head = nn.Linear(width, vocab, bias=False)
        self.lm_head.weight = self.wte.weight

    def forward(self, idx, cache=None, last_only=False):
        past = 0 if cache is None or cache[0] is None else cache[0][0].shape[2]
        pos = torch.arange(past, past + idx.shape[1])
        x = self.wte(idx) + self.wpe(pos)
        for i, block in enumerate(self.h):
            x = block(x, cache, i)
        if last_only:  # nanoGPT's inference shortcut: the head on the last position only
            x = x[:, [-1], :]
        return self.lm_head(self.ln_f(x))

    @torch.no_grad()
    def generate(self, prompt, new_tokens, temperature=0.8, top_k=40, generator=None):
        """Ember's `GPT.generate` loop: with a cache, one token per step; once the context
        is full, the last `context` tokens are recomputed and the cache refilled."""
        context = list(prompt)
        cache = [None] * len(self.h)
        for _ in range(new_tokens):
            length = 0 if cache[0] is None else cache[0][0].shape[2]
            if 0 < length < self.context:
                logits = self(torch.tensor([[context[-1]]]), cache, last_only=True)
            else:
                cache = [None] * len(self.h)
                logits = self(torch.tensor([context[-self.context:]]), cache, last_only=True)
            logits = logits[0, -1] / temperature
            values, _ = torch.topk(logits, top_k)
            logits[logits < values[-1]] = -float("inf")
            probs = torch.softmax(logits, dim=-1)
            context.append(int(torch.multinomial(probs, 1, generator=generator)))
        return context[len(prompt):]


class LSTMLanguageModel(nn.Module):
    def __init__(self, vocab=65, embedding=64, hidden=256, layers=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embedding)
        self.lstm = nn.LSTM(embedding, hidden, num_layers=layers, batch_first=True)
        self.lm_head = nn.Linear(hidden, vocab)

    def forward(self, idx):
        out, _ = self.lstm(self.embedding(idx))
        return self.lm_head(out)


def lm_step(model, optim, x, y):
    optim.zero_grad()
    logits = model(x)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    loss.backward()
    optim.step()


def run(wanted, measure, report):
    """Runs the wanted sequence workloads with torch_bench.py's `measure` and `report`."""
    if wanted("gpt_step"):
        model = GPT()
        optim = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
        x, y = torch.randint(0, 65, (16, 64)), torch.randint(0, 65, (16, 64))
        report("gpt_step", measure(lambda: lm_step(model, optim, x, y), rep_seconds=0, budget=3))
    if wanted("lstm_step"):
        model = LSTMLanguageModel()
        optim = torch.optim.AdamW(model.parameters(), lr=1e-3)
        x, y = torch.randint(0, 65, (32, 64)), torch.randint(0, 65, (32, 64))
        report("lstm_step", measure(lambda: lm_step(model, optim, x, y), rep_seconds=0, budget=3))
    if wanted("generate200"):
        model = GPT().eval()
        generator = torch.Generator().manual_seed(0)
        report("generate200", measure(lambda: model.generate([0], 200, generator=generator), rep_seconds=0,
                                      min_reps=5, budget=4, warm_calls=1))


def run_attention_memory(peak_resident_kib, emit):
    """Memory of long-sequence attention: one causal scaled_dot_product_attention over
    [1, 8, 4096, 64] without gradients; the rise of VmHWM during the call and its time
    (the EmberBench twin is `runAttentionMemory`). Meaningful only alone in its process."""
    q, k, v = (torch.randn(1, 8, 4096, 64) for _ in range(3))
    with torch.no_grad():
        before = peak_resident_kib()
        start = time.perf_counter()
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        seconds = time.perf_counter() - start
        emit(workload="attention_memory", peak_rise_kib=peak_resident_kib() - before, vmhwm_kib=peak_resident_kib(),
             seconds=seconds, checksum=float(y.sum()))
