"""Click commands, one module per area; each module exposes COMMANDS.

Modules here import heavy libraries (numpy, matplotlib) only inside functions.
"""
