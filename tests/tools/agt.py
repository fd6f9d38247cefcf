"""Write hand-made .agt files for tests (docs/trace-format.md): events, accesses, the trailer's
record count and checksum (the same 64-bit hash as src/trace/agt.h)."""
import struct

M = (1 << 64) - 1


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def zigzag(d):
    return ((d << 1) ^ (d >> 63)) & M


def event(etype, pid, icount=0, addr=0, length=0, arg=0, arg2=0):
    return bytes([0x80 | etype]) + b"".join(varint(x) for x in (pid, icount, addr, length, arg, arg2))


def access(kind, delta, icount=None, size=8):
    """kind 0 fetch, 1 load, 2 store, 3 modify; delta from the previous address of its class"""
    sc = 0 if size == 8 else 1 if size == 4 else 2
    if icount is None:
        icount = 1 if kind == 0 else 0
    ic = icount if icount in (0, 1) else 2
    out = bytes([kind | sc << 2 | ic << 4])
    if sc == 2:
        out += varint(size)
    if ic == 2:
        out += varint(icount)
    return out + varint(zigzag(delta))


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M


def _hw(h, w):
    h ^= (w * 0x87C37B91114253D5) & M
    h = _rotl(h, 31)
    return (h * 0x4CF5AD432745937F) & M


def checksum(data):
    h = 0x243F6A8885A308D3
    n = len(data) // 8 * 8
    for i in range(0, n, 8):
        h = _hw(h, struct.unpack_from("<Q", data, i)[0])
    tail = data[n:]
    if tail:
        h = _hw(h, int.from_bytes(tail, "little"))
    return _hw(h, len(data))


def write(path, records, count):
    """records: the bytes of `count` records (pid records are not counted)"""
    header = b"AGSTRACE" + struct.pack("<II", 1, 0) + bytes(48)
    body = records + b"\xfe" + varint(count)
    with open(path, "wb") as f:
        f.write(header + body + struct.pack("<Q", checksum(body)))


def forky(path, pages=1000000, forks=3000, pre_path=None):
    """A process maps and touches `pages` 4 KiB pages (page tables for 4 GiB), then forks `forks`
    children that exit at once: minutes of long events. pre_path: the accesses alone (no forks)."""
    base = 0x100000000
    pre = [event(1, 1, 0, base, pages * 4096, 3), b'\xff' + varint(1), access(2, base, icount=1),
           access(2, 4096, icount=1) * (pages - 1)]
    rest = [event(6, 1, 0, 0, 0, 2 + i) + event(8, 2 + i) for i in range(forks)]
    write(path, b''.join(pre + rest), pages + 2 * forks + 1)
    if pre_path:
        write(pre_path, b''.join(pre), pages + 1)
