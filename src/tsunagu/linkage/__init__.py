"""Once-only data exchange (情報提供ネットワーク): agencies, per-agency codes (符号), the legal-basis table (別表),
signed exchanges through the hub, and the verifiable exchange log."""
