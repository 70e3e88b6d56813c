"""Modules a repro script embeds verbatim: program factories and property checks.

A repro rebuilds its case with the very code the harness ran, so each of these imports only
the standard library and torch (torchvision where it must): tests/test_standalone.py checks it.

    metadata_programs.py   aten._assert_tensor_metadata, whose own output is None
    vision_programs.py     torchvision's ops (torch.ops.torchvision.*)
    opinfo_programs.py     an OpInfo sample, rebuilt from (entry, variant, dtype, index, seed)
    properties.py          random samplers (support and moments) and uninitialised memory
    dropout_properties.py  dropout in training mode
    order_properties.py    topk with sorted=False
    opinfo_checks.py       OpInfo's random ops

The op table's default factory is harness/programs.py (torch only, too); the dynamic-shape
programs' is opsuite/dynamic/modules.py, the zoo's models/build.py.
"""
