"""LLM fundamentals course engine."""
__version__ = "0.1.0"
