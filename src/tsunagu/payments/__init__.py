"""Public-fund receiving accounts and benefit payments (公金受取口座, 給付): see README.md when it lands."""
