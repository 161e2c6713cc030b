"""The `app.kubernetes.io/managed-by` label every Kubernetes object of tenantguard carries."""

from __future__ import annotations

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "tenantguard"
