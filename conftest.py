# Cases of opsuite/ and models/ are collected as pytest items by the harness's plugin.
pytest_plugins = ["harness.pytest_plugin"]
