"""The thesis VAE in a bare PyTorch loop, as a process: the reference of the train.py command row.

``python scripts/bench/bare_vae.py --data <csv> --epochs 200`` trains what ``train.py
experiment=thesis model=vae`` trains, written the way a careful PyTorch user would write it without
kinsynth or Lightning: one torch thread, the training rows as one tensor, each epoch's batches by
indexing it with a seeded permutation, fused Adam (lr 1e-4, weight decay 1e-2), no validation, no
checkpoints, no logger. The model and loss are the thesis's: 19 raw features, encoder and decoder
with one hidden layer of 15 (ReLU), latent 11, decoder output through ReLU, squared error summed
over the features plus the KL, both averaged over the batch.

``--notebook`` trains the same model the way the thesis notebook does instead: a ``DataLoader``
over all the rows (shuffled, batch 64) and the default (unfused) Adam: the reference a user of
the notebook would compare kinsynth with.

It imports only torch, numpy and the standard library, so its wall-clock is the least a process
that trains this model can take. It prints one JSON line: the steps, the loop's wall and CPU seconds
(first step to last) and the seconds from the interpreter's start to the loop's start.
"""

from __future__ import annotations

import argparse
import csv
import json
import time

STARTED = time.perf_counter()

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402


def read_features(path: str, target: str) -> np.ndarray:
    """Every column except the target and the unnamed index-like first one, as float32."""
    with open(path, newline="") as handle:
        header = next(csv.reader(handle))
    keep = [i for i, name in enumerate(header) if name and name != target]
    return np.loadtxt(path, delimiter=",", skiprows=1, usecols=keep, dtype=np.float32)


def train_rows(table: np.ndarray, seed: int, split: tuple[float, float] = (0.1, 0.1)) -> np.ndarray:
    """The seeded split's training rows: as many as kinsynth's 80/10/10 split keeps."""
    n = len(table)
    n_train = n - round(n * split[0]) - round(n * split[1])
    return table[np.random.default_rng(seed).permutation(n)[:n_train]]


class ThesisVAE(nn.Module):
    """Encoder and decoder of one hidden layer each; the decoder's output is clipped at zero."""

    def __init__(self, features: int, hidden: int = 15, latent: int = 11) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent)
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, features)
        )

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        mu, log_var = self.encoder(x).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * log_var)
        recon = (x - torch.relu(self.decoder(z))).pow(2).sum(dim=1).mean()
        kl = 0.5 * (mu.pow(2) + log_var.exp() - 1.0 - log_var).sum(dim=1).mean()
        return recon + kl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--target", default="Product_I")
    parser.add_argument("--epochs", type=int, default=400)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--notebook", action="store_true",
                        help="the thesis notebook's loop: a DataLoader over all rows, default Adam")
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    table = read_features(args.data, args.target)
    x = torch.from_numpy(table if args.notebook else train_rows(table, args.seed))
    model = ThesisVAE(x.shape[1])
    generator = torch.Generator().manual_seed(args.seed)
    if args.notebook:
        from torch.utils.data import DataLoader, TensorDataset

        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-2)
        loader = DataLoader(TensorDataset(x), batch_size=args.batch_size, shuffle=True,
                            generator=generator)
        epoch_batches = lambda: (batch for (batch,) in loader)  # noqa: E731
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-2, fused=True)
        epoch_batches = lambda: (x[index] for index in torch.split(  # noqa: E731
            torch.randperm(len(x), generator=generator), args.batch_size))
    steps = 0
    loop_started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(args.epochs):
        for batch in epoch_batches():
            loss = model.loss(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            steps += 1
    loop_seconds = time.perf_counter() - loop_started
    loop_cpu_seconds = time.process_time() - cpu_started
    if not torch.isfinite(loss):
        raise SystemExit(f"bare loop: the loss became {loss.item()}")
    print(json.dumps({"steps": steps, "loop_seconds": loop_seconds,
                      "loop_cpu_seconds": loop_cpu_seconds,
                      "setup_seconds": loop_started - STARTED}))


if __name__ == "__main__":
    main()
