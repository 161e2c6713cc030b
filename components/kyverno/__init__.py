"""Kyverno: the pinned Helm release, its values, and the registration of the policy
library's rendered policies (the library itself is `components.policies`)."""
