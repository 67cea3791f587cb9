// Decontamination: placeholder until the module lands.
