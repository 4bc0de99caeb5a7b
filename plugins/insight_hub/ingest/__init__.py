"""Write-audit-publish loading: stage a batch, check it, then publish it in one transaction."""
