"""The scripts here are training programs run by tests/test_diagnose_scripts.py, not test modules:
pytest must not import them (``--doctest-modules`` would, and each would train on import)."""

collect_ignore_glob = ["*.py"]
