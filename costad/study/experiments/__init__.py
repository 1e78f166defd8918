"""The experiments, one module each (docs/design.md section 4).

Every module here (except names starting with ``_``) is an experiment, found by
`costad.study.registry`; what a module declares is described there. Adding an experiment is
adding a module here and its thin script in the repository's ``experiments/`` folder.
"""

__all__: list[str] = []
