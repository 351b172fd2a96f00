"""My Number cards (マイナンバーカード) and their chip: issue, reissue, loss, suspension, PINs, signing."""
