"""The subcommands of ``credgate``, one module per group, each with ``register(subparsers)``."""
