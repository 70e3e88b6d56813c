"""The worker's cache of torch's CompositeImplicitAutograd op set changes no decomposition."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import json, torch
    from harness import decompose_cache

    class Many(torch.nn.Module):
        def forward(self, x, y):
            a = torch.nn.functional.silu(x) + torch.nn.functional.gelu(y)
            b = torch.linalg.vector_norm(a, dim=-1, keepdim=True)
            return torch.nn.functional.layer_norm(a / b, a.shape[-1:]), torch.addcmul(x, y, a).cumsum(0)

    def graph():
        ep = torch.export.export(Many(), (torch.randn(3, 4), torch.randn(3, 4)))
        return str(ep.run_decompositions().graph)

    def cia():
        from torch._export import utils
        return utils._collect_all_valid_cia_ops()

    before = graph(), sorted(map(str, cia()))
    assert decompose_cache.install()
    after = graph(), sorted(map(str, cia()))
    again = graph()
    # A new op with a CompositeImplicitAutograd kernel must show up: the cache follows registrations.
    lib = torch.library.Library("harness_cache_probe", "DEF")
    lib.define("twice(Tensor x) -> Tensor")
    lib.impl("twice", lambda x: x + x, "CompositeImplicitAutograd")
    probe = any("harness_cache_probe" in str(op) for op in cia())
    print(json.dumps({"graphs": before[0] == after[0] == again, "ops": before[1] == after[1], "probe": probe,
                      "cached": getattr(__import__("torch._export.utils").
                                        _export.utils._collect_all_valid_cia_ops, "harness_cached", False)}))
''')


def test_cached_op_set_gives_the_same_graphs_and_follows_new_ops():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    result = out.stdout.strip().splitlines()[-1]
    assert result == '{"graphs": true, "ops": true, "probe": true, "cached": true}', out.stderr[-2000:]
