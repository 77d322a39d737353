"""The MNIST GAN of the tutorials (seeds 000 and 003, the improved version: LeakyReLU(0.02), LayerNorm, BCE,
Adam 1e-4), written as they write it: one image at a time from a pandas DataFrame, each network carrying its
own loss, optimiser and progress list, the loss recorded with .item() every 10 calls.

    python -m bench.tutorial_loop [--samples N] [--warmup N]

Prints one JSON line: the images trained per second (wall time of the loop after the warm-up images).
The DataFrame is the embedded MNIST laid out as the tutorials' mnist_train.csv (label, then 784 pixels).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import pandas
import torch
from torch import nn


class MnistDataset:
    def __init__(self, data):
        self.data = data  # the tutorial: pandas.read_csv(csv_file, header=None)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        label = self.data.iloc[index, 0]
        target = torch.zeros(10)
        target[label] = 1.0
        image_values = torch.FloatTensor(self.data.iloc[index, 1:].values) / 255.0
        return label, image_values, target


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(
            nn.Linear(784, 200),
            nn.LeakyReLU(0.02),
            nn.LayerNorm(200),
            nn.Linear(200, 1),
            nn.Sigmoid(),
        )
        self.loss_function = nn.BCELoss()
        self.optimiser = torch.optim.Adam(self.parameters(), lr=0.0001)
        self.counter = 0
        self.progress = []

    def forward(self, inputs):
        return self.model(inputs)

    def train(self, inputs, targets):
        outputs = self.forward(inputs)
        loss = self.loss_function(outputs, targets)
        self.counter += 1
        if self.counter % 10 == 0:
            self.progress.append(loss.item())
        if self.counter % 10000 == 0:
            print("counter = ", self.counter)
        self.optimiser.zero_grad()
        loss.backward()
        self.optimiser.step()


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(
            nn.Linear(100, 200),
            nn.LeakyReLU(0.02),
            nn.LayerNorm(200),
            nn.Linear(200, 784),
            nn.Sigmoid(),
        )
        self.optimiser = torch.optim.Adam(self.parameters(), lr=0.0001)
        self.counter = 0
        self.progress = []

    def forward(self, inputs):
        return self.model(inputs)

    def train(self, D, inputs, targets):
        g_output = self.forward(inputs)
        d_output = D.forward(g_output)
        loss = D.loss_function(d_output, targets)
        self.counter += 1
        if self.counter % 10 == 0:
            self.progress.append(loss.item())
        self.optimiser.zero_grad()
        loss.backward()
        self.optimiser.step()


def generate_random_seed(size):
    return torch.randn(size)


def mnist_frame() -> pandas.DataFrame:
    """The embedded MNIST as the tutorials' CSV has it: one row per image, the label first."""
    from gantui.engine.data import load_dataset

    source = load_dataset("mnist", None)
    pixels = source.samples.reshape(len(source.samples), 784).numpy()
    frame = pandas.DataFrame(pixels.astype("int64"), columns=range(1, 785))
    frame.insert(0, 0, source.labels.numpy())
    return frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000, help="images timed (default 2000)")
    parser.add_argument("--warmup", type=int, default=200, help="images before the clock starts (default 200)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
    torch.manual_seed(0)
    mnist_dataset = MnistDataset(mnist_frame())
    D, G = Discriminator(), Generator()
    seen, start = 0, 0.0
    for label, image_data_tensor, target_tensor in mnist_dataset:  # noqa: B007 (the tutorial's loop)
        if seen == args.warmup:
            start = time.perf_counter()
        if seen == args.warmup + args.samples:
            break
        D.train(image_data_tensor, torch.FloatTensor([1.0]))
        D.train(G.forward(generate_random_seed(100)).detach(), torch.FloatTensor([0.0]))
        G.train(D, generate_random_seed(100), torch.FloatTensor([1.0]))
        seen += 1
    seconds = time.perf_counter() - start
    print(json.dumps({"samples_per_s": args.samples / seconds, "samples": args.samples, "seconds": seconds}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
