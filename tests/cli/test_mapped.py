#!/usr/bin/env python3
"""A plain trace read through a mapped window (run --threads 1, info, convert: the reading thread
uses the events) reports exactly what one read with read(2) does (--threads 2 reads ahead with
read(2)); and a trace file truncated by another process while a window of it is mapped (the
reader then gets SIGBUS) ends the run with one line naming the file, status 2, and no output
file: never a crash. The run is stopped (SIGSTOP) while the window is mapped, the file truncated
to the window's start, and the run continued, so the next byte it parses is gone: no race.
Usage: test_mapped.py AGILESIM
"""
import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1]
tmp = tempfile.mkdtemp(prefix="ags_mapped.")
atexit.register(shutil.rmtree, tmp, True)
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL: " + msg)


def without_command(d):
    """The report but its echo of the command line (reports have no timing fields)."""
    return {k: v for k, v in d.items() if k != "command"}


big = os.path.join(tmp, "big.agt")
subprocess.run([BIN, "convert", "--workload", "gups", "--accesses", "6M", big, "--quiet"], check=True)
size = os.path.getsize(big)
if size <= 16 << 20:
    fail("the trace (%d bytes) should span two 16 MiB windows" % size)

# the same report mapped and read with read(2)
reports = []
for threads in ("1", "2"):
    out = os.path.join(tmp, "r%s.json" % threads)
    subprocess.run([BIN, "run", big, "--mode", "nested", "--caches", "off", "--threads", threads, "--json", out,
                    "--quiet"], check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        reports.append(without_command(json.load(f)))
if reports[0] != reports[1]:
    fail("run --threads 1 (mapped) and --threads 2 (read ahead) report differently")

with open(big, "rb") as f:
    piped = subprocess.run([BIN, "info", "-"], stdin=f, stdout=subprocess.PIPE, text=True, check=True).stdout
mapped = subprocess.run([BIN, "info", big], stdout=subprocess.PIPE, text=True, check=True).stdout
if piped.split("\n")[1:] != mapped.split("\n")[1:]:
    fail("info of the file (mapped) and of standard input (read) differ:\n%s\n%s" % (mapped, piped))


def window_offset(pid, path):
    """The file offset of the reader's mapped window in process pid, or None."""
    try:
        with open("/proc/%d/maps" % pid) as f:
            offs = [int(line.split()[2], 16) for line in f if line.rstrip().endswith(" " + path)]
    except OSError:
        return None
    return max(offs) if offs else None


for attempt in range(3):
    victim = os.path.join(tmp, "victim.agt")
    shutil.copyfile(big, victim)
    out = os.path.join(tmp, "out.json")
    p = subprocess.Popen([BIN, "run", victim, "--mode", "nested", "--threads", "1", "--json", out, "--quiet"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    off = None
    deadline = time.monotonic() + 60
    while p.poll() is None and time.monotonic() < deadline:
        if window_offset(p.pid, victim) is not None:
            p.send_signal(signal.SIGSTOP)
            off = window_offset(p.pid, victim)  # stopped: the window no longer moves
            if off is not None:
                os.truncate(victim, off)
            p.send_signal(signal.SIGCONT)
            if off is not None:
                break
        time.sleep(0.002)
    err = p.communicate(timeout=120)[1]
    if off is None:
        fail("attempt %d: never saw the window mapped (exit %d): %s" % (attempt, p.returncode, err.strip()))
        continue
    want = "agilesim: %s: the file shrank while it was being read (truncated by another process)" % victim
    lines = err.strip().splitlines()
    if p.returncode != 2 or lines != [want]:
        fail("attempt %d (cut at %d): exit %d, stderr %r; want 2 and %r" % (attempt, off, p.returncode, err, want))
    if os.path.exists(out) or [n for n in os.listdir(tmp) if n.startswith("out.json")]:
        fail("attempt %d: an output file was left behind" % attempt)

print("%s: %s" % (os.path.basename(sys.argv[0]), "FAIL (%d)" % failures if failures else "ok"))
sys.exit(1 if failures else 0)
