"""The worker's heap trim gives memory freed inside glibc's heap back to the OS."""

import ctypes
import os

from logmonitor.heap_trim import release_free_heap

BLOCK, BLOCKS = 64 * 1024, 400  # 25 MiB in blocks below glibc's mmap threshold: they live in the heap


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_freed_heap_memory_leaves_the_rss() -> None:
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    blocks = [libc.malloc(BLOCK) for _ in range(BLOCKS)]
    pin = libc.malloc(BLOCK)  # above the freed blocks, so freeing them cannot shrink the heap's top
    for block in blocks:
        ctypes.memset(block, 1, BLOCK)
    for block in blocks:
        libc.free(block)
    freed = BLOCK * BLOCKS
    held = _rss_bytes()
    try:
        assert release_free_heap()
        assert held - _rss_bytes() > freed / 2
    finally:
        libc.free(pin)
