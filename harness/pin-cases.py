#!/usr/bin/env python3
"""Write the case names a KUnit boot ran, for judge-log.py to hold the
boot to: config/kunit-cases/LABEL, one 'suite.case' a line.

Usage: pin-cases.py LOG LABEL [MARKER]

Take them from a boot whose log judge-log.py passed on everything else
(after a deliberate change to the suite's cases); MARKER as for
judge-log.py (the hardened boot's /init marker).
"""
import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "judge_log", Path(__file__).with_name("judge-log.py"))
judge_log = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(judge_log)

log, label = Path(sys.argv[1]), sys.argv[2]
text = log.read_text(errors="replace")
if len(sys.argv) > 3:
    text = text.split(sys.argv[3], 1)[0]
names = judge_log.case_names(text)
if not names:
    sys.exit(f"no KUnit cases in {log}")
judge_log.CASES.mkdir(parents=True, exist_ok=True)
out = judge_log.CASES / label
out.write_text(f"# {label}: the cases its boot runs, in order (harness/pin-cases.py)\n"
               + "\n".join(names) + "\n")
print(f"{out}: {len(names)} cases")
