#!/usr/bin/env python3
"""bench_torch.py: the peer of bench_train_gpu: the same network (Figure 2:
conv2/4/5 in two groups, LRN after conv1 and conv2 with PyTorch's alpha, which
divides by n like our default, 224 crops, pad 2) trained with SGD (momentum
0.9, weight decay 0.0005) on random data, in PyTorch on the same GPU.

Prints one line per configuration, "key=value" pairs like bench_train_gpu:
  torch mode=eager precision=bf16 batch=128 images_per_s=... peak_mib=...
fp32: TF32 off; tf32: TF32 on (matmul and cuDNN); bf16: autocast to bfloat16
with channels_last. torch.compile runs for the configurations in --compile.
Not a test; needs torch with CUDA (only on the GPU machine).
"""
import argparse
import sys
import time


def build_alexnet(nn, classes):
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4, padding=2), nn.ReLU(inplace=True),
        nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(inplace=True),
        nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2), nn.Flatten(),
        nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, classes))


def bench(torch, precision, batch, mode, steps, warmup):
    nn = torch.nn
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    torch.backends.cudnn.allow_tf32 = precision == "tf32"
    torch.backends.cudnn.benchmark = True
    model = build_alexnet(nn, 1000).cuda()
    channels_last = precision == "bf16"
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=0.0005)
    x = torch.randn(batch, 3, 224, 224, device="cuda")
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (batch,), device="cuda")
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    run = torch.compile(step) if mode == "compile" else step
    for _ in range(warmup):
        run()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for _ in range(steps):
        run()
    torch.cuda.synchronize()
    seconds = (time.perf_counter() - t0) / steps
    peak = torch.cuda.max_memory_allocated() / 2**20
    print(f"torch mode={mode} precision={precision} batch={batch} images_per_s={batch / seconds:.1f} "
          f"step_ms={seconds * 1e3:.2f} peak_mib={peak:.0f}", flush=True)
    del model, opt, x, y
    torch.cuda.empty_cache()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batches", default="128,256")
    p.add_argument("--precisions", default="fp32,tf32,bf16")
    p.add_argument("--compile", default="tf32:128,bf16:128",
                   help="precision:batch pairs also run under torch.compile ('' for none)")
    a = p.parse_args()
    try:
        import torch
    except ImportError:
        print("bench_torch: no torch here", file=sys.stderr)
        return 1
    if not torch.cuda.is_available():
        print("bench_torch: torch sees no CUDA device", file=sys.stderr)
        return 1
    print(f"torch version={torch.__version__} device={torch.cuda.get_device_name(0).replace(' ', '_')}")
    for precision in a.precisions.split(","):
        for batch in a.batches.split(","):
            bench(torch, precision, int(batch), "eager", a.steps, a.warmup)
    for pair in filter(None, a.compile.split(",")):
        precision, batch = pair.split(":")
        try:
            bench(torch, precision, int(batch), "compile", a.steps, a.warmup)
        except Exception as e:  # torch.compile needs a working triton/compiler on the machine
            print(f"torch mode=compile precision={precision} batch={batch} error={type(e).__name__}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
