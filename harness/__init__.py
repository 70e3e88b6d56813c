"""The engine of the conformance harness: how ONE case is run, isolated, compared and recorded.

    eager PyTorch -> torch.export -> run_decompositions -> from_exported_program
                  -> tvm.compile(target) -> relax.VirtualMachine -> compare with eager

Modules: case (the contract with case families), stages (one case in-process), worker and
pool (isolation), compare (the verdict on values), records (results.jsonl), expect
(expected failures), repro (standalone scripts), runner and cli (commands); for CUDA,
device_compile (kernels through the device compiler, per arch), transfer (values to and from
a device), doctor (what a CUDA run will do here) and smoke (a minute's end-to-end check).
"""
