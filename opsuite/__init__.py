"""What to test per aten op: the op table, hypothesis strategies, dynamic shapes."""


def cases(profile: str, seed: int):
    return []
