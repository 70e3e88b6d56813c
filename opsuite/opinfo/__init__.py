"""OpInfo sample inputs as the `opinfo` case family.

    cases.py     screened samples -> cases (ids `opinfo.<entry>[<dtype>-s<index>]`), the quick
                 selection, the entries without cases and why
    screen.py    `python -m opsuite.opinfo.screen`: which samples can be cases at all, committed
                 as screen.json (minutes of torch only; no TVM verdicts)
    screen.json  the screen's outcome

The program factory (opsuite/standalone/opinfo_programs.py) and the checks for random and
uninitialised outputs live with the other modules a repro embeds.
"""
