"""Shared web infrastructure (no domain imports): context, i18n, security headers, CSRF, access guard, errors."""
