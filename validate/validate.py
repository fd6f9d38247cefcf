#!/usr/bin/env python3
"""make validate: record real programs with agilesim's recorder, simulate them, and regenerate
docs/validation.md and its charts (docs/validation/*.svg). Every number in that document comes
from this run.

usage: validate.py BUILD_DIR [--quick] [--force]
  --quick   small data sets (minutes; to try the script, not to quote): written to
            BUILD_DIR/validate-quick/validation.md instead of docs/validation.md
  --force   record the programs again even when their traces exist (BUILD_DIR/validate/*.agt)
"""
import csv
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = "--quick" in sys.argv
FORCE = "--force" in sys.argv
args = [a for a in sys.argv[1:] if not a.startswith("--")]
BUILD = os.path.abspath(args[0] if args else os.path.join(ROOT, "build"))
A = os.path.join(BUILD, "agilesim")
OUT = os.path.join(BUILD, "validate-quick" if QUICK else "validate")
DOC = os.path.join(OUT, "validation.md") if QUICK else os.path.join(ROOT, "docs", "validation.md")
FIG = os.path.join(os.path.dirname(DOC), "validation")  # a quick run writes into the build folder
T0 = time.time()
STEPS = []  # (step, seconds)


def log(msg):
    print(f"validate [{time.time() - T0:6.0f}s] {msg}", flush=True)


def die(msg):
    print(f"validate: {msg}", file=sys.stderr)
    sys.exit(1)


TIMES = {}  # step -> seconds, the last time the step did its work (OUT/timings.json)


def step(name, reused=False):
    """A timed step; a step whose results were all there (a sweep resumed with nothing to run, a
    recording kept) keeps the time it took when it ran."""
    class S:
        def __enter__(self):
            self.t = time.time()
            log(name + (" (results from an earlier run)" if reused else ""))

        def __exit__(self, *exc):
            if not reused or name not in TIMES:
                TIMES[name] = time.time() - self.t
            STEPS.append((name, TIMES[name]))
            json.dump(TIMES, open(os.path.join(OUT, "timings.json"), "w"), indent=1)
    return S()


def sweep_done(name):
    try:
        s = json.load(open(os.path.join(OUT, name, "sweep.json")))["sweep"]
        return s["points"] == s["complete"]
    except (OSError, ValueError, KeyError):
        return False


def run(cmd, **kw):
    r = subprocess.run(cmd, **kw)
    if r.returncode:
        die(f"failed (exit {r.returncode}): {' '.join(cmd)}")
    return r


# ------------------------------------------------------------------ what it needs

NEEDS = {"redis-server": "redis-server", "redis-benchmark": "redis-tools", "redis-cli": "redis-tools",
         "memcached": "memcached", "memcaslap": "libmemcached-tools", "make": "make", "gcc": "gcc",
         "python3": "python3", "valgrind": "valgrind", "rsvg-convert": None}


def deps():
    missing = sorted({p for c, p in NEEDS.items() if p and not shutil.which(c)})
    if missing:
        if os.geteuid() != 0:
            die("missing Debian packages: " + " ".join(missing) + " (install them as root)")
        log("installing " + " ".join(missing))
        run(["apt-get", "install", "-y", "-qq"] + missing, stdout=subprocess.DEVNULL)
    if not os.access(A, os.X_OK):
        die(f"{A}: not built (make)")
    ok = subprocess.run([A, "record", "-o", "/dev/null", "--", "true"], capture_output=True)
    if ok.returncode:
        die("agilesim record does not work here: " + ok.stderr.decode().strip())


# ------------------------------------------------------------------ recording

def wait_port(port, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    die(f"nothing listens on port {port} after {timeout}s")


def mc_command(port, text):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(text.encode())
        data = b""
        try:
            while not data.endswith(b"END\r\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            pass
    return data.decode(errors="replace")


def record_server(name, server, port, drive, stop, preexec=None):
    """Record `server` while `drive()` loads it; `stop()` ends it cleanly."""
    out = os.path.join(OUT, name + ".agt")
    rec = subprocess.Popen([A, "record", "-o", out, "--"] + server, stdout=subprocess.DEVNULL,
                           stderr=open(os.path.join(OUT, name + ".record.log"), "w"), preexec_fn=preexec)
    try:
        wait_port(port)
        note = drive()
        stop()
        if rec.wait(timeout=600):
            die(f"recording {name}: exit {rec.returncode} (see {OUT}/{name}.record.log)")
    except BaseException:
        rec.send_signal(signal.SIGTERM)
        rec.wait()
        raise
    return note


def rec_redis():
    port = 6399
    n = 20000 if QUICK else 300000
    def drive():
        for t in ("set", "get"):
            run(["redis-benchmark", "-p", str(port), "-t", t, "-n", str(n), "-r", str(n), "-d", "1024", "-P", "16", "-q"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        info = subprocess.run(["redis-cli", "-p", str(port), "info", "memory"], capture_output=True, text=True).stdout
        mem = [l.split(":")[1].strip() for l in info.splitlines() if l.startswith("used_memory_human:")]
        keys = subprocess.run(["redis-cli", "-p", str(port), "dbsize"], capture_output=True, text=True).stdout.strip()
        return (f"redis-benchmark -t set then -t get, {n:,} requests each over {n:,} random keys, 1 KiB values, "
                f"pipelines of 16; {keys} keys, used_memory {mem[0] if mem else '?'}")
    def stop():
        subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True)
    return record_server("redis", ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"], port,
                         drive, stop)


def rec_memcached():
    port = 11299
    n = 20000 if QUICK else 600000
    cfg = os.path.join(OUT, "memaslap.cfg")  # 64-byte keys, 1 KiB values, half sets and half gets
    with open(cfg, "w") as f:
        f.write("key\n64 64 1\nvalue\n1024 1024 1\ncmd\n0 0.5\n1 0.5\n")
    def drive():
        run(["memcaslap", "-s", f"127.0.0.1:{port}", "-T", "1", "-c", "16", "-w", "20k", "-F", cfg, "-x", str(n)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        st = dict(l.split()[1:3] for l in mc_command(port, "stats\r\n").splitlines() if l.startswith("STAT "))
        return (f"memcaslap (memaslap), {n:,} operations, half set / half get, 16 connections x 20 k keys, "
                f"1 KiB values; {int(st.get('curr_items', 0)):,} items, {int(st.get('bytes', 0)) / 2**20:.0f} MiB stored")
    def stop():
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"shutdown\r\n")
    return record_server("memcached", ["memcached", "-p", str(port), "-U", "0", "-l", "127.0.0.1", "-m", "2048",
                                       "-t", "2", "-A", "-c", "1024"] + (["-u", "root"] if os.geteuid() == 0 else []),
                         port, drive, stop, preexec=nofile_limit)


def nofile_limit():
    """memcached sets RLIMIT_NOFILE to exactly -c; under Valgrind that succeeds only when -c equals the
    hard limit Valgrind shows the program, which is the real one less the 12 descriptors it keeps."""
    import resource
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024 + 12, 1024 + 12))


def rec_make():
    src = os.path.join(OUT, "cproject")
    shutil.rmtree(src, ignore_errors=True)
    os.makedirs(src)
    nfiles = 2 if QUICK else 5
    for i in range(nfiles):
        with open(os.path.join(src, f"m{i}.c"), "w") as f:
            f.write(f"#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n")
            for k in range(12):
                f.write(f"static int cmp{k}(const void *a, const void *b) {{ return (*(const int *)a - *(const int *)b) * {k + 1}; }}\n"
                        f"int f{i}_{k}(int *v, int n) {{ qsort(v, (size_t)n, sizeof(int), cmp{k}); int s = 0;\n"
                        f"  for (int j = 0; j < n; j++) s += v[j] ^ {k}; char buf[64]; snprintf(buf, sizeof buf, \"%d\", s);\n"
                        f"  return (int)strlen(buf) + s; }}\n")
    with open(os.path.join(src, "main.c"), "w") as f:
        f.write("int main(void) { return 0; }\n")
    objs = " ".join(f"m{i}.o" for i in range(nfiles))
    with open(os.path.join(src, "Makefile"), "w") as f:
        f.write(f"CFLAGS = -O2 -Wall\nprog: main.o {objs}\n\t$(CC) -o $@ $^\n%.o: %.c\n\t$(CC) $(CFLAGS) -c $<\n")
    out = os.path.join(OUT, "make.agt")
    run([A, "record", "-o", out, "--", "make", "-s", "-j2", "-C", src], stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(OUT, "make.record.log"), "w"))
    return f"make -j2 of a {nfiles + 1}-file C project (gcc -O2: the driver, cc1, as and ld for each file)"


def rec_python():
    n = 100000 if QUICK else 600000
    code = (f"import random\nd = {{i: bytes(160) for i in range({n})}}\nrandom.seed(1)\ns = 0\n"
            f"for k in random.sample(range({n}), {n // 3}):\n    s += len(d[k])\nprint(s)\n")
    out = os.path.join(OUT, "python.agt")
    run([A, "record", "-o", out, "--", "python3", "-c", code], stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(OUT, "python.record.log"), "w"))
    return f"python3: a dict of {n:,} 160-byte objects, then {n // 3:,} lookups in random order"


PROGRAMS = [("redis", rec_redis), ("memcached", rec_memcached), ("make", rec_make), ("python", rec_python)]


def info(trace):
    r = subprocess.run([A, "info", trace], capture_output=True, text=True)
    d = {}
    for line in r.stdout.splitlines():
        k, _, v = line.partition(":")
        d[k.strip()] = v.strip()
    return d


# ------------------------------------------------------------------ simulating

def sweep(name, args):
    d = os.path.join(OUT, name)
    r = subprocess.run([A, "sweep", "-o", d, "-j", str(os.cpu_count() or 2), "--quiet"] + args,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode:
        die(f"sweep {name} failed (exit {r.returncode}): {r.stderr.strip()}")
    with open(os.path.join(d, "sweep.json")) as f:
        return json.load(f), d


def anchors():
    off = ["--tlb", "off", "--pwc", "off", "--ntlb", "off", "--caches", "off", "--quiet", "--check",
           "--accesses", "20000", "--warmup", "0", "--footprint", "64m", "--workload", "gups"]
    cases = [("4 KiB pages, 4+4 levels", [], {"native": 4, "nested": 24, "shadow": 4, "agile": 24}),
             ("5+5 levels (LA57, 5-level EPT)", ["--modes", "native,nested", "--guest-levels", "5", "--host-levels", "5"],
              {"native": 5, "nested": 35}),
             ("2 MiB guest and host pages", ["--modes", "native,nested", "--guest-page", "2m", "--host-page", "2m"],
              {"native": 3, "nested": 15})]
    for lvl, want in ((1, 4), (2, 8), (3, 12), (4, 16), (5, 24)):
        cases.append((f"agile, switch pinned at shadow level {lvl}", ["--modes", "agile", "--agile-force-level", str(lvl)],
                      {"agile": want}))
    rows = []
    for title, extra, want in cases:
        out = os.path.join(OUT, "anchor.json")
        run([A, "compare"] + off + extra + ["--json", out], stdout=subprocess.DEVNULL)
        d = json.load(open(out))
        for r in d["runs"]:
            if r["mode"] in want:
                rows.append((title, r["mode"], want[r["mode"]], r["walk_refs"] / r["walks"]))
    return rows


# ------------------------------------------------------------------ charts

COLORS = {"native": "#555555", "nested": "#1f77b4", "shadow": "#d62728", "agile": "#2ca02c"}


def bars_svg(path, title, groups, series):
    """groups: [(label, {mode: value%})]; series: modes in order"""
    W, H, L, R, T, B = 760, 400, 70, 20, 60, 70
    pw, ph = W - L - R, H - T - B
    vals = [v for _, d in groups for v in d.values() if v is not None]
    top = max([1.0] + vals) * 1.12
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           f'font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/>',
           f'<text x="20" y="24" font-size="15" font-weight="bold">{title}</text>']
    step = 10 ** int(f"{top / 5:e}".split("e")[1])
    step = next(s * step for s in (1, 2, 5, 10) if top / (s * step) <= 6)
    y = 0.0
    while y <= top:
        yy = T + ph * (1 - y / top)
        out.append(f'<line x1="{L}" y1="{yy:.1f}" x2="{L + pw}" y2="{yy:.1f}" stroke="#e5e5e5"/>'
                   f'<text x="{L - 6}" y="{yy + 4:.1f}" text-anchor="end">{y:g}</text>')
        y += step
    out.append(f'<text transform="translate(18,{T + ph / 2}) rotate(-90)" text-anchor="middle">overhead against native (%)</text>')
    gw = pw / max(1, len(groups))
    bw = gw * 0.8 / len(series)
    for gi, (label, d) in enumerate(groups):
        x0 = L + gi * gw + gw * 0.1
        for si, m in enumerate(series):
            v = d.get(m)
            if v is None:
                continue
            h = ph * max(v, 0) / top
            out.append(f'<rect x="{x0 + si * bw:.1f}" y="{T + ph - h:.1f}" width="{bw - 2:.1f}" height="{h:.1f}" '
                       f'fill="{COLORS[m]}"><title>{label} {m}: {v:+.2f}%</title></rect>')
            out.append(f'<text x="{x0 + si * bw + bw / 2:.1f}" y="{T + ph - h - 3:.1f}" text-anchor="middle" '
                       f'font-size="9">{v:.1f}</text>')
        out.append(f'<text x="{L + gi * gw + gw / 2:.1f}" y="{T + ph + 18}" text-anchor="middle">{label}</text>')
    lx = L
    for m in series:
        out.append(f'<rect x="{lx}" y="{H - 26}" width="12" height="12" fill="{COLORS[m]}"/>'
                   f'<text x="{lx + 16}" y="{H - 16}">{m}</text>')
        lx += 90
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


# ------------------------------------------------------------------ the document

def pct(x):
    return "-" if x is None else (f"{100 * x:+.2f}%" if abs(x) < 0.1 else f"{100 * x:+.1f}%")


def runs_by(d):
    """{(input, guest-page or None): {mode: run}}"""
    out = {}
    for r in d["runs"]:
        out.setdefault((r["workload"], r["params"].get("guest-page")), {})[r["mode"]] = r
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(FIG, exist_ok=True)
    if os.path.exists(os.path.join(OUT, "timings.json")):
        TIMES.update(json.load(open(os.path.join(OUT, "timings.json"))))
    with step("dependencies"):
        deps()
    notes = {}
    meta_path = os.path.join(OUT, "programs.json")
    if os.path.exists(meta_path) and not FORCE:
        notes = json.load(open(meta_path))
    for name, fn in PROGRAMS:
        trace = os.path.join(OUT, name + ".agt")
        if FORCE or name not in notes or not os.path.exists(trace):
            with step(f"recording {name}"):
                t = time.time()
                notes[name] = {"what": fn(), "record_s": time.time() - t}  # a new recording: summarised below
                json.dump(notes, open(meta_path, "w"), indent=1)
        else:
            log(f"{name}: recorded earlier ({trace}; --force records again)")
            STEPS.append((f"recording {name}", notes[name]["record_s"]))
    traces = [os.path.join(OUT, n + ".agt") for n, _ in PROGRAMS]
    for (n, _), t in zip(PROGRAMS, traces):  # agilesim info: read once per recording, kept with it
        if "info" not in notes[n]:
            with step(f"summary of {n}.agt (agilesim info)"):
                notes[n]["info"] = info(t)
                json.dump(notes, open(meta_path, "w"), indent=1)
        else:
            STEPS.append((f"summary of {n}.agt (agilesim info)", TIMES.get(f"summary of {n}.agt (agilesim info)", 0)))
    infos = {n: notes[n]["info"] for n, _ in PROGRAMS}
    with step("walk-length anchors"):
        anc = anchors()
    with step("real programs: 4 modes x (4 KiB, 2 MiB guest pages)", sweep_done("programs")):
        prog, prog_dir = sweep("programs", ["--param", "guest-page=4k,2m"] + traces)
    sens_acc = "2M" if QUICK else "20M"
    with step("sensitivity of agile: threshold x scan interval x exit cost", sweep_done("sensitivity")):
        sens, sens_dir = sweep("sensitivity", ["--param", "agile-threshold=1,2,4,8", "--param", "agile-interval=1M,10M,100M",
                                               "--param", "cost-exit=500,1500,3000",
                                               "--accesses", sens_acc, "--workload", "mixed",
                                               os.path.join(OUT, "memcached.agt")])
    with step("published workloads we have: built-in gups and graph", sweep_done("published")):
        pub, _ = sweep("published", ["--param", "guest-page=4k", "--workload", "gups,graph"])
    for p in ("agile-threshold", "agile-interval", "cost-exit"):
        shutil.copy(os.path.join(sens_dir, f"sweep-{p}.svg"), os.path.join(FIG, f"sensitivity-{p}.svg"))
    R = runs_by(prog)
    names = {os.path.basename(t): n for (n, _), t in zip(PROGRAMS, traces)}
    for gp in ("4k", "2m"):
        groups = [(names[w], {m: 100 * r["overhead_vs_native"] for m, r in R[(w, gp)].items() if m != "native"})
                  for (w, g) in R if g == gp]
        bars_svg(os.path.join(FIG, f"programs-{gp}.svg"),
                 f"Real programs, {'4 KiB' if gp == '4k' else '2 MiB'} guest pages: overhead against native",
                 groups, ["nested", "shadow", "agile"])
    write_doc(notes, infos, anc, R, names, sens, pub)
    log(f"wrote {DOC} in {time.time() - T0:.0f}s")


def machine():
    cpu = "?"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = 0
    try:
        mem = int(next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))) / 2**20
    except (OSError, StopIteration):
        pass
    commit = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True, text=True).stdout.strip()
    ver = subprocess.run([A, "--version"], capture_output=True, text=True).stdout.strip()
    return f"{ver} (git {commit or '?'}), {os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.platform()}"


def write_doc(notes, infos, anc, R, names, sens, pub):
    L = []
    w = L.append
    q = " (QUICK: small data sets; not for quoting)" if QUICK else ""
    w(f"# Validation{q}\n")
    w("Generated by `make validate` (validate/validate.py): it installs what it needs from Debian, records the")
    w("programs below with `agilesim record`, simulates them, and writes this file and docs/validation/*.svg.")
    w("Nothing here is typed by hand except the prose around the tables; run it again to check any number.\n")
    total = sum(t for _, t in STEPS)
    w(f"- Run: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC. A full run (recording and simulating everything) "
      f"takes {total / 60:.0f} minutes here: {', '.join(f'{n} {t:.0f} s' for n, t in STEPS)}. Started again, "
      "`make validate` reuses the recordings and the complete sweep points (`--force` records again).")
    w(f"- Machine and version: {machine()}.")
    w("- Configuration: agilesim's defaults (docs/model.md names the source of each): Skylake-like TLBs, PWCs and")
    w("  nested TLB, caches on, KVM's unsync shadow pages, Linux's flush policy, exit costs of docs/model.md.\n")

    w("## 1. Walk-length anchors\n")
    w("Memory references per TLB-miss walk with the TLBs, walk caches and data caches off, measured on the")
    w("built-in gups (every walk checked against the guest's functional translation, `--check`).\n")
    w("| configuration | mode | expected | measured | |")
    w("|---|---|---|---|---|")
    bad = 0
    for title, mode, want, got in anc:
        okk = abs(got - want) < 1e-9
        bad += not okk
        w(f"| {title} | {mode} | {want} | {got:.2f} | {'ok' if okk else 'DIFFERS'} |")
    w(f"\n{len(anc) - bad} of {len(anc)} anchors hold.\n")

    w("## 2. Real programs\n")
    w("Recorded with `agilesim record` (agilesim's Valgrind tool), every process and address-space event, then")
    w("simulated whole (no warm-up: start-up and the loading of the data set are part of each run).\n")
    w("| program | what ran | processes | instructions | accesses | footprint (pages touched) | recording |")
    w("|---|---|---|---|---|---|---|")
    for n, _ in PROGRAMS:
        i = infos[n]
        instr = int(i.get("instructions", "0") or 0)
        acc = int((i.get("accesses", "0").split() or ["0"])[0])
        fp = i.get("pages", "?").replace(" touched (4 KiB), footprint", ",")
        w(f"| {n} | {notes[n]['what']} | {i.get('processes', '?')} | {instr / 1e6:,.0f} M | {acc / 1e6:,.0f} M | {fp} | "
          f"{notes[n]['record_s']:.0f} s |")
    w("")
    for gp, label in (("4k", "4 KiB"), ("2m", "2 MiB")):
        w(f"### {label} guest pages (host: 4 KiB EPT pages)\n")
        w(f"![overhead, {label} guest pages](validation/programs-{gp}.svg)\n")
        w("| program | MPKI | nested | shadow | agile | agile walks fully in shadow | agile switches to nested / to shadow | best of nested, shadow |")
        w("|---|---|---|---|---|---|---|---|")
        for (wl, g), m in R.items():
            if g != gp:
                continue
            a = m["agile"]
            mpki = m["native"]["tlb_misses"] / m["native"]["instructions"] * 1000
            best = min(m["nested"]["overhead_vs_native"], m["shadow"]["overhead_vs_native"])
            w(f"| {names[wl]} | {mpki:.2f} | {pct(m['nested']['overhead_vs_native'])} | {pct(m['shadow']['overhead_vs_native'])} | "
              f"{pct(a['overhead_vs_native'])} | {100 * a['agile']['walks_full_shadow'] / max(1, a['walks']):.0f}% | "
              f"{a['agile']['to_nested']} / {a['agile']['to_shadow']} | {pct(best)} |")
        w("")
        if gp == "2m":
            same = [names[wl] for (wl, g), m in R.items() if g == "2m" and (wl, "4k") in R and
                    abs(m["native"]["tlb_misses"] / max(1, R[(wl, "4k")]["native"]["tlb_misses"]) - 1) < 0.01]
            if same:
                w(f"No 2 MiB guest page was used for: {', '.join(same)} (native's TLB misses are within 1% of "
                  "those with 4 KiB pages). The guest model gives a range a 2 MiB page only "
                  "when the aligned 2 MiB lies inside one VMA (THP), and it does not merge adjacent VMAs as Linux "
                  "does: memory that comes in many mappings of about 1 MiB (memcached's slabs) never gets one.\n")
        odd = [(names[wl], m) for (wl, g), m in R.items() if g == gp and
               m["agile"]["vm_exits"]["hidden_fault"] > 1.5 * m["shadow"]["vm_exits"]["hidden_fault"]]
        for nm, m in odd:
            w(f"Not yet explained: on {nm}, agile takes more hidden faults than shadow paging "
              f"({m['agile']['vm_exits']['hidden_fault'] / m['agile']['instructions'] * 1000:.3f} against "
              f"{m['shadow']['vm_exits']['hidden_fault'] / m['shadow']['instructions'] * 1000:.3f} per 1,000 instructions). "
              f"Our working hypothesis: each of its {m['agile']['agile']['to_shadow']:,} switches back to shadow drops "
              "the region's shadow entries, which then refill one hidden fault at a time.\n")
        w("VM exits by cause (per 1,000 instructions; nested paging takes none with the guest memory backed at boot):\n")
        causes = ["pt_write", "hidden_fault", "guest_fault", "cr3_write", "invlpg", "dirty", "ept_violation"]
        w("| program | mode | " + " | ".join(causes) + " | VMM cycles (% of native's total) |")
        w("|---|---|" + "---|" * len(causes) + "---|")
        for (wl, g), m in R.items():
            if g != gp:
                continue
            for mode in ("shadow", "agile"):
                r = m[mode]
                ki = r["instructions"] / 1000
                cells = " | ".join(f"{r['vm_exits'][c] / ki:.3f}" for c in causes)
                w(f"| {names[wl]} | {mode} | {cells} | {100 * r['cycles']['vmm'] / m['native']['cycles']['total']:.1f}% |")
        w("")

    w("## 3. Sensitivity of agile paging\n")
    sp = {p["name"]: p["values"] for p in sens["sweep"]["params"]}
    w(f"A sweep (`agilesim sweep`, {sens['sweep']['points']} points) of the agile threshold "
      f"({', '.join(sp['agile-threshold'])}), the dirty-scan interval ({', '.join(sp['agile-interval'])} instructions) "
      f"and the VM-exit cost ({', '.join(sp['cost-exit'])} cycles), on the built-in `mixed` and the recorded memcached "
      f"({sens['runs'][0]['counted_accesses'] / 1e6:.0f} M counted accesses each). Each chart holds the other two "
      "parameters at their first value.\n")
    for p in ("agile-threshold", "agile-interval", "cost-exit"):
        w(f"![{p}](validation/sensitivity-{p}.svg)\n")
    agile = [r for r in sens["runs"] if r["mode"] == "agile"]
    for wl in sorted({r["workload"] for r in agile}):
        xs = [r for r in agile if r["workload"] == wl]
        lo = min(xs, key=lambda r: r["overhead_vs_native"])
        hi = max(xs, key=lambda r: r["overhead_vs_native"])
        fmt = lambda r: ", ".join(f"{k}={v}" for k, v in r["params"].items())
        w(f"- {wl}: agile's overhead ranges from {pct(lo['overhead_vs_native'])} ({fmt(lo)}) to "
          f"{pct(hi['overhead_vs_native'])} ({fmt(hi)}).")
    w("")

    w("## 4. Against the published results\n")
    P = runs_by(pub)
    rows = [(names.get(wl, wl), m) for (wl, g), m in R.items() if g == "4k"] + \
           [(wl + " (built-in)", m) for (wl, g), m in P.items()]
    within4 = sum(1 for _, m in rows if m["agile"]["overhead_vs_native"] <= 0.04)
    better12 = sum(1 for _, m in rows
                   if (1 + min(m["nested"]["overhead_vs_native"], m["shadow"]["overhead_vs_native"])) /
                   (1 + m["agile"]["overhead_vs_native"]) - 1 > 0.12)
    w("**The agile paging paper** (Gandhi, Hill, Swift, ISCA 2016) reports agile paging more than 12% faster than")
    w("the best of nested and shadow paging, and within 4% of native, on all its workloads. Here, with 4 KiB pages,")
    w(f"agile is within 4% of native on {within4} of {len(rows)} programs and more than 12% faster than the best of")
    w(f"nested and shadow on {better12} of {len(rows)}:\n")
    w("| program | native → agile | best of nested/shadow | agile's gain over that best | nested/agile walk cycles | nested/agile walk references |")
    w("|---|---|---|---|---|---|")
    for name, m in rows:
        a, n_, s = m["agile"], m["nested"], m["shadow"]
        best = min(n_["overhead_vs_native"], s["overhead_vs_native"])
        gain = (1 + best) / (1 + a["overhead_vs_native"]) - 1
        wc = n_["cycles"]["walk"] / max(1, a["cycles"]["walk"])
        wr = n_["walk_refs"] / max(1, a["walk_refs"])
        w(f"| {name} | {pct(a['overhead_vs_native'])} | {pct(best)} | {pct(gain)} | {wc:.2f} | {wr:.2f} |")
    w("")
    w("**The SagePTE artifact** gives agile paging's page-walk speedup over nested paging with 4 KiB pages: btree")
    w("1.23, canneal 1.16, graph500 1.59, gups 1.26, memcached 1.33, redis 1.30, xsbench 1.22. The column")
    w("\"nested/agile walk cycles\" above is the same ratio in agilesim (walk cycles of nested over those of agile,")
    w("caches and walk caches on); \"walk references\" is the ratio of memory references.\n")
    w("Where and why the numbers differ:")
    lose = [(name, m) for name, m in rows if m["agile"]["overhead_vs_native"] > m["nested"]["overhead_vs_native"] + 0.005]
    if lose:
        parts = []
        for name, m in lose:
            nat = m["native"]["cycles"]["total"]
            saved = (m["nested"]["cycles"]["walk"] - m["agile"]["cycles"]["walk"]) / nat
            parts.append(f"{name} (walk cycles saved {100 * saved:.1f}% of native's time, VMM cycles spent "
                         f"{100 * m['agile']['cycles']['vmm'] / nat:.1f}%)")
        w("- Agile trails nested paging on " + "; ".join(parts) + ". These programs miss the TLB rarely (MPKI "
          "0.1-0.7 here, against tens in the papers' big-memory workloads), so a walk saved is worth little, while")
        w("  every region agile keeps in shadow pays a VM exit for each page it faults in as the data set is loaded.")
    g = next((m for (wl, gp_), m in P.items() if wl == "gups"), None)
    if g:
        mpki = g["native"]["tlb_misses"] / g["native"]["instructions"] * 1000
        w(f"- The published claims come from steady-state runs of TLB-miss-heavy workloads. On the built-in gups "
          f"({mpki:.0f} MPKI, a static table, after a warm-up) agile is at {pct(g['agile']['overhead_vs_native'])} "
          f"against native and nested at {pct(g['nested']['overhead_vs_native'])}, and nested makes "
          f"{g['nested']['walk_refs'] / max(1, g['agile']['walk_refs']):.2f} times agile's walk references.")
    w("- Start-up and the loading of the data set are part of every recorded run here (the recordings start at")
    w("  `execve`); the paper and SagePTE measure steady state. Each page a growing data set faults in costs shadow")
    w("  paging a VM exit, and costs agile one when the page lies in a region agile keeps in shadow.")
    w("- SagePTE's model charges 8 references per walk for agile and no VMM cost; agilesim walks real page tables")
    w("  through PWCs, a nested TLB and the cache hierarchy, so a walk costs what its references cost, and it charges")
    w("  every VM exit (trapped page-table writes, unsync resyncs, hidden faults, CR3 writes, INVLPG) and agile's")
    w("  dirty scans. Where agile keeps a region nested, its walks cost what nested walks cost.")
    w("- The programs differ: our redis and memcached are driven by redis-benchmark and memaslap with data sets of")
    w("  a few hundred MB on one 2-core VM, not the papers' multi-GB inputs; btree, canneal and xsbench are not run")
    w("  (graph500 is approximated by the built-in BFS `graph`, gups by the built-in `gups`).")
    w("- The shadow baseline is KVM's (unsync leaves, Linux's flush policy), not a trap-every-write shadow VMM;")
    w("  the paper's shadow baseline traps more, which makes shadow paging look worse and agile's gain larger.\n")
    with open(DOC, "w") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
