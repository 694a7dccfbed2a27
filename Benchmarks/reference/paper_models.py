"""PyTorch CPU reference for cryobench's `paper` case: one training step of the paper's GCN autodecoder and of the
matched MLP, written as a PyTorch user would. Batch 32, N = 214 residues (an alpha-helical synthetic chain; its
graph has peptide edges plus the Calpha-proxy hydrogen bonds CryoScript uses for Calpha-only structures), latent 8,
D = 64 at 2 A/px: decoder -> template + displacement -> dense Gaussian projector -> CTF (rfft2) -> learnable scale
and offset -> squared error summed per image (mean over the batch) + bond and centroid terms -> Adam.
GCN: 10 layers h <- relu(A_hat h W + b) + h of 10 features, A_hat = D^-1/2 (A + 2I) D^-1/2, written (a) as a
dense A_hat einsum and (b) with PyTorch Geometric's GCNConv(improved=True) on the static graph (node_dim -2, the
batch as a leading axis). MLP: 4 hidden layers of width 26 (20,376 parameters against the GCN's 20,465).
Beyond one step (cryobench's `papertrain` case), with the dense GCN: one pose-marginalised (ESL) step, the images'
32 candidate rotations each rendered (B*K = 1,024 images), filtered by rfft2, standardised and correlated with the
standardised image, L = 2 - 2*corr, the ESL measure beta = simplex projection of -Q^eta*L/gamma as esl.py computes it
(Q = 14,761, J = 15), data term D^2 * mean over images of sum(beta*L), differentiated through L and beta, Adam
(median of 5 runs after 1 warm-up); and one whole epoch on 2,000 images with known poses: a latent table, shuffled
batches of 32 (63 steps), then every image's conformation and the bond check (median of 3 runs after 1 warm-up).
Prints one JSON object of medians in milliseconds (21 runs after 3 warm-ups unless said otherwise); the PyG
figure's key ends in "@pyg" (Benchmarks/run.sh compares it with CryoScript's GCN).
"""
import json
import math
import sys

import torch
from torch_geometric.nn import GCNConv

from esl import simplex
from forward_model import ctf_filters, median_ms, project, random_rotations

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
torch.manual_seed(17)
N, B, L, F, LAYERS, D, PIXEL = 214, 32, 8, 10, 10, 64, 2.0


def helix(n):
    """An alpha helix: 1.5 A rise and 100 degrees per residue on a 2.3 A radius (3.8 A between neighbours)."""
    k = torch.arange(n, dtype=torch.float32)
    t = k * math.radians(100)
    x = torch.stack([2.3 * torch.cos(t), 2.3 * torch.sin(t), 1.5 * k - 1.5 * (n - 1) / 2], dim=1)
    return x - x.mean(0)


def residue_edges(x):
    """Peptide edges and Calpha-proxy hydrogen bonds (i -> i+4 under 6.6 A, >= 3 apart under 5.3 A), both ways."""
    d = torch.cdist(x, x)
    i, j = torch.meshgrid(torch.arange(N), torch.arange(N), indexing="ij")
    pairs = (j == i + 1) | ((j == i + 4) & (d < 6.6)) | ((j >= i + 3) & (d < 5.3))
    src, dst = pairs.nonzero(as_tuple=True)
    return torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])


def normalized_adjacency(edge_index):
    a = torch.zeros(N, N)
    a[edge_index[1], edge_index[0]] = 1
    a += 2 * torch.eye(N)
    d = a.sum(1).rsqrt()
    return d[:, None] * a * d[None, :]


class DenseGCN(torch.nn.Module):
    def __init__(self, a_hat):
        super().__init__()
        self.register_buffer("a_hat", a_hat)
        self.first, self.embed = torch.nn.Linear(L, L), torch.nn.Linear(L, N * F)
        self.layers = torch.nn.ModuleList([torch.nn.Linear(F, F) for _ in range(LAYERS)])
        self.out = torch.nn.Linear(F, 3)

    def forward(self, z):
        h = self.embed(torch.relu(self.first(z))).reshape(-1, N, F)
        for layer in self.layers:
            h = torch.relu(layer(torch.einsum("nm,bmf->bnf", self.a_hat, h))) + h
        return self.out(h)


class GeometricGCN(torch.nn.Module):
    def __init__(self, edge_index):
        super().__init__()
        self.register_buffer("edge_index", edge_index)
        self.first, self.embed = torch.nn.Linear(L, L), torch.nn.Linear(L, N * F)
        self.layers = torch.nn.ModuleList([GCNConv(F, F, improved=True) for _ in range(LAYERS)])
        self.out = torch.nn.Linear(F, 3)

    def forward(self, z):
        h = self.embed(torch.relu(self.first(z))).reshape(-1, N, F)
        for layer in self.layers:
            h = torch.relu(layer(h, self.edge_index)) + h
        return self.out(h)


class MLP(torch.nn.Module):
    def __init__(self, width=26, depth=4):
        super().__init__()
        sizes = [L] + [width] * (depth + 1)
        self.hidden = torch.nn.ModuleList([torch.nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])])
        self.out = torch.nn.Linear(width, 3 * N)

    def forward(self, z):
        h = z
        for layer in self.hidden:
            h = torch.relu(layer(h))
        return self.out(h).reshape(-1, N, 3)


def regularisers(x, bonds, centroid):
    """The bond term (summed over bonds) and the centroid drift, both averaged over the batch, as weighted in training."""
    bond = ((x[:, 1:] - x[:, :-1]).norm(dim=-1) - bonds).pow(2).sum(dim=1).mean()
    drift = (x.mean(1) - centroid).pow(2).sum(-1).mean()
    return 5e-4 * bond + 0.01 * drift


def esl_step_ms(model, template, bonds, centroid, k=32, q_count=14761, eta=2 / 3, j0=15):
    """One ESL training step of `model` over k candidate rotations per image (see the module docstring)."""
    latents = torch.nn.Parameter(torch.randn(B, L) * 0.1)
    optimiser = torch.optim.Adam(list(model.parameters()) + [latents], lr=1e-3)
    candidates = random_rotations(B * k)
    filters = ctf_filters(B, D, PIXEL).repeat_interleave(k, dim=0)
    targets = torch.randn(B, D * D)
    y = ((targets - targets.mean(1, keepdim=True)) / targets.std(1, unbiased=False, keepdim=True))[:, None]
    j = min(int(j0 * q_count ** ((2 - 3 * eta) / 5)), q_count - 1, k)

    def step():
        optimiser.zero_grad()
        x = model(latents) + template
        images = torch.fft.irfft2(torch.fft.rfft2(project(x.repeat_interleave(k, dim=0), candidates, D, PIXEL, 1.5)) * filters, s=(D, D))
        r = images.reshape(B, k, D * D)
        r = r - r.mean(-1, keepdim=True)
        l = 2 - 2 * (r * y).sum(-1) / (r.norm(dim=-1) * D + 1e-12)
        smallest, _ = torch.topk(l, j, dim=1, largest=False)
        gamma = 0.5 * j0 * q_count ** ((2 + 2 * eta) / 5) * (smallest[:, -1:] - smallest.mean(dim=1, keepdim=True)) + 1e-9
        beta = simplex(-q_count ** eta * l / gamma)
        loss = D * D * (beta * l).sum(1).mean() + regularisers(x, bonds, centroid)
        loss.backward()
        optimiser.step()
    return median_ms(step, repeats=5, warmup=1)


def epoch_ms(model, template, bonds, centroid, images=2000):
    """One epoch of known-pose training of `model` on `images` images, then every image's conformation and bond check."""
    latents = torch.nn.Parameter(torch.randn(images, L) * 0.1)
    scale, offset = torch.nn.Parameter(torch.ones(())), torch.nn.Parameter(torch.zeros(()))
    optimiser = torch.optim.Adam(list(model.parameters()) + [latents, scale, offset], lr=1e-3)
    rotations, filters, targets = random_rotations(images), ctf_filters(images, D, PIXEL), torch.randn(images, D, D)

    def epoch():
        for picked in torch.randperm(images).split(B):
            optimiser.zero_grad()
            x = model(latents[picked]) + template
            rendered = torch.fft.irfft2(torch.fft.rfft2(project(x, rotations[picked], D, PIXEL, 1.5)) * filters[picked], s=(D, D))
            data = (rendered * scale + offset - targets[picked]).pow(2).sum(dim=(1, 2)).mean()
            loss = data + regularisers(x, bonds, centroid)
            loss.backward()
            optimiser.step()
        with torch.no_grad():
            x = torch.cat([model(z) + template for z in latents.split(256)])
            ((x[:, 1:] - x[:, :-1]).norm(dim=-1) - bonds).pow(2).mean().sqrt().item()
    return median_ms(epoch, repeats=3, warmup=1)


def main():
    template = helix(N)
    edge_index = residue_edges(template)
    bonds = (template[1:] - template[:-1]).norm(dim=-1)
    centroid = template.mean(0)
    rotations = random_rotations(B)
    filters = ctf_filters(B, D, PIXEL)
    targets = torch.randn(B, D, D)
    figures = {}
    models = {"gcn_L10_F10": DenseGCN(normalized_adjacency(edge_index)), "gcn_L10_F10@pyg": GeometricGCN(edge_index),
              "mlp_W26": MLP()}
    for name, model in models.items():
        count = sum(p.numel() for p in model.parameters())
        latents = torch.nn.Parameter(torch.randn(B, L) * 0.1)
        scale, offset = torch.nn.Parameter(torch.ones(())), torch.nn.Parameter(torch.zeros(()))
        optimiser = torch.optim.Adam(list(model.parameters()) + [latents, scale, offset], lr=1e-3)
        picked = torch.arange(B)

        def train_step():
            optimiser.zero_grad()
            x = model(latents[picked]) + template
            images = torch.fft.irfft2(torch.fft.rfft2(project(x, rotations, D, PIXEL, 1.5)) * filters, s=(D, D))
            data = (images * scale + offset - targets).pow(2).sum(dim=(1, 2)).mean()
            loss = data + regularisers(x, bonds, centroid)
            loss.backward()
            optimiser.step()
        case, _, variant = name.partition("@")
        figures[f"paper_{case}_train_step_B32_N214_D64_ms" + (f"@{variant}" if variant else "")] = median_ms(train_step, repeats=21, warmup=3)
        print(f"{name}: {count} parameters, {edge_index.shape[1]} directed edges", file=sys.stderr)
    gcn = DenseGCN(normalized_adjacency(edge_index))
    figures["esl_train_step_B32_K32_N214_D64_ms"] = esl_step_ms(gcn, template, bonds, centroid)
    figures["paper_gcn_L10_F10_epoch_M2000_D64_ms"] = epoch_ms(gcn, template, bonds, centroid)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
