"""Deploy-time generators: everything in ``infra/`` that is derived from the code.

The remediation registry declares IAM permissions and the parser registry declares which
EventBridge events it understands; the deployment must follow both, never drift from them.
``python -m bot.deploy.generate`` rewrites the generated files in ``infra/``;
``python -m bot.deploy.generate --check`` (and ``tests/infra``) fail when one is stale.

Nothing here is imported at Lambda run time; the artifact builder leaves this package out.
"""
