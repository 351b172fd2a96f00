"""Pure rules of the payments domain: Zengin bank files, bank kana."""
