"""Illumio on the cluster side: onboarding (PCE cluster, pairing, Kubelink Helm release),
the shared label registry, and the Kubelink chart values."""
