#!/usr/bin/env python3
"""read_events.py: reads a run's TensorBoard event files with TensorBoard's
own reader (EventAccumulator) and compares them with the run's metrics.csv
row for row (tests/train/test_train_events.sh).

    read_events.py compare RUN              every row of RUN/metrics.csv, and the config text
    read_events.py steps RUN                prints the largest step of any scalar (no check)
    read_events.py cut RUN FILE SEED COUNT  COUNT copies of FILE cut at random bytes: each reads
                                            as exactly the rows of its whole records
    read_events.py eval RUN                 metrics.csv's rows, and alexnet-eval's scores
                                            (RUN/eval/report.json) and figures at the checkpoint's step

Exit status 0 when everything matches, 1 with a message otherwise."""
import csv
import json
import os
import random
import struct
import sys
import tempfile

from tensorboard.backend.event_processing import event_accumulator
from tensorboard.util import tensor_util

# metrics.csv column -> the scalar's tag suffix; the rate is drawn once, from the training rows
COLUMNS = ("loss", "top1_error", "top5_error", "images_per_s")
# the half-unit of the last digit metrics.csv prints (%.6f, %.1f; lr %.9g: relative)
PRINTED = {"loss": 0.5e-6, "top1_error": 0.5e-6, "top5_error": 0.5e-6, "images_per_s": 0.05}


def load(path):
    acc = event_accumulator.EventAccumulator(
        path, size_guidance={event_accumulator.SCALARS: 0, event_accumulator.TENSORS: 0,
                             event_accumulator.IMAGES: 0})
    acc.Reload()
    return acc


def scalars(acc):
    """{tag: [(step, value)]} sorted by step."""
    return {tag: sorted((e.step, e.value) for e in acc.Scalars(tag)) for tag in acc.Tags()["scalars"]}


def expected(rows):
    """{tag: [(step, value)]} as the event file should hold them, from metrics.csv rows."""
    want = {}
    for r in rows:
        step = int(r["step"])
        for c in COLUMNS:
            want.setdefault(f"{r['split']}/{c}", []).append((step, float(r[c]), PRINTED[c]))
        if r["split"] == "train":
            want.setdefault("learning_rate", []).append((step, float(r["lr"]), 5e-9 * float(r["lr"])))
    return want


def compare(got, want, where):
    """Every tag, step and value; a value may differ from the printed one by
    the printing's rounding plus float32's (simple_value is a float)."""
    if set(got) != set(want):
        raise SystemExit(f"{where}: tags {sorted(got)}, metrics.csv has {sorted(want)}")
    for tag, rows in want.items():
        steps = [s for s, _ in got[tag]]
        if len(set(steps)) != len(steps):
            raise SystemExit(f"{where}: {tag} has duplicate steps {steps}")
        if steps != [s for s, _, _ in rows]:
            raise SystemExit(f"{where}: {tag} at steps {steps}, metrics.csv at {[s for s, _, _ in rows]}")
        for (step, value), (_, csv_value, printed) in zip(got[tag], rows):
            if abs(value - csv_value) > printed + abs(csv_value) * 2.0 ** -24:
                raise SystemExit(f"{where}: {tag} at step {step} is {value!r}, metrics.csv says {csv_value!r}")


def read_rows(run):
    with open(os.path.join(run, "metrics.csv"), newline="") as f:
        return list(csv.DictReader(f))


def config_text(acc):
    if "config" not in acc.Tags()["tensors"]:
        return None
    events = acc.Tensors("config")
    if [e.step for e in events] != [0]:
        raise SystemExit(f"the config text is at steps {[e.step for e in events]}, not once at step 0")
    return tensor_util.make_ndarray(events[0].tensor_proto).item().decode()


def cmd_compare(run):
    rows = read_rows(run)
    acc = load(run)
    compare(scalars(acc), expected(rows), run)
    # the run's settings at its start (a resume rewrites config.json with "resumed": true)
    with open(os.path.join(run, "config.json")) as f:
        config = json.load(f)
    text = config_text(acc)
    if text is None or not (text.startswith("```json\n") and text.endswith("```")):
        raise SystemExit(f"{run}: no config text as a markdown code block: {text!r}")
    start = json.loads(text[len("```json\n"):-len("```")])
    for section in ("dataset", "network", "training"):
        if start[section] != config[section]:
            raise SystemExit(f"{run}: the config text's {section} is {start[section]}, config.json's {config[section]}")
    files = sorted(n for n in os.listdir(run) if n.startswith("events.out.tfevents."))
    print(f"{run}: {len(files)} event file(s), {len(rows)} rows of metrics.csv, "
          f"{sum(len(v) for v in scalars(acc).values())} scalars: all the same")


def cmd_eval(run):
    with open(os.path.join(run, "eval", "report.json")) as f:
        report = json.load(f)
    acc = load(run)
    got = scalars(acc)
    split, step = report["split"], report["checkpoint_step"]
    scores = {f"{split}/{scheme}_{k}": report[scheme][k]
              for scheme in ("ten_crop", "centre_crop") for k in ("top1_error", "top5_error")}
    for tag, value in scores.items():
        if [s for s, _ in got.get(tag, [])] != [step] or abs(got[tag][0][1] - value) > abs(value) * 2.0 ** -24:
            raise SystemExit(f"{run}: {tag} is {got.get(tag)}, report.json says {value} at step {step}")
    compare({t: v for t, v in got.items() if t not in scores}, expected(read_rows(run)), run)
    figures = {f"{split}/figures/{os.path.splitext(os.path.basename(p))[0]}": p for p in report["figures"]}
    if sorted(acc.Tags()["images"]) != sorted(figures):
        raise SystemExit(f"{run}: images {acc.Tags()['images']}, report.json's figures {report['figures']}")
    for tag, rel in figures.items():
        with open(os.path.join(run, "eval", rel), "rb") as f:
            png = f.read()
        images = acc.Images(tag)
        if [i.step for i in images] != [step] or images[0].encoded_image_string != png:
            raise SystemExit(f"{run}: {tag} is not {rel} at step {step}")
    print(f"{run}: alexnet-eval's 4 scores and {len(figures)} figures at step {step}, and metrics.csv's rows")


def record_ends(data):
    """The end offsets of the whole records at the start of data (framing only)."""
    ends, at = [], 0
    while at + 12 <= len(data):
        (length,) = struct.unpack("<Q", data[at:at + 8])
        if at + 16 + length > len(data):
            break
        at += 16 + length
        ends.append(at)
    return ends


def cmd_cut(run, path, seed, count):
    rows = read_rows(run)
    with open(path, "rb") as f:
        data = f.read()
    ends = record_ends(data)
    if ends[-1] != len(data) or len(ends) != 2 + len(rows):
        raise SystemExit(f"{path}: {len(ends)} records, expected the version, the config and {len(rows)} rows")
    rng = random.Random(seed)
    for _ in range(count):
        cut = rng.randrange(1, len(data))
        whole = sum(1 for e in ends if e <= cut)
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, os.path.basename(path)), "wb") as f:
                f.write(data[:cut])
            acc = load(d)
            where = f"{path} cut at byte {cut} of {len(data)} (seed {seed})"
            compare(scalars(acc), expected(rows[:max(whole - 2, 0)]), where)
            if (config_text(acc) is not None) != (whole >= 2):
                raise SystemExit(f"{where}: the config text is {'missing' if whole >= 2 else 'there'}")
        print(f"cut at byte {cut:5d} of {len(data)}: {whole} whole records, {max(whole - 2, 0)} rows read")


def main():
    cmd = sys.argv[1]
    if cmd == "compare":
        cmd_compare(sys.argv[2])
    elif cmd == "steps":
        print(max((s for v in scalars(load(sys.argv[2])).values() for s, _ in v), default=0))
    elif cmd == "eval":
        cmd_eval(sys.argv[2])
    elif cmd == "cut":
        cmd_cut(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        raise SystemExit(f"read_events.py: unknown command {cmd}")


if __name__ == "__main__":
    main()
