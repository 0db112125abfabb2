"""The bottom layer every package may import, and which imports none of them.

``errors`` (the one user-facing error), ``counts`` (the one check of a count), ``threads`` (the
one thread setting), ``writing`` (the one atomic writer and its full-disk line) and ``lazy``
(names loaded on first use). Nothing here imports torch, Lightning, sklearn or Hydra.
"""
