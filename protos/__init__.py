"""The agent ⇄ collector contract: `.proto` sources and their generated modules.

Regenerate with `python -m protos.generate`; a test fails when the committed
modules differ from what `grpc_tools.protoc` produces.
"""
