#!/usr/bin/env python3
"""Base step: remove upstream's noncontiguous DMA API from a Linux 6.1 tree.

Everything is deleted by name; this file holds no upstream code.  The step is
idempotent: on a tree that was already stripped it changes nothing.  It stops
with one clear message when the tree holds only part of what it expects.

Usage: remove-upstream-noncontig.py KERNEL_TREE
"""
import re
import sys
from pathlib import Path

API = ["dma_alloc_noncontiguous", "dma_free_noncontiguous",
       "dma_vmap_noncontiguous", "dma_vunmap_noncontiguous",
       "dma_mmap_noncontiguous"]

# file -> list of (kind, name); kinds are handled by the functions below
WORK = {
    "kernel/dma/mapping.c":
        [("func", "alloc_single_sgt"), ("func", "free_single_sgt")] +
        [("func", n) for n in API],
    "include/linux/dma-mapping.h":
        [("proto", n) for n in API] + [("inline", n) for n in API],
    "include/linux/dma-map-ops.h":
        [("member", "alloc_noncontiguous"), ("member", "free_noncontiguous"),
         ("struct", "dma_sgt_handle"), ("macro", "sgt_handle")],
    "drivers/iommu/dma-iommu.c":
        [("func", "iommu_dma_alloc_noncontiguous"),
         ("func", "iommu_dma_free_noncontiguous"),
         ("opsentry", "alloc_noncontiguous"),
         ("opsentry", "free_noncontiguous")],
    "Documentation/core-api/dma-api.rst":
        [("docsection", "dma_alloc_noncontiguous")],
}

# files that must not mention the API at all afterwards
MUST_BE_CLEAN = ["kernel/dma/mapping.c", "include/linux/dma-mapping.h",
                 "include/linux/dma-map-ops.h"]


class Mismatch(Exception):
    pass


def end_of_block(lines, start):
    """Index of the line holding the '}' that closes a block opened at or
    after @start (brace counting; fine for the kernel's style)."""
    depth = 0
    seen = False
    for i in range(start, len(lines)):
        depth += lines[i].count("{") - lines[i].count("}")
        seen = seen or "{" in lines[i]
        if seen and depth == 0:
            return i
    raise Mismatch(f"unbalanced braces after line {start + 1}")


def end_of_statement(lines, start):
    for i in range(start, len(lines)):
        if lines[i].rstrip().endswith(";"):
            return i
    raise Mismatch(f"no ';' after line {start + 1}")


def head_start(lines, i):
    """A definition's return type may sit on the line above its name."""
    if i > 0 and re.match(r"^(static\s+)?[\w\s\*]+$", lines[i - 1]) \
            and lines[i - 1].strip() and not lines[i - 1].startswith((" ", "\t")) \
            and not lines[i - 1].rstrip().endswith((";", "}", "{", "*/")):
        return i - 1
    return i


def find(lines, pattern, what):
    rx = re.compile(pattern)
    hits = [i for i, l in enumerate(lines) if rx.search(l)]
    return hits


def drop_func(lines, name):
    hits = find(lines, rf"^(static\s+)?[\w\s\*]*\b{name}\(", name)
    hits = [i for i in hits if not lines[end_of_statement_or_brace(lines, i)].rstrip().endswith(";")]
    if len(hits) != 1:
        return None
    start = head_start(lines, hits[0])
    end = end_of_block(lines, hits[0])
    if end + 1 < len(lines) and re.match(rf"^EXPORT_SYMBOL(_GPL)?\({name}\);", lines[end + 1]):
        end += 1
    return start, end


def end_of_statement_or_brace(lines, start):
    for i in range(start, len(lines)):
        s = lines[i].rstrip()
        if s.endswith(";") or s.endswith("{") or s == "{":
            return i
    return start


def drop_proto(lines, name):
    hits = [i for i in find(lines, rf"^[\w\s\*]*\b{name}\(", name)
            if not lines[i].startswith("static inline")]
    hits = [i for i in hits if lines[end_of_statement_or_brace(lines, i)].rstrip().endswith(";")]
    if len(hits) != 1:
        return None
    return hits[0], end_of_statement(lines, hits[0])


def drop_inline(lines, name):
    hits = find(lines, rf"^static inline [\w\s\*]*\b{name}\(", name)
    if len(hits) != 1:
        return None
    return hits[0], end_of_block(lines, hits[0])


def drop_member(lines, name):
    hits = find(lines, rf"^\t[\w\s\*]*\(\*{name}\)\(", name)
    if len(hits) != 1:
        return None
    return hits[0], end_of_statement(lines, hits[0])


def drop_struct(lines, name):
    hits = find(lines, rf"^struct {name} \{{", name)
    if len(hits) != 1:
        return None
    start, end = hits[0], end_of_block(lines, hits[0])
    # the block comment right above the struct describes it: it goes too
    if start > 0 and lines[start - 1].strip() == "*/":
        j = start - 1
        while j > 0 and not lines[j].startswith("/*"):
            j -= 1
        start = j
    return start, end


def drop_macro(lines, name):
    hits = find(lines, rf"^#define {name}\(", name)
    if len(hits) != 1:
        return None
    end = hits[0]
    while lines[end].rstrip().endswith("\\"):
        end += 1
    return hits[0], end


def drop_opsentry(lines, name):
    hits = find(lines, rf"^\t\.{name}\s*=", name)
    if len(hits) != 1:
        return None
    return hits[0], hits[0]


def drop_docsection(lines, name):
    """From the '::' that introduces the first call's prototype up to the
    '::' that introduces the first prototype after the last call."""
    first = find(lines, rf"^\t{name}\(", name)
    last = find(lines, r"^\tdma_mmap_noncontiguous\(", name)
    if len(first) != 1 or len(last) != 1:
        return None
    start = first[0]
    while start > 0 and lines[start].strip() != "::":
        start -= 1
    end = last[0] + 1
    while end < len(lines) and lines[end].strip() != "::":
        end += 1
    if end >= len(lines):
        raise Mismatch("no prototype block after dma_mmap_noncontiguous in the docs")
    return start, end - 1


KINDS = {"func": drop_func, "proto": drop_proto, "inline": drop_inline,
         "member": drop_member, "struct": drop_struct, "macro": drop_macro,
         "opsentry": drop_opsentry, "docsection": drop_docsection}


def strip_file(path, items):
    lines = path.read_text().split("\n")
    spans, missing = [], []
    for kind, name in items:
        span = KINDS[kind](lines, name)
        if span is None:
            missing.append(f"{kind} {name}")
        else:
            spans.append(span)
    if missing and len(missing) < len(items):
        raise Mismatch(f"{path}: found only part of upstream's API; "
                       f"missing: {', '.join(missing)}")
    if missing:
        return False
    for start, end in sorted(spans, reverse=True):
        # a blank line left between two neighbours of the removed block
        if end + 1 < len(lines) and lines[end + 1] == "" and \
                start > 0 and lines[start - 1] == "":
            end += 1
        del lines[start:end + 1]
    path.write_text("\n".join(lines))
    return True


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip())
    tree = Path(sys.argv[1])
    if not (tree / "kernel/dma/mapping.c").is_file():
        sys.exit(f"base: {tree} is not a Linux source tree "
                 "(expected kernel/dma/mapping.c)")
    try:
        changed = [str(f) for f, items in WORK.items()
                   if strip_file(tree / f, items)]
    except Mismatch as e:
        sys.exit(f"base: the tree does not look like Linux 6.1 with upstream's "
                 f"noncontiguous API: {e}")
    for f in MUST_BE_CLEAN:
        if "noncontiguous" in (tree / f).read_text():
            sys.exit(f"base: {f} still mentions 'noncontiguous' after the "
                     f"base step; expected every use removed")
    iommu = (tree / "drivers/iommu/dma-iommu.c").read_text()
    if "__iommu_dma_alloc_noncontiguous(" not in iommu:
        sys.exit("base: drivers/iommu/dma-iommu.c lacks "
                 "__iommu_dma_alloc_noncontiguous(), which the base keeps")
    if re.search(r"(?<!_)iommu_dma_(alloc|free)_noncontiguous\(", iommu):
        sys.exit("base: dma-iommu.c still holds the noncontiguous methods")
    print("base: removed upstream's noncontiguous API from " +
          (", ".join(changed) if changed else "nothing (already removed)"))


if __name__ == "__main__":
    main()
