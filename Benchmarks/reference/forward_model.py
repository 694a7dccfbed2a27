"""PyTorch CPU reference for CryoScript's forward-model benchmarks (same sizes, same loss, same thread count).

Projector: dense separable Gaussian evaluation as the PyTorch cryo-EM tools do it — rotate with bmm, evaluate
each atom's 1D Gaussians on the full pixel grid ([B,N,D] per axis), and combine them with one bmm per batch
([B,D,N] @ [B,N,D] → [B,D,D]). CTF: rfft2, multiply by the per-image CTF, irfft2. Both timed forward+backward
of sum(images**2), median of 9 runs after 2 warm-ups. Prints one JSON object.
"""
import json
import math
import sys

import torch

from timing import median_ms

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
torch.manual_seed(5)


def random_rotations(n):
    q = torch.randn(n, 4)
    q = q / q.norm(dim=1, keepdim=True)
    w, x, y, z = q.unbind(1)
    return torch.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], dim=1).reshape(n, 3, 3)


def project(coords, rotations, size, pixel, sigma):
    rotated = torch.bmm(coords, rotations.transpose(1, 2))           # [B,N,3]
    grid = (torch.arange(size, dtype=torch.float32) - size // 2) * pixel
    gx = torch.exp(-(grid[None, None, :] - rotated[..., 0:1]) ** 2 / (2 * sigma ** 2))  # [B,N,D]
    gy = torch.exp(-(grid[None, None, :] - rotated[..., 1:2]) ** 2 / (2 * sigma ** 2))
    scale = pixel * pixel / (2 * math.pi * sigma ** 2)
    return scale * torch.bmm(gy.transpose(1, 2), gx)                  # [B,D,D]


def ctf_filters(batch, size, pixel):
    lam = 12.2643 / math.sqrt(300e3 * (1 + 0.978466e-6 * 300e3))
    fy = torch.fft.fftfreq(size, d=pixel)
    fx = torch.fft.rfftfreq(size, d=pixel)
    s2 = fy[:, None] ** 2 + fx[None, :] ** 2
    defocus = 10000 + 15000 * torch.rand(batch)
    gamma = math.pi * lam * defocus[:, None, None] * s2 - 0.5 * math.pi * 2.7e7 * lam ** 3 * s2 ** 2
    w = 0.1
    return math.sqrt(1 - w * w) * torch.sin(gamma) + w * torch.cos(gamma)


def main():
    figures = {}
    batch = 64
    for atoms in (214, 856):
        for size in (64, 128):
            coords = (torch.randn(batch, atoms, 3) * 12).requires_grad_()
            rotations = random_rotations(batch)
            pixel = 128 / size

            def step():
                coords.grad = None
                project(coords, rotations, size, pixel, 1.5).pow(2).sum().backward()
            figures[f"projector_fwd_bwd_B64_N{atoms}_D{size}_ms"] = median_ms(step)
    images = torch.randn(batch, 128, 128).requires_grad_()
    filters = ctf_filters(batch, 128, 1.0)

    def ctf_step():
        images.grad = None
        torch.fft.irfft2(torch.fft.rfft2(images) * filters, s=(128, 128)).pow(2).sum().backward()
    figures["ctf_fwd_bwd_B64_D128_ms"] = median_ms(ctf_step)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
