#!/usr/bin/env python3
"""bench_table.py: one table of the GPU benchmark: our rows against their
named peers, each ratio beside the goal it answers (issue goals, reported,
never asserted; a benchmark is not a test):

  device-resident (bench_train_gpu, cuDNN normal mode) against PyTorch eager
      (bench_torch.py) at the same precision: goal >= 1.3x;
  device-resident against torch.compile at the same precision: goal >= 1.0x;
  end to end (alexnet-train from shards on disk: the median of its
      metrics.csv images/s windows after the first) against device-resident
      at the same precision, cuDNN mode (deterministic, as training runs) and
      class count: goal >= 0.95.

"The same precision" is decided from what each side says it computes
(bench_train_gpu's computes=, from the CUDA backend; bench_torch.py's): a
pair that computes differently gets its ratio and "not the same work", never
a verdict. Missing inputs give "-" rows, so the table always prints.

Usage: bench_table.py --ours LOG --torch LOG [--ours-e2e LOG --e2e-run DIR --e2e-threads N]
"""
import argparse
import csv
import os
import statistics


def rows(path, tag):
    """The key=value lines of a log starting with `tag`, as dicts."""
    out = []
    if path and os.path.exists(path):
        for line in open(path, errors="replace"):
            if line.startswith(tag + " "):
                out.append(dict(w.split("=", 1) for w in line.split()[1:] if "=" in w))
    return out


def e2e_rate(run):
    """Median images/s of the train windows of run/metrics.csv after the first, and their count."""
    try:
        with open(os.path.join(run, "metrics.csv")) as f:
            rates = [float(r["images/s"] if "images/s" in r else r["images_per_s"])
                     for r in csv.DictReader(f) if r.get("split") == "train"]
    except (OSError, KeyError, ValueError):
        return None, 0
    rates = rates[1:]
    return (statistics.median(rates), len(rates)) if rates else (None, 0)


def e2e_precision(run):
    try:
        import json
        with open(os.path.join(run, "config.json")) as f:
            return json.load(f)["execution"]["precision"]
    except (OSError, KeyError, ValueError):
        return None


def verdict(ours, peer, goal):
    if not ours or not peer or "images_per_s" not in ours or "images_per_s" not in peer:
        return "-", "not measured"
    ratio = float(ours["images_per_s"]) / float(peer["images_per_s"])
    if ours.get("computes") != peer.get("computes"):
        return f"{ratio:.2f}x", f"not the same work (ours {ours.get('computes')}, peer {peer.get('computes')})"
    return f"{ratio:.2f}x", f">= {goal}x: {'met' if ratio >= goal else 'NOT met'}"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ours", help="bench_train_gpu --nondeterministic output (device-resident rows)")
    p.add_argument("--torch", help="bench_torch.py output")
    p.add_argument("--ours-e2e", help="bench_train_gpu output at the end-to-end run's precision and classes")
    p.add_argument("--e2e-run", help="the end-to-end alexnet-train run folder (metrics.csv, config.json)")
    p.add_argument("--e2e-threads", default="?")
    a = p.parse_args()
    ours, torch = rows(a.ours, "ours"), rows(a.torch, "torch")
    line = "{:<30} {:<19} {:>9}  {:<36} {:<19} {:>9}  {:>6}  {}"
    print(line.format("ours", "computes", "images/s", "peer", "peer computes", "images/s", "ratio", "goal"))
    for o in ours or [{}]:
        prec = o.get("precision", "-")
        for mode, goal in (("eager", 1.3), ("compile", 1.0)):
            peer = next((t for t in torch if t.get("mode") == mode and t.get("precision") == prec), {})
            if mode == "compile" and not peer:
                continue  # torch.compile runs for the precisions the device check asks for
            ratio, judged = verdict(o, peer, goal)
            if "error" in peer:
                judged = "peer failed: " + peer["error"]
            print(line.format(f"device-resident {prec} ({o.get('mode', '-')})", o.get("computes", "-"),
                              o.get("images_per_s", "-"), f"torch {mode} {prec}", peer.get("computes", "-"),
                              peer.get("images_per_s", "-"), ratio, judged))
    base = (rows(a.ours_e2e, "ours") or [{}])[0]
    rate, windows = e2e_rate(a.e2e_run) if a.e2e_run else (None, 0)
    prec = e2e_precision(a.e2e_run) if a.e2e_run else None
    if rate and base.get("images_per_s") and prec == base.get("precision"):
        frac = rate / float(base["images_per_s"])
        judged = f">= 0.95: {'met' if frac >= 0.95 else 'NOT met'}"
        ratio = f"{frac:.2f}"
    else:
        ratio, judged = "-", f"not measured (e2e {rate or 'missing'} at {prec}, base at {base.get('precision')})"
    print(line.format(f"end to end {prec or '-'} (train)", base.get("computes", "-"), f"{rate:.1f}" if rate else "-",
                      f"device-resident {base.get('precision', '-')} ({base.get('mode', '-')})",
                      base.get("computes", "-"), base.get("images_per_s", "-"), ratio, judged))
    print(f"(batch {ours[0].get('batch', '?') if ours else '?'}, paper width; end to end: alexnet-train from the "
          f"shards on disk, {a.e2e_threads} loader threads, median of {windows} metrics.csv windows after the first, "
          f"{base.get('classes', '?')} classes on both sides)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
