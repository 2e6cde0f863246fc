#!/usr/bin/env python3
"""Keep the kernels' build folders between runs, in the machine's cache.

A fresh clone has an empty build/out, so every kernel of the test command
is built again from ccache: on a slow machine 3 to 4 minutes a kernel, most
of it kbuild's own work for each object (nm, objtool, fixdep, the shells
around them), which ccache does not save.  A folder an earlier run built is
only right here if kbuild, which rebuilds by mtime and command line, sees
every difference between the tree that folder was built from and this one:

  record OUT TOOL...  before a build in OUT (kept once it succeeded): the files of
                      build/linux that differ from 'pristine' with their
                      blobs, the version of each TOOL (compiler, linker),
                      and the clone's path
  save                after the test command: copy every recorded folder of
                      build/out into the cache
  restore             before any build in a clone whose build/out holds no
                      kernel yet: copy the cached folders in, rewrite the
                      earlier clone's path in their text files (kbuild
                      records absolute paths), then date build/linux: a
                      file every restored folder was built from as it is
                      now gets an old mtime, any other file (a blob that
                      differs from the one a folder was built from) the
                      current time, so kbuild rebuilds what depends on it

  redate OUT...       before a build in the folders OUT of a commit other
                      than the one they were last built at (the bisect):
                      date each file the series or a record touches the
                      same way for those folders alone; the files their
                      kernels read as they were built get an old mtime,
                      so a checkout that rewrote a header does not
                      rebuild all that includes it
  redate --others     after such builds: date the tree so again for every
                      folder of build/linux but those whose builder dates
                      the tree itself (NONCONTIG_OWN_DATES=1 when it was
                      built: the bisect's folders for the commits before
                      the series changes a header, which no other stage
                      builds); a folder without a record takes every
                      such file as new

A folder whose tools changed version, or whose last build failed (no
record), is not restored; ccache still serves it.
"""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
BUILD = Path(os.environ.get("NONCONTIG_BUILD", TOP / "build"))
TREE = Path(os.environ.get("NONCONTIG_TREE", BUILD / "linux"))
OUT = BUILD / "out"
CACHE = Path(os.environ.get("NONCONTIG_CACHE", Path.home() / ".cache/noncontig")) / "out"
STATE = ".noncontig-state"
FORMAT = 1
# older than any folder a run builds, so a file dated so never rebuilds one
OLD = time.mktime((2026, 1, 1, 0, 0, 0, 0, 0, 0))


def git(*args, stdin=None):
    return subprocess.run(["git", "-C", str(TREE), *args], input=stdin, check=True,
                          capture_output=True, text=True).stdout


def version(tool):
    try:
        out = subprocess.run([tool, "--version"], capture_output=True, text=True).stdout
    except OSError:
        return None
    return out.splitlines()[0] if out else None


def tree_changes():
    """{path: blob or None (deleted)} of build/linux against 'pristine'."""
    paths = [p for p in git("diff", "--no-renames", "--name-only", "-z", "pristine").split("\0") if p]
    present = [p for p in paths if (TREE / p).is_file()]
    blobs = git("hash-object", "--stdin-paths", stdin="".join(p + "\n" for p in present)).split()
    changes = dict.fromkeys(paths)
    changes.update(zip(present, blobs))
    return changes


def tree_name():
    """build/linux, or where NONCONTIG_TREE points (never restored)"""
    try:
        return str(TREE.relative_to(TOP))
    except ValueError:
        return str(TREE)


def record(out, tools):
    """Written before the build as STATE.new, which build.sh renames to
    STATE once the build succeeded: the tree as the build read it."""
    state = {"format": FORMAT, "top": str(TOP), "tree": tree_name(),
             "tools": {t: version(t) for t in tools}, "files": tree_changes(),
             "own_dates": bool(os.environ.get("NONCONTIG_OWN_DATES"))}
    (Path(out) / (STATE + ".new")).write_text(json.dumps(state, indent=0, sort_keys=True))


def load(folder):
    try:
        state = json.loads((folder / STATE).read_text())
    except (OSError, ValueError):
        return None
    return state if state.get("format") == FORMAT else None


def save():
    CACHE.mkdir(parents=True, exist_ok=True)
    saved = []
    for folder in sorted(OUT.iterdir()) if OUT.is_dir() else []:
        state = load(folder)
        if state is None or state["tree"] != tree_name():
            continue  # a failed build, or another tree's: never restored
        tmp = CACHE / (folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run(["cp", "-a", str(folder), str(tmp)], check=True)
        shutil.rmtree(CACHE / folder.name, ignore_errors=True)
        tmp.rename(CACHE / folder.name)
        saved.append(folder.name)
    print(f"outcache: saved {len(saved)} build folders: {' '.join(saved)}")


def stale_files(states, paths, now):
    """The PATHS whose blob now differs from the one some folder of STATES
    (None: a folder without a record, built from anything) was built from:
    the one its record has, or the pristine one when the record does not
    name it."""
    if None in states:
        return sorted(paths)
    pristine = {}
    listing = git("ls-tree", "-r", "-z", "pristine", "--", *sorted(paths)) if paths else ""
    for entry in filter(None, listing.split("\0")):
        meta, path = entry.split("\t", 1)
        pristine[path] = meta.split()[2]
    return sorted(p for p in paths if any(s["files"].get(p, pristine.get(p)) != now.get(p, pristine.get(p))
                                          for s in states))


def redate(names):
    """Date the files a checkout of another commit can have rewritten for
    the builds in the folders NAMES (or --others, see above): new if some
    folder was built from another blob of it, old otherwise.  The files
    are those any commit after 'pristine' changes and those a record names;
    every other file is the same in every commit and every record."""
    if names == ["--others"]:
        states = []
        for folder in sorted(OUT.iterdir()) if OUT.is_dir() else []:
            if not (folder / ".config").exists():
                continue
            state = load(folder)
            if state is not None and (state["tree"] != tree_name() or state.get("own_dates")):
                continue
            states.append(state)
    else:
        states = [load(OUT / n) for n in names]
    log = git("log", "--format=", "--name-only", "--no-renames", "-z", "HEAD", "--branches", "--not", "pristine")
    paths = {p.strip("\n") for p in log.split("\0")} - {""}
    paths.update(*(s["files"] for s in states if s is not None))
    now = tree_changes()
    paths.update(now)
    stale = set(stale_files(states, paths, now))
    for path in paths:
        if os.path.lexists(TREE / path):
            if path in stale:
                os.utime(TREE / path, follow_symlinks=False)
            else:
                os.utime(TREE / path, (OLD, OLD), follow_symlinks=False)
    subprocess.run(["git", "-C", str(TREE), "update-index", "-q", "--refresh"])
    print(f"outcache: dated {len(paths)} files for {' '.join(names)}: {len(stale)} new")


def rewrite(folder, old, new):
    """Replace the earlier clone's path in the folder's text files, keeping
    their mtimes (a generated header rewritten now would rebuild all that
    includes it)."""
    hits = subprocess.run(["grep", "-rlIZF", "--", old, str(folder)],
                          capture_output=True).stdout.split(b"\0")
    for name in filter(None, hits):
        st = os.stat(name, follow_symlinks=False)
        if not os.path.isfile(name) or os.path.islink(name):
            continue
        data = Path(os.fsdecode(name)).read_bytes()
        Path(os.fsdecode(name)).write_bytes(data.replace(old.encode(), new.encode()))
        os.utime(name, ns=(st.st_atime_ns, st.st_mtime_ns))


def restore():
    if not CACHE.is_dir():
        print("outcache: nothing cached")
        return
    if OUT.is_dir() and any((f / ".config").exists() for f in OUT.iterdir()):
        # dating the tree anew could hide a change from a folder built here
        print("outcache: build/out already has kernels; nothing restored")
        return
    tree = tree_name()
    restored, skipped = [], []
    for folder in sorted(CACHE.iterdir()):
        state = load(folder)
        if state is None or folder.name.endswith(".tmp"):
            continue
        why = None
        if state["tree"] != tree:
            why = "another tree"
        else:
            for tool, ver in state["tools"].items():
                if version(tool) != ver:
                    why = f"{tool} is not {ver}"
        if why:
            skipped.append(f"{folder.name} ({why})")
            continue
        restored.append((folder.name, state))
    if not restored:
        print(f"outcache: nothing to restore; skipped {', '.join(skipped) or 'none'}")
        return
    now = tree_changes()
    # a folder that the bisect dates the tree for before each build of it
    # is left out: counting its files (another commit's) would date
    # headers new for every other folder
    dated = [s for _, s in restored if not s.get("own_dates")]
    paths = set(now).union(*(s["files"] for s in dated))
    stale = stale_files(dated, paths, now)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, state in restored:
        shutil.rmtree(OUT / name, ignore_errors=True)
        subprocess.run(["cp", "-a", str(CACHE / name), str(OUT / name)], check=True)
        if state["top"] != str(TOP):
            rewrite(OUT / name, state["top"] + "/", str(TOP) + "/")
    files = git("ls-files", "-z").split("\0")
    for path in filter(None, files):
        try:
            os.utime(TREE / path, (OLD, OLD), follow_symlinks=False)
        except FileNotFoundError:
            pass  # deleted in the work tree: nothing to date
    for path in stale:
        if os.path.lexists(TREE / path):
            os.utime(TREE / path, follow_symlinks=False)
    # git's index holds the old mtimes; hash the tree once now, not in the
    # middle of the first check that asks git for its status
    subprocess.run(["git", "-C", str(TREE), "update-index", "-q", "--refresh"])
    print(f"outcache: restored {len(restored)} build folders ({' '.join(n for n, _ in restored)}); "
          f"{len(stale)} files differ from what they were built from"
          + (f"; skipped {', '.join(skipped)}" if skipped else ""))


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "record" and len(sys.argv) >= 3:
        record(sys.argv[2], sys.argv[3:])
    elif cmd == "save":
        save()
    elif cmd == "restore":
        restore()
    elif cmd == "redate" and len(sys.argv) >= 3:
        redate(sys.argv[2:])
    else:
        sys.exit("usage: outcache.py record OUT TOOL... | save | restore | redate OUT...|--others")


if __name__ == "__main__":
    main()
