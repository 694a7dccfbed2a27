"""PyTorch CPU reference for one GNN message layer and one autodecoder training step, the same computations as
cryobench's `training` case: message layers m = SiLU(h_src·A + h_dst·B + rbf·C + b), h ← h + Σ_dst m·W + b on a
k = 8 nearest-neighbour graph (hidden 64, batch 32, node-major [N, B, H]); the step adds latent 8, 4 layers,
the dense Gaussian projector (bmm), the CTF (rfft2), the MSE, bond and clash regularisers, and Adam.
Prints one JSON object of medians in milliseconds.
"""
import json
import math
import sys

import torch

from forward_model import ctf_filters, project, random_rotations
from timing import median_ms

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
torch.manual_seed(13)


def knn_edges(x, k):
    d = torch.cdist(x, x)
    d.fill_diagonal_(float("inf"))
    nearest = d.topk(k, largest=False).indices            # [N, k]
    dst = torch.arange(x.shape[0]).repeat_interleave(k)
    return nearest.reshape(-1), dst


class Decoder(torch.nn.Module):
    def __init__(self, template, layers, hidden=64, latent=8):
        super().__init__()
        n = template.shape[0]
        self.src, self.dst = knn_edges(template, 8)
        d = (template[self.src] - template[self.dst]).norm(dim=-1, keepdim=True)
        centres = torch.arange(16) * 1.2 + 2
        self.register_buffer("rbf", torch.exp(-(d - centres) ** 2 / 4.5)[:, None, :])
        self.n = n
        self.input = torch.nn.Linear(latent, hidden)
        self.embed = torch.nn.Parameter(torch.randn(n, 1, hidden) * 0.1)
        self.a = torch.nn.ParameterList([torch.nn.Parameter(torch.randn(hidden, hidden) * 0.1) for _ in range(layers)])
        self.b = torch.nn.ParameterList([torch.nn.Parameter(torch.randn(hidden, hidden) * 0.1) for _ in range(layers)])
        self.e = torch.nn.ModuleList([torch.nn.Linear(16, hidden) for _ in range(layers)])
        self.u = torch.nn.ModuleList([torch.nn.Linear(hidden, hidden) for _ in range(layers)])
        self.out = torch.nn.Linear(hidden, 3)

    def forward(self, z):
        h = torch.nn.functional.silu(self.input(z) + self.embed)                     # [N, B, H]
        for a, b, e, u in zip(self.a, self.b, self.e, self.u):
            m = torch.nn.functional.silu((h @ a)[self.src] + (h @ b)[self.dst] + e(self.rbf))
            h = h + u(torch.zeros_like(h).index_add_(0, self.dst, m))
        return self.out(h).permute(1, 0, 2)                                          # [B, N, 3]


def main():
    figures = {}
    for n in (214, 2000):
        template = torch.randn(n, 3) * (25 if n > 500 else 12)
        layer = Decoder(template, layers=1)
        z = torch.randn(32, 8)

        def layer_step():
            layer.zero_grad()
            layer(z).pow(2).sum().backward()
        figures[f"gnn_layer_fwd_bwd_B32_N{n}_H64_K8_ms"] = median_ms(layer_step)

    template = torch.randn(214, 3) * 12
    decoder = Decoder(template, layers=4)
    latents = torch.nn.Parameter(torch.randn(32, 8) * 0.1)
    targets = torch.randn(32, 64, 64)
    rotations = random_rotations(32)
    filters = ctf_filters(32, 64, 2.0)
    bonds = (template[1:] - template[:-1]).norm(dim=-1)
    optimiser = torch.optim.Adam(list(decoder.parameters()) + [latents], lr=1e-3)

    def train_step():
        optimiser.zero_grad()
        x = decoder(latents) + template
        images = torch.fft.irfft2(torch.fft.rfft2(project(x, rotations, 64, 2.0, 1.5)) * filters, s=(64, 64))
        bond = ((x[:, 1:] - x[:, :-1]).norm(dim=-1) - bonds).pow(2).mean()
        d = torch.cdist(x, x)
        mask = torch.triu(torch.ones(214, 214, dtype=torch.bool), diagonal=3)
        clash = torch.relu(4.0 - d[:, mask]).pow(2).sum() / 32
        loss = (images - targets).pow(2).mean() + 5e-4 * bond + 1e-2 * clash
        loss.backward()
        optimiser.step()
    figures["train_step_B32_N214_H64_L4_D64_ms"] = median_ms(train_step)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
