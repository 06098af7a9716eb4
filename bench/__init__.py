"""Benchmarks: every figure is measured side by side with its baseline in the same run."""
