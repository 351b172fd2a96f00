"""Law review for the digital principles (法令のデジタル原則適合性点検): parse the standard law XML, diff versions."""
