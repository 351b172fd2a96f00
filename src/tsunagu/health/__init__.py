"""The vaccination registry (予防接種記録): doses given to residents, recorded and corrected by health officers."""
