"""Diagnostic playbooks: one YAML file per playbook, with the TextFSM templates they parse with.

The format is described in README.md; `playbooks.library` loads and
validates the files and is what the agent, the collector and the CLI use.
"""

from pathlib import Path

SHIPPED = Path(__file__).resolve().parent
