"""Providers of tenantguard: Pulumi dynamic resources for systems without a native provider."""
