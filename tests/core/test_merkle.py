"""RFC 9162 Merkle trees: roots and inclusion proofs against an independent naive implementation,
published test vectors, and tampering of every part of a proof."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zistboom.core.crypto.merkle import (
    MerkleTree,
    inclusion_proof,
    merkle_root,
    verify_inclusion,
)
from zistboom.core.errors import ValidationError

# The leaves and tree heads of the Certificate Transparency reference tests (RFC 6962 hashing,
# unchanged in RFC 9162).
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


# --- an independent implementation, written straight from the RFC's recursive definitions ----


def naive_split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = naive_split(len(leaves))
    return hashlib.sha256(b"\x01" + naive_root(leaves[:k]) + naive_root(leaves[k:])).digest()


def naive_path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = naive_split(len(leaves))
    if m < k:
        return [*naive_path(m, leaves[:k]), naive_root(leaves[k:])]
    return [*naive_path(m - k, leaves[k:]), naive_root(leaves[:k])]


def flip(data: bytes, bit: int) -> bytes:
    bit %= len(data) * 8
    changed = bytearray(data)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


leaf_lists = st.lists(st.binary(min_size=0, max_size=40), min_size=1, max_size=300)


def test_certificate_transparency_vectors() -> None:
    for size in range(1, len(CT_LEAVES) + 1):
        assert merkle_root(CT_LEAVES[:size]).hex() == CT_ROOTS[size - 1]


def test_empty_tree_is_the_hash_of_nothing() -> None:
    assert merkle_root([]) == hashlib.sha256(b"").digest()


@settings(max_examples=60, deadline=None)
@given(leaves=leaf_lists)
def test_root_and_every_proof_match_the_naive_implementation(leaves: list[bytes]) -> None:
    tree = MerkleTree(leaves)
    assert tree.root == naive_root(leaves) == merkle_root(leaves)
    for index, leaf in enumerate(leaves):
        proof = tree.inclusion_proof(index)
        assert proof == naive_path(index, leaves)
        assert verify_inclusion(leaf, index, len(leaves), proof, tree.root)


@settings(max_examples=60, deadline=None)
@given(leaves=leaf_lists, data=st.data())
def test_any_flipped_bit_fails(leaves: list[bytes], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(leaves) - 1))
    root = merkle_root(leaves)
    proof = inclusion_proof(leaves, index)
    leaf = leaves[index] or b"\x00"  # an empty leaf has no bit to flip: test a one-byte one
    if leaf != leaves[index]:
        leaves = [*leaves[:index], leaf, *leaves[index + 1 :]]
        root = merkle_root(leaves)
        proof = inclusion_proof(leaves, index)
    bit = data.draw(st.integers(0, 10_000))
    assert verify_inclusion(leaf, index, len(leaves), proof, root)
    assert not verify_inclusion(flip(leaf, bit), index, len(leaves), proof, root)
    assert not verify_inclusion(leaf, index, len(leaves), proof, flip(root, bit))
    if proof:
        which = data.draw(st.integers(0, len(proof) - 1))
        tampered = [*proof[:which], flip(proof[which], bit), *proof[which + 1 :]]
        assert not verify_inclusion(leaf, index, len(leaves), tampered, root)


@settings(max_examples=60, deadline=None)
@given(leaves=st.lists(st.binary(min_size=1, max_size=8), min_size=2, max_size=300, unique=True))
def test_wrong_position_or_shape_fails(leaves: list[bytes]) -> None:
    tree = MerkleTree(leaves)
    size = len(leaves)
    index = size // 2
    proof = tree.inclusion_proof(index)
    # The proof belongs to one index and one tree size; the leaf belongs to one place.
    assert not verify_inclusion(leaves[index], (index + 1) % size, size, proof, tree.root)
    assert not verify_inclusion(leaves[(index + 1) % size], index, size, proof, tree.root)
    assert not verify_inclusion(leaves[index], index, size, [*proof, proof[0]], tree.root)
    if proof[:-1]:
        assert not verify_inclusion(leaves[index], index, size, proof[:-1], tree.root)
    assert not verify_inclusion(leaves[index], size, size, proof, tree.root)
    assert not verify_inclusion(leaves[index], -1, size, proof, tree.root)


def test_single_leaf_tree_has_an_empty_proof() -> None:
    assert inclusion_proof([b"only"], 0) == []
    assert verify_inclusion(b"only", 0, 1, [], merkle_root([b"only"]))
    assert not verify_inclusion(b"only", 0, 1, [b"\x00" * 32], merkle_root([b"only"]))


def test_proof_of_a_missing_leaf_is_refused() -> None:
    with pytest.raises(ValidationError, match="outside a tree of 3 leaves"):
        inclusion_proof([b"a", b"b", b"c"], 3)


def test_malformed_proof_nodes_fail() -> None:
    leaves = [b"a", b"b", b"c"]
    root = merkle_root(leaves)
    proof = inclusion_proof(leaves, 0)
    assert not verify_inclusion(b"a", 0, 3, [proof[0][:31], proof[1]], root)
    assert not verify_inclusion(b"a", 0, 3, proof, root[:31])
