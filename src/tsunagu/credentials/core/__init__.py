"""Pure credential rules: SMART Health Card bundles, signing, QR text and verification. No I/O."""
