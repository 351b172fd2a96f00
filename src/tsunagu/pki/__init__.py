"""Trust services (公的個人認証サービス): certificate authorities, certificates, CRLs and the status service."""
