"""The Cedar field policies shipped with credgate (data only, no code).

``schema.cedarschema`` and one ``<agency kind>.cedar`` per agency kind, plus
``gateway.cedar``. This directory is a package only so that the wheel installs
it next to the ``gateway`` package, where ``gateway.policy.DEFAULT_POLICY_DIR``
looks for it; deployments point ``[policies] dir`` at their own copy.
"""
