#!/usr/bin/env python3
"""bench_torch.py: the PyTorch peer of bench_train_gpu: the same network
(scripts/alexnet_torch.py, the project's one PyTorch model: Figure 2, width
1.0) trained with SGD (momentum 0.9, weight decay 0.0005) on a random batch
that lives on the GPU, reading nothing back (no loss.item()): the work of
bench_train_gpu's device-resident row. cudnn.benchmark on, channels_last.

Prints one line per configuration, "key=value" pairs like bench_train_gpu:
  torch mode=eager precision=bf16 computes=bf16-conv+bf16-fc batch=128 images_per_s=... peak_mib=...
fp32: TF32 off; tf32: TF32 on (matmul and cuDNN); bf16: autocast to
bfloat16 (AMP: convolutions and GEMMs in bf16, fp32 weights). torch.compile
runs for the precisions in --compile; "same:LOG" picks the cheapest one at
which bench_train_gpu's output LOG computes what PyTorch computes (so the
compiled peer is the same work as our row). Not a test; needs torch with CUDA.
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# alexnet_torch.py: beside this file where installed, scripts/ in the source tree.
sys.path[:0] = [HERE, os.path.join(HERE, "..", "..", "scripts")]

# What each precision computes, in bench_train_gpu's words (backend_precision_computes).
COMPUTES = {"fp32": "fp32-conv+fp32-fc", "tf32": "tf32-conv+tf32-fc", "bf16": "bf16-conv+bf16-fc"}


def bench(torch, AlexNet, precision, batch, classes, mode, steps, warmup):
    torch.backends.cuda.matmul.allow_tf32 = precision != "fp32"
    torch.backends.cudnn.allow_tf32 = precision != "fp32"
    torch.backends.cudnn.benchmark = True
    model = AlexNet(width=1.0, num_classes=classes).cuda().to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=0.0005)
    x = torch.randn(batch, 3, 224, 224, device="cuda").to(memory_format=torch.channels_last)
    y = torch.randint(0, classes, (batch,), device="cuda")
    loss_fn = torch.nn.CrossEntropyLoss()

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
    print(f"torch mode={mode} precision={precision} computes={COMPUTES[precision]} batch={batch} classes={classes} "
          f"images_per_s={batch / seconds:.1f} step_ms={seconds * 1e3:.2f} peak_mib={peak:.0f}", flush=True)
    del model, opt, x, y
    torch.cuda.empty_cache()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--classes", type=int, default=1000)
    p.add_argument("--precisions", default="fp32,tf32,bf16")
    p.add_argument("--compile", default="bf16",
                   help="precisions also run under torch.compile ('' for none), or same:LOG (above)")
    a = p.parse_args()
    if a.compile.startswith("same:"):
        ours = {}
        for line in open(a.compile[5:]) if os.path.exists(a.compile[5:]) else []:
            kv = dict(w.split("=", 1) for w in line.split()[1:] if "=" in w) if line.startswith("ours ") else {}
            ours[kv.get("precision")] = kv.get("computes")
        a.compile = next((prec for prec in ("bf16", "tf32", "fp32") if ours.get(prec) == COMPUTES[prec]), "bf16")
    try:
        import torch
        from alexnet_torch import AlexNet
    except ImportError as e:
        print(f"bench_torch: no torch here ({e})", file=sys.stderr)
        return 1
    if not torch.cuda.is_available():
        print("bench_torch: torch sees no CUDA device", file=sys.stderr)
        return 1
    print(f"torch version={torch.__version__} cudnn={torch.backends.cudnn.version()} "
          f"device={torch.cuda.get_device_name(0).replace(' ', '_')}", flush=True)
    for precision in filter(None, a.precisions.split(",")):
        bench(torch, AlexNet, precision, a.batch, a.classes, "eager", a.steps, a.warmup)
    for precision in filter(None, a.compile.split(",")):
        try:
            bench(torch, AlexNet, precision, a.batch, a.classes, "compile", a.steps, a.warmup)
        except Exception as e:  # torch.compile needs a working triton and C compiler on the machine
            print(f"torch mode=compile precision={precision} batch={a.batch} error={type(e).__name__}:"
                  f"{str(e).splitlines()[0][:100].replace(' ', '_') if str(e) else ''}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
