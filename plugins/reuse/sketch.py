"""MinHash signatures of word shingles and their LSH band keys (datasketch's MinHash).

A text's signature is a MinHash over its word shingles; it is cut into ``bands`` bands of
``rows`` values, and each band's digest (48 bits, salted with the band's number, in 8
base64 characters) is one key of the shared state's postings. Two
texts whose shingle sets have Jaccard similarity ``s`` share at least one band key with
probability ``1 - (1 - s**rows)**bands``, so earlier articles reusing this one's text are
found without comparing it to every stored article.
"""

from __future__ import annotations

import base64
import hashlib
import zlib

import numpy as np
from datasketch import MinHash

#: datasketch's permutation scheme (named, so the keys never change under a new default).
SCHEME = "affine32"


class Sketcher:
    """Makes band keys for texts; permutations are drawn once (``seed``) and shared, so
    every process and worker makes the same keys for the same text."""

    def __init__(self, bands: int, rows: int, seed: int = 1) -> None:
        self.bands = bands
        self.rows = rows
        self._permutations = MinHash(num_perm=bands * rows, seed=seed,
                                     scheme=SCHEME).permutations
        self._seed = seed

    def band_keys(self, shingles: list[str]) -> list[str]:
        """One key per band for this set of shingles (none for an empty set)."""
        if not shingles:
            return []
        # CRC-32 (in C, the same in every process) hashes each shingle; the affine32 scheme
        # mixes it with MurmurHash3's finalizer before permuting
        sketch = MinHash(num_perm=self.bands * self.rows, seed=self._seed,
                         permutations=self._permutations, scheme=SCHEME, hashfunc=zlib.crc32)
        sketch.update_batch([s.encode("utf-8", "surrogatepass") for s in set(shingles)])
        values = np.asarray(sketch.hashvalues, dtype=np.uint64)
        keys = []
        for band in range(self.bands):
            chunk = values[band * self.rows:(band + 1) * self.rows].tobytes()
            digest = hashlib.blake2b(chunk, digest_size=6, salt=band.to_bytes(2, "big"))
            keys.append(base64.urlsafe_b64encode(digest.digest()).decode("ascii"))
        return keys
