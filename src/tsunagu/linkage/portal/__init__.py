"""The person's side of the linkage: やりとり履歴, inclusion proofs and 自己情報 (pages under ``/my``)."""
