"""Grading: sandbox, inputs, comparisons, results."""
