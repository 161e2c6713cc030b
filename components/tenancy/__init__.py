"""Tenancy: Tenant and Project, their spec models and rules, and the pure builders of a
project's namespace, RBAC, quota, limits, network policies and kubeconfigs."""
