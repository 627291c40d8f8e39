"""Training scripts that tests/test_diagnose_scripts.py runs through diagnose (a package, so
its conftest does not take the name of tests/conftest.py)."""
