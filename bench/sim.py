#!/usr/bin/env python3
"""Simulation speed (make bench): the rows of issue 14's table, measured in one run on this machine.

Every stream is an .agt file (built-in workloads converted once, a Python program recorded once
with agilesim's recorder), so every rate includes decoding, as in real use: records per second of
wall time, the best of --repeat runs. Rows with caches on are measured with 1, 2 and all threads.
With --before OLD_AGILESIM the same rows are measured with another binary in the same run (rows it
cannot run, such as --threads, are skipped) and the ratio is printed. Writes bench/results.json
(or --out). This script only measures; it never fails on a rate.

Usage: sim.py BUILD_DIR [--before OLD_AGILESIM] [--before-bench OLD_AGS_BENCH] [--repeat N] [--out FILE]"""
import argparse, json, os, platform, resource, subprocess, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("build")
ap.add_argument("--before")
ap.add_argument("--before-bench", help="the ags_bench of the other build: decode-only rows get a before column")
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.json"))
a = ap.parse_args()
B = os.path.join(a.build, "agilesim")
BENCH = os.path.join(a.build, "ags_bench")
DATA = os.path.join(a.build, "bench-data")
os.makedirs(DATA, exist_ok=True)
cores = os.cpu_count() or 1


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw).stdout


def prepare():
    inputs = {}
    for name, args in (("gups", ["gups", "--accesses", "8M"]), ("mixed", ["mixed", "--accesses", "4M"])):
        p = os.path.join(DATA, name + ".agt")
        if not os.path.exists(p):
            sh(B, "convert", *args, p + ".tmp", "--quiet")
            os.rename(p + ".tmp", p)
        inputs[name] = p
    p = os.path.join(DATA, "python.agt.zst")
    script = os.path.join(DATA, "script.py")
    with open(script, "w") as f:
        f.write("d = {}\nfor i in range(2500):\n    d[str(i * 7919 % 100003)] = [i] * 4\n"
                "s = sorted(d.items())[:10]\nprint(len(d), s[0][0])\n")
    if not os.path.exists(p):
        py = os.path.realpath(sys.executable)
        try:
            sh(B, "record", "--quiet", "-o", p + ".tmp", "--", py, script)
            os.rename(p + ".tmp", p)
        except (subprocess.CalledProcessError, OSError) as e:
            print("bench: the python3 recording failed (is valgrind installed? make deps): %s" % e, file=sys.stderr)
            return inputs
    inputs["python"] = p
    return inputs


def records(path, bench=BENCH, threads=None):
    n, secs = sh(bench, "decode", path, *([str(threads)] if threads else [])).split()
    return int(n), float(secs)


def timed(runs):
    """runs: [(binary, args)]; each is run --repeat times, interleaved (ABAB...) so that the
    machine's drift hits them alike; the best time of each, or (None, error)."""
    best = [None] * len(runs)
    err = [None] * len(runs)
    for _ in range(a.repeat):
        for i, (binary, args) in enumerate(runs):
            if err[i]:
                continue
            t0 = time.monotonic()
            r = subprocess.run([binary] + args + ["--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
            t = time.monotonic() - t0
            if r.returncode != 0:
                err[i] = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "exit %d" % r.returncode
                best[i] = None
            else:
                best[i] = t if best[i] is None else min(best[i], t)
    return list(zip(best, err))


inputs = prepare()
counts = {k: records(v)[0] for k, v in inputs.items()}
rows = []
thread_sets = sorted({1, 2, cores})


def row(name, stream, args, threads=None):
    for t in (thread_sets if threads else [None]):
        targs = list(args) + (["--threads", str(t)] if t else [])
        r = {"row": name, "stream": stream, "threads": t, "records": counts[stream]}
        # the other binary runs the same arguments, --threads included (a binary older than
        # --threads fails those rows, and they show no ratio)
        with_before = bool(a.before)
        res = timed([(B, targs)] + ([(a.before, targs)] if with_before else []))
        (secs, err) = res[0]
        r["seconds"], r["error"] = secs, err
        r["rate_M"] = counts[stream] / secs / 1e6 if secs else None
        if with_before:
            bs = res[1][0]
            r["before_seconds"] = bs
            r["before_rate_M"] = counts[stream] / bs / 1e6 if bs else None
        rows.append(r)


# decode only; a compressed stream also with its decompression thread (ags_reader_set_threads),
# whose "before" is the other ags_bench's reader on one thread
for stream, threads in (("gups", None), ("python", None), ("python", 2)):
    if stream in inputs:
        benches = [BENCH] + ([a.before_bench] if a.before_bench else [])
        secs = [[] for _ in benches]
        for _ in range(a.repeat):  # interleaved, as timed() does
            for i, b in enumerate(benches):
                secs[i].append(records(inputs[stream], b, threads if i == 0 else None)[1])
        best = min(secs[0])
        r = {"row": ".agt decode only" + (" (zstd)" if inputs[stream].endswith(".zst") else " (plain)"),
             "stream": stream, "threads": threads, "records": counts[stream], "seconds": best,
             "rate_M": counts[stream] / best / 1e6, "error": None}
        if a.before_bench:
            r["before_seconds"] = min(secs[1])
            r["before_rate_M"] = counts[stream] / min(secs[1]) / 1e6
        rows.append(r)
if "python" in inputs:
    p = inputs["python"]
    row("python3 trace: run --mode native --caches off", "python", ["run", p, "--mode", "native", "--caches", "off"])
    row("python3 trace: compare (4 modes, caches on)", "python", ["compare", p], threads=True)
g, m = inputs["gups"], inputs["mixed"]
row("gups: run --mode native --caches off", "gups", ["run", g, "--mode", "native", "--caches", "off"])
row("gups: compare, caches off", "gups", ["compare", g, "--caches", "off"])
# the machines in two groups, each on a thread (not the default on 2 cores: it costs on hit-heavy streams)
row("gups: compare, caches off, --groups 2", "gups", ["compare", g, "--caches", "off", "--groups", "2"])
row("gups: compare, caches on", "gups", ["compare", g], threads=True)
row("mixed: compare, caches on", "mixed", ["compare", m], threads=True)

# peak RSS of a big-memory run, per GiB of footprint
fp_gib = 64
t0 = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
r = subprocess.run(["/usr/bin/time", "-f", "%M", B, "compare", "gups", "--footprint", "%dg" % fp_gib, "--accesses",
                    "4M", "--warmup", "0", "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
rss_kib = int(r.stderr.strip().splitlines()[-1]) if r.returncode == 0 else None
rss = {"footprint_gib": fp_gib, "accesses": 4000000, "peak_rss_mib": rss_kib / 1024 if rss_kib else None,
       "mib_per_gib": rss_kib / 1024 / fp_gib if rss_kib else None}

# ratios measured in this run
def rate(name, t=None):
    for r in rows:
        if r["row"] == name and r["threads"] == t:
            return r["rate_M"]
    return None


one = rate("gups: run --mode native --caches off")
four_off = rate("gups: compare, caches off")
ratios = {
    "gups_compare_caches_off_vs_one_mode": four_off / one if one and four_off else None,
    "gups_compare_caches_off_2_groups_vs_one_mode": (rate("gups: compare, caches off, --groups 2") or 0) / one
        if one else None,
    "gups_caches_on_threads_%d_vs_1" % cores: (rate("gups: compare, caches on", cores) or 0) /
        (rate("gups: compare, caches on", 1) or 1),
    "python_native_vs_decode": (rate("python3 trace: run --mode native --caches off") or 0) /
        (rate(".agt decode only (zstd)") or 1) if "python" in inputs else None,
}

print("%-48s %7s %12s %12s %7s" % ("stream", "threads", "M records/s", "before", "ratio"))
for r in rows:
    before = r.get("before_rate_M")
    print("%-48s %7s %12s %12s %7s" % (
        r["row"] + ("" if r["stream"] in r["row"] else " [%s]" % r["stream"]), r["threads"] or "-",
        "%.1f" % r["rate_M"] if r["rate_M"] else "failed: %s" % r["error"],
        "%.1f" % before if before else "", "%.2fx" % (r["rate_M"] / before) if before and r["rate_M"] else ""))
print("peak RSS, gups %d GiB footprint, 4 modes, 4 M accesses: %s MiB (%s MiB per GiB)" % (
    fp_gib, "%.0f" % rss["peak_rss_mib"] if rss["peak_rss_mib"] else "?",
    "%.1f" % rss["mib_per_gib"] if rss["mib_per_gib"] else "?"))
for k, v in ratios.items():
    print("%s: %s" % (k, "%.2f" % v if v else "-"))
model = ""
try:
    model = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
except (OSError, IndexError):
    pass
with open(a.out, "w") as f:
    json.dump({"machine": {"cores": cores, "cpu": model, "kernel": platform.release()},
               "method": "records of an .agt stream per second of wall time, decode included; best of %d runs"
                         % a.repeat,
               "records": counts, "rows": rows, "rss": rss, "ratios": ratios}, f, indent=1)
print("written: %s" % a.out)
