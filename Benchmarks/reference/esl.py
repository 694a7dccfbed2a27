"""PyTorch CPU reference for ESL scoring, as the reference implementation does it: render every grid rotation
(dense separable Gaussians with bmm), filter every rendering by every image's CTF, take the MSE against each
image, and project −Q^η·L/γ onto the simplex. B = 32 images, Q = 14,761 rotations (a super-Fibonacci grid of
that size), N = 214 atoms, D = 64. Median of 3 runs after 1 warm-up; prints one JSON object.
"""
import json
import math
import sys

import torch

from forward_model import ctf_filters, project
from timing import median_ms

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
torch.manual_seed(11)


def super_fibonacci(n):
    s = torch.arange(n, dtype=torch.float64) + 0.5
    r, big = torch.sqrt(s / n), torch.sqrt(1 - s / n)
    alpha, beta = 2 * math.pi * s / math.sqrt(2), 2 * math.pi * s / 1.533751168755204288118041
    w, x, y, z = r * torch.sin(alpha), r * torch.cos(alpha), big * torch.sin(beta), big * torch.cos(beta)
    return torch.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], dim=1).reshape(n, 3, 3).float()


def simplex(v):
    u, _ = torch.sort(v, dim=1, descending=True)
    css = torch.cumsum(u, dim=1) - 1
    k = torch.arange(1, v.shape[1] + 1, dtype=v.dtype)
    rho = (u - css / k > 0).sum(dim=1, keepdim=True)
    tau = css.gather(1, rho - 1) / rho
    return torch.clamp(v - tau, min=0)


def main():
    batch, atoms, size, q_count, eta, j0 = 32, 214, 64, 14761, 2 / 3, 15
    coords = torch.randn(1, atoms, 3) * 12
    grid = super_fibonacci(q_count)
    images = torch.randn(batch, size, size)
    filters = ctf_filters(batch, size, 2.0)                       # [B, D, D/2+1]

    def score():
        losses = []
        with torch.no_grad():
            for start in range(0, q_count, 512):
                rot = grid[start:start + 512]
                proj = project(coords.expand(rot.shape[0], -1, -1), rot, size, 2.0, 1.5)          # [C, D, D]
                spectra = torch.fft.rfft2(proj)                                                 # [C, D, D/2+1]
                rendered = torch.fft.irfft2(spectra[None] * filters[:, None], s=(size, size))   # [B, C, D, D]
                losses.append(((rendered - images[:, None]) ** 2).mean(dim=(2, 3)))
            l = torch.cat(losses, dim=1)                                                        # [B, Q]
            j = min(int(j0 * q_count ** ((2 - 3 * eta) / 5)), q_count - 1)
            smallest, _ = torch.topk(l, j, dim=1, largest=False)
            gamma = 0.5 * j0 * q_count ** ((2 + 2 * eta) / 5) * (smallest[:, -1:] - smallest.mean(dim=1, keepdim=True)) + 1e-9
            return simplex(-q_count ** eta * l / gamma)

    print(json.dumps({"esl_score_B32_Q14761_N214_D64_ms": median_ms(score, repeats=3, warmup=1)}))


if __name__ == "__main__":
    main()
