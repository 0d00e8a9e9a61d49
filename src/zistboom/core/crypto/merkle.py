"""Merkle trees with RFC 9162 (Certificate Transparency 2.0) hashing: roots, inclusion proofs and
their verification.

A leaf is hashed as SHA-256(0x00 || data) and an inner node as SHA-256(0x01 || left || right);
a tree of n > 1 leaves splits at k, the largest power of two smaller than n (RFC 9162 §2.1.1).
The message log seals its record hashes into such trees; ZB-STD-005 §6 is the profile.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Final

from zistboom.core.errors import ValidationError

HASH_SIZE: Final = 32
_LEAF_PREFIX: Final = b"\x00"
_NODE_PREFIX: Final = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """The RFC 9162 hash of one leaf: SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 9162 hash of an inner node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (``size`` > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


class MerkleTree:
    """A tree over a fixed list of leaves, every subtree hash computed once.

    Computing the root is O(n); each inclusion proof afterwards is O(log n), so proofs for every
    record of a large batch cost little more than its root.
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self._size = len(leaves)
        self._nodes: dict[tuple[int, int], bytes] = {}
        self._root = (
            hashlib.sha256(b"").digest()
            if not leaves
            else self._subtree(list(leaves), 0, len(leaves))
        )

    def _subtree(self, leaves: list[bytes], start: int, end: int) -> bytes:
        if end - start == 1:
            value = leaf_hash(leaves[start])
        else:
            middle = start + _split(end - start)
            value = node_hash(
                self._subtree(leaves, start, middle), self._subtree(leaves, middle, end)
            )
        self._nodes[start, end] = value
        return value

    @property
    def size(self) -> int:
        return self._size

    @property
    def root(self) -> bytes:
        """The tree head; the SHA-256 of the empty string for an empty tree (RFC 9162 §2.1.1)."""
        return self._root

    def inclusion_proof(self, index: int) -> list[bytes]:
        """The audit path of leaf ``index`` (RFC 9162 §2.1.3.1), nearest sibling first."""
        if not 0 <= index < self._size:
            raise ValidationError(
                f"leaf index {index} is outside a tree of {self._size} leaves", field="index"
            )
        path: list[bytes] = []
        start, end = 0, self._size
        # Walk down from the root, then reverse: the path lists the leaf's sibling first.
        while end - start > 1:
            middle = start + _split(end - start)
            if index < middle:
                path.append(self._nodes[middle, end])
                end = middle
            else:
                path.append(self._nodes[start, middle])
                start = middle
        path.reverse()
        return path


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The RFC 9162 Merkle tree hash of ``leaves`` (each leaf is the raw data, not its hash)."""
    return MerkleTree(leaves).root


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The RFC 9162 inclusion proof of ``leaves[index]``."""
    return MerkleTree(leaves).inclusion_proof(index)


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows that ``leaf`` (raw data) is leaf ``index`` of the ``size``-leaf
    tree with head ``root``: the algorithm of RFC 9162 §2.1.3.2."""
    if not 0 <= index < size or len(root) != HASH_SIZE:
        return False
    if any(len(node) != HASH_SIZE for node in proof):
        return False
    fn, sn = index, size - 1
    result = leaf_hash(leaf)
    for node in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            result = node_hash(node, result)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, node)
        fn >>= 1
        sn >>= 1
    return sn == 0 and result == root
