"""HTTP pages of the procedures domain (the back office: ``staff``)."""
