"""Topic classification: models (`models`), the archive (`store`), evaluation data sets (`evaluate`)."""
