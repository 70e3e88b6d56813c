"""The engine of the conformance harness: how ONE case is run, isolated, compared and recorded.

    eager PyTorch -> torch.export -> run_decompositions -> from_exported_program
                  -> tvm.compile(target) -> relax.VirtualMachine -> compare with eager

Modules: case (the contract with case families), stages (one case in-process), worker and
pool (isolation), compare (the verdict on values), records (results.jsonl), expect
(expected failures), repro (standalone scripts), short_repro (the short form of a repro: the
case in one screen, built from literals (values as source) and calls (a forward's calls spelled
out)), short_verify (runs a run's short repros against its records), runner and cli (commands),
progress (the live bar or periodic lines of a run), converters (where the installed TVM converts
an op), bringup and skeleton (`harness bringup`), issues (confirming bug-report drafts for
`report --issues`), nightly (the CI sequence: `python -m harness.nightly`);
for CUDA, device_compile (kernels through the device compiler, per arch), transfer (values to
and from a device), doctor (what a CUDA run will do here) and smoke (a minute's end-to-end check).
"""
