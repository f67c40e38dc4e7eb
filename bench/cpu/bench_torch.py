#!/usr/bin/env python3
"""bench_torch.py: the PyTorch peer of bench_cpu_net: the same network
(scripts/alexnet_torch.py: groups, LRN, dropout 0.5) on the CPU with
the same thread count; one SGD step (forward, loss, backward, momentum and
weight-decay update) at --batch, or inference at --batch. Prints the same
`key value` lines as bench_cpu_net."""
import argparse
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from alexnet_torch import AlexNet  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", choices=["train", "infer"], default="train")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = AlexNet(1.0, 1000, "divided_by_n", dropout=0.5)
    x = torch.randn(args.batch, 3, 224, 224) * 50
    y = torch.randint(0, 1000, (args.batch,))
    train = args.mode == "train"
    model.train(train)
    opt = torch.optim.SGD(model.parameters(), lr=1e-5, momentum=0.9, weight_decay=0.0005)
    loss_fn = torch.nn.CrossEntropyLoss()
    times = []
    for step in range(args.steps + 1):  # step 0 warms up
        t0 = time.perf_counter()
        if train:
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x), y).backward()
            opt.step()
        else:
            with torch.no_grad():
                model(x)
        if step > 0:
            times.append(time.perf_counter() - t0)
    mean, best = sum(times) / len(times), min(times)
    macs = 724406816
    flop = 2.0 * macs * (3.0 if train else 1.0) * args.batch
    print(f"mode {args.mode}\nbatch {args.batch}\nthreads {torch.get_num_threads()}\n"
          f"torch {torch.__version__}\n"
          f"seconds_per_batch_mean {mean:.4f}\nseconds_per_batch_best {best:.4f}\n"
          f"images_per_s {args.batch / mean:.2f}\nimages_per_s_best {args.batch / best:.2f}\n"
          f"gflops {flop / mean * 1e-9:.1f}\n"
          f"peak_rss_mib {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


if __name__ == "__main__":
    main()
