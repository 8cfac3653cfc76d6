"""Conformance tests measure badger against the standards data in ``shared/spec``.

That folder sits beside the repository (it is not part of the project); point
``BADGER_SPEC_DIR`` at another copy if needed.  Without it these tests skip
(the ``spec_dir`` fixture lives in ``tests/conftest.py``).
"""
