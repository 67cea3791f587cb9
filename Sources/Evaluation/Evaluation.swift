// Evaluation: placeholder until the module lands.
