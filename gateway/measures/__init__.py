"""Control measures: freeze, renew, unfreeze, deduct, seal up, release, freeze equity.

Each is a legal act ordered of an agency under a case (gateway.measures.service),
checked against the law's limits (gateway.measures.limits) and the policies'
``control`` action, stored (gateway.measures.store), followed until the agency
reports it executed (gateway.measures.refresh) and audited at every step.
"""
