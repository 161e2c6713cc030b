"""The tenantguard Pulumi program (`pulumi up` runs this): see `tenantguard.program`."""

from tenantguard.program import main

main()
